"""codistill.commands."""
