"""The review application's routes, one router per area (``app.create_app`` includes them)."""
