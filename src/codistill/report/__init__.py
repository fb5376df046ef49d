"""codistill.report."""
