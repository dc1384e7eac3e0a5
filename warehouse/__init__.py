"""Warehouse: the DuckDB file, its raw schema and the idempotent loads into it."""
