"""branchbook: per-branch bank reports from parameterised notebooks."""

__version__ = "0.1.0"

REPORTS = ("segmentation", "risk", "satisfaction", "staff_kpi")


def run(**kwargs):
    """Run reports for a period; the same as the ``branchbook run`` command.

    See :func:`branchbook.runner.orchestrate.run` for the arguments.
    """
    from .runner.orchestrate import run as _run

    return _run(**kwargs)
