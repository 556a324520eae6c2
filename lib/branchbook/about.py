"""What the package is: its version, importable from anywhere below the runner
without importing the package's own ``run`` (``branchbook`` re-exports it). The list of
reports is :data:`branchbook.reports.REPORTS`."""

__version__ = "0.1.0"
