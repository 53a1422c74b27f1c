"""Fixtures shared by the report and browser tests."""

from tests.reports.fixtures import _report, report, report_dir

__all__ = ["_report", "report", "report_dir"]
