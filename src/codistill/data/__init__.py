"""codistill.data."""
