"""codistill.sandbox."""
