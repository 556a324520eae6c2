"""branchbook: per-branch bank reports from parameterised notebooks."""

from . import speedups as _speedups

# First, before anything can import nbformat: jsonschema without its 1 s grammar
# (branchbook.speedups.jsonschema; nothing is imported here, BRANCHBOOK_SPEEDUPS=0 skips it)
_speedups.install("jsonschema")

from .about import __version__  # noqa: E402
from .reports import REPORTS as _DECLARED  # noqa: E402

REPORTS = tuple(_DECLARED)

__all__ = ["REPORTS", "__version__", "run"]


def run(**kwargs):
    """Run reports for a period; the same as the ``branchbook run`` command.

    See :func:`branchbook.runner.orchestrate.run` for the arguments.
    """
    from .runner.orchestrate import run as _run

    return _run(**kwargs)
