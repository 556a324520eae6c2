"""Hot code on one large frame-stack chunk: CPython 3.11 and 3.12's chunk churn avoided.

CPython 3.11 and 3.12 keep Python frames on a stack made of 16 KiB chunks, and free a
chunk as soon as the frame at its start returns. Code that calls in a loop at the depth
where one chunk ends (WeasyPrint's layout, matplotlib's draw, pandas) maps a new chunk,
faults its pages in and unmaps it again on every call: CPython issue gh-142183, fixed in
3.13 and 3.14 by keeping one spare chunk. :func:`call_with_deep_stack` runs a function
with one large chunk under it instead; see there.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable
from typing import Any, TypeVar

from . import enabled

T = TypeVar("T")

# Frame-stack slots reserved by call_with_deep_stack's frame: 65,600 slots (8 bytes each,
# 525 KB) make CPython map a 1 MiB chunk (the next power of two with its margin), leaving
# about 500 KiB for the frames called from it: 30 times the usual 16 KiB chunk.
STACK_SLOTS = 65_600


def _call(function, args, kwargs):
    return function(*args, **kwargs)


if sys.version_info >= (3, 11):
    # The same function with a frame that declares STACK_SLOTS of evaluation stack. Stack
    # slots, unlike locals, are not initialised when the frame is pushed: only the pages
    # the callees use are ever touched.
    _deep_call = types.FunctionType(
        _call.__code__.replace(co_stacksize=STACK_SLOTS), _call.__globals__, "_deep_call"
    )
else:  # frames are heap objects before 3.11: nothing to do
    _deep_call = _call


def call_with_deep_stack(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``function(*args, **kwargs)`` with about 500 KiB of frame stack in one chunk.

    Every frame called from it, to any depth that fits, lives in that chunk, which stays
    mapped until ``function`` returns: no chunk is mapped and unmapped per call. For the
    whole life of a process that runs hot Python code (a forked kernel or renderer).
    Measured on a forked renderer making an 18-page risk PDF (CPython 3.11): 58,000 page
    faults and 0.28 s of system time without, 28,000 and 0.09 s with; the same bytes.
    With the speedups off, a plain call.
    """
    return (_deep_call if enabled() else _call)(function, args, kwargs)
