"""Request/reply models, one module per serving service."""
