"""Persistence: SQLAlchemy models, engine/session creation and the unit of work."""
