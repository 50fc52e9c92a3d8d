"""Alerts: alert upkeep (the rules themselves are supervision.catalogue)."""
