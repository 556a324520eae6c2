"""What the package is: its version and its reports, importable from anywhere below
the runner without importing the package's own ``run`` (``branchbook`` re-exports both)."""

__version__ = "0.1.0"

REPORTS = ("segmentation", "risk", "satisfaction", "staff_kpi")
