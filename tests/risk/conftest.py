"""Fixtures of the risk tests: prepare() run once per module on the tiny and the
generated warehouse."""

import pytest

from branchbook import risk
from branchbook.risk import Settings

from .helpers import generated_tables, make_ctx, tiny_tables


@pytest.fixture(scope="package")
def tiny():
    return risk.prepare(make_ctx(tiny_tables()))


@pytest.fixture(scope="package")
def fitted():
    s = Settings.model_validate({"scorecard": {"min_fit_defaults": 5, "min_defaults": 5}})
    return s, risk.prepare(make_ctx(generated_tables(), settings=s))
