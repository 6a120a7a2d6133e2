"""Cloud drivers: all cloud I/O lives here, behind drivers.base.Driver."""
