"""codistill.evaluate."""
