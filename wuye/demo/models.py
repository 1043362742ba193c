"""demo models."""
