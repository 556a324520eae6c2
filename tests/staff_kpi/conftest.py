"""The tiny bank prepared once for the staff KPI tests."""

from __future__ import annotations

import pytest

from branchbook import staff_kpi

from .tiny import SMALL, _tables, make_ctx


@pytest.fixture(scope="session")
def prepared():
    return staff_kpi.prepare(make_ctx(_tables(), SMALL))
