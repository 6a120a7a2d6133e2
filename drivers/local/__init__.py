"""The embedded cloud: objects in SQLite, volumes as sparse files holding real bytes."""
