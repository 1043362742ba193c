"""online models."""
