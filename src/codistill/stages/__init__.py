"""codistill.stages."""
