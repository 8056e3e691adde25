"""The hand-made county of county.py, for every test of this folder."""

from tests.reports.county import report_county

__all__ = ["report_county"]
