"""codistill: distill a large code model into a small one, and prove the gain by running code."""

__version__ = "0.1.0"
