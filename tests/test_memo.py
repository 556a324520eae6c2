"""FrameMemo: made once per frame and key, never read for another frame."""

import gc

import pandas as pd

from branchbook.memo import FrameMemo


def test_made_once_per_frame_and_key():
    memo, calls = FrameMemo(), []
    frame = pd.DataFrame({"a": [1, 2]})

    def make(key):
        calls.append(key)
        return frame["a"].sum() * key

    assert memo.get(frame, 1, lambda: make(1)) == 3
    assert memo.get(frame, 2, lambda: make(2)) == 6
    assert memo.get(frame, 1, lambda: make(1)) == 3
    assert calls == [1, 2]


def test_another_frame_is_never_read_from_the_last_ones():
    memo = FrameMemo()
    first = pd.DataFrame({"a": [1, 2]})
    assert memo.get(first, "sum", lambda: int(first["a"].sum())) == 3
    equal = pd.DataFrame({"a": [1, 2]})  # equal, but another frame: made again
    assert memo.get(equal, "sum", lambda: -1) == -1
    assert memo.get(first, "sum", lambda: int(first["a"].sum())) == 3  # the first forgotten


def test_a_frame_gone_is_forgotten_even_when_its_memory_is_reused():
    memo = FrameMemo()
    memo.get(pd.DataFrame({"a": [1]}), "k", lambda: "old")
    gc.collect()
    for _ in range(50):  # a new frame may take the old one's address (and id)
        assert memo.get(pd.DataFrame({"a": [2]}), "k", lambda: "new") == "new"
        memo.clear()


def test_clear_forgets():
    memo, frame = FrameMemo(), pd.DataFrame()
    memo.get(frame, "k", lambda: 1)
    memo.clear()
    assert memo.get(frame, "k", lambda: 2) == 2
