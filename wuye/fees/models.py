"""fees models."""
