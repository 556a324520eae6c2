"""The deep frame stack: arguments, exceptions and results pass; no chunk mapped per call."""

from __future__ import annotations

import resource
import sys

import pytest

from branchbook.speedups import cpython


def test_deep_stack_passes_arguments_and_returns_the_result():
    assert cpython.call_with_deep_stack(lambda a, b=1: (a, b), 2, b=5) == (2, 5)


def test_deep_stack_lets_exceptions_through():
    def fail():
        raise KeyError("0101")

    with pytest.raises(KeyError, match="0101"):
        cpython.call_with_deep_stack(fail)


def _descend(n: int) -> int:
    return 0 if n == 0 else _descend(n - 1) + 1


def _oscillate() -> int:
    """Page faults while calling at every depth from 0 to 400 frames, five times over."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(5):
        for depth in range(400):
            _descend(depth)
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


@pytest.mark.skipif(sys.version_info < (3, 11), reason="frames live on the heap before 3.11")
def test_deep_stack_maps_no_chunk_per_call():
    _oscillate()  # warm: code objects specialised, pools allocated
    inside = cpython.call_with_deep_stack(_oscillate)
    # 400 frames of _descend take more than one 16 KiB chunk: without the deep stack,
    # CPython 3.11 and 3.12 map, fault in and unmap a chunk each time a call crosses
    # into it (thousands of faults); within the deep stack's chunk nothing is mapped.
    assert inside < 100
    if sys.version_info < (3, 13):
        assert _oscillate() > 1_000  # the cost the deep stack exists to avoid
