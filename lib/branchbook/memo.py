"""Results a report asks for many times, made once: remembered for the one frame they
were made from.

A report's notebook calls the same pure function on the same frame many times (the
risk report's bridge rows some seventy times: every table, chart, total and summary
sentence of both bases asks for them). :class:`FrameMemo` keeps what was made from the
last frame it was asked about, by key, and forgets it as soon as it is asked about
another frame. The frame's identity is checked through a weak reference, so a new
frame (the next branch, a test's) never reads what was made from another one, even
one that reuses the old one's memory. The frames are read, never changed in place
(the house style), which is what makes remembering them safe.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Hashable
from typing import Any


class FrameMemo:
    """What was made from one frame, by key: ``memo.get(frame, key, make)``."""

    def __init__(self) -> None:
        self._frame: weakref.ref | None = None
        self._made: dict[Hashable, Any] = {}

    def get(self, frame: Any, key: Hashable, make: Callable[[], Any]) -> Any:
        """``make()`` the first time ``key`` is asked of ``frame``, then the same object
        (the caller must not change it) until another frame is asked about."""
        if self._frame is None or self._frame() is not frame:
            self.clear()
            self._frame = weakref.ref(frame)
        if key not in self._made:
            self._made[key] = make()
        return self._made[key]

    def clear(self) -> None:
        """Forget everything (the tests start each from nothing)."""
        self._frame, self._made = None, {}
