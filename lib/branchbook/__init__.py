"""branchbook: per-branch bank reports from parameterised notebooks."""

from .about import __version__
from .reports import REPORTS as _DECLARED

REPORTS = tuple(_DECLARED)

__all__ = ["REPORTS", "__version__", "run"]


def run(**kwargs):
    """Run reports for a period; the same as the ``branchbook run`` command.

    See :func:`branchbook.runner.orchestrate.run` for the arguments.
    """
    from .runner.orchestrate import run as _run

    return _run(**kwargs)
