"""Utilisation metrics: pulled from a Prometheus HTTP API (``prom.py``, batched query_range),
imported from CSV (``csv_import.py``), kept per server next to the state (``store.py``), with
the metric names and labels as settings (``settings.py``, node_exporter names by default)."""
