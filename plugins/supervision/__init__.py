"""Supervision data platform: ingestion, rules glue, review application."""
__version__ = "0.1.0"
