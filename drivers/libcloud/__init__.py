"""govcloud's driver for EC2-compatible clouds through apache-libcloud.

``driver.py`` maps govcloud's kinds onto EC2 objects (its docstring has the table), ``quirks.py``
holds every fix the stock libcloud EC2 driver needs, ``isolation.py`` checks a target's isolation
(``verify_isolation``), ``backup.py`` writes and reads backups in S3-compatible object storage.
Nothing here is imported unless a workspace uses the libcloud driver (drivers/base.py DRIVERS).
"""
