"""Run reports: self-contained HTML pages with plots, rebuilt from a run folder."""

from codistill.report.run import build_report

__all__ = ["build_report"]
