"""Alerts: the rule catalogue, alert upkeep, notifications glue."""
