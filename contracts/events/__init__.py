"""Event data models, one module per producing service."""
