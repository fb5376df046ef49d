"""codistill.train."""
