"""The metric catalogue: one declaration per key."""

import pytest

from branchbook.metrics import Metric, declare, get, of_report


def test_declare_once_and_refer():
    m = Metric("test_widgets", "test_report", "int", "high")
    declare(m)
    declare(m)  # the same declaration again is harmless
    assert get("test_widgets") is m
    assert m.additive and m.label_key == "test_report.kpis.test_widgets"
    assert m.definition_key == "test_report.definitions.test_widgets"
    assert m in of_report("test_report")


def test_same_key_twice_differently_is_refused():
    declare(Metric("test_gadgets", "test_report", "pct", "low"))
    with pytest.raises(ValueError, match="declared twice"):
        declare(Metric("test_gadgets", "other_report", "pct", "low"))


def test_unknown_key_names_known_ones():
    with pytest.raises(KeyError, match="expected to be one of"):
        get("no_such_metric")


def test_shares_are_not_additive():
    assert not Metric("test_share", "test_report", "pct", "low").additive
