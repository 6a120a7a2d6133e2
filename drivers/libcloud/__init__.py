"""govcloud's driver for EC2-compatible clouds through apache-libcloud.

``driver.py`` maps govcloud's kinds onto EC2 objects (its docstring has the table and the options)
and dispatches each call to its kind's handler in ``network.py`` (VPCs, route tables, subnets,
internet gateways, security groups, elastic IPs), ``compute.py`` (instances, power) or
``storage.py`` (EBS volumes, attachments); ``connection.py`` holds the credentials, the EC2
connection and error translation, ``common.py`` what those modules share. ``quirks.py`` holds
every fix the stock libcloud EC2 driver needs, ``isolation.py`` checks a target's isolation
(``verify_isolation``, the IsolationChecks mixin), ``backup.py`` writes and reads backups in
S3-compatible object storage.
Nothing here is imported unless a workspace uses the libcloud driver (drivers/base.py DRIVERS).
"""
