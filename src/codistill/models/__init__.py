"""codistill.models."""
