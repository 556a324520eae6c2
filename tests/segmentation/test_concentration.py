"""Tests of AUM concentration: Lorenz curve, top-20% share, Gini."""

import math

import pandas as pd
import pytest

from branchbook import segmentation as sg


def test_lorenz_points_interpolation_and_edges():
    got = sg.lorenz(pd.Series([40.0, 10.0, 30.0, 20.0]))
    assert got["customer_share"].tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    # cumulative 0, 10, 30, 60, 100 of 100
    assert got["aum_share"].tolist() == pytest.approx([0.0, 0.1, 0.3, 0.6, 1.0])
    small = sg.lorenz(pd.Series([40.0, 10.0, 30.0, 20.0]), points=3)
    assert small["customer_share"].tolist() == [0.0, 0.5, 1.0]
    assert small["aum_share"].tolist() == pytest.approx([0.0, 0.3, 1.0])
    assert sg.lorenz(pd.Series([], dtype=float)).empty
    assert sg.lorenz(pd.Series([0.0, 0.0]))["aum_share"].isna().all()


def test_top_share_rounds_customers_up():
    assert sg.top_share(pd.Series([10.0, 20.0, 30.0, 40.0])) == pytest.approx(
        0.4
    )  # ceil(0.8)=1: 40/100
    assert sg.top_share(pd.Series([1.0, 2.0, 3.0, 4.0, 5.0])) == pytest.approx(
        5 / 15
    )  # ceil(1.0)=1
    assert sg.top_share(pd.Series([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])) == pytest.approx(
        11 / 21
    )  # 2: 6+5
    assert sg.top_share(pd.Series([5.0])) == 1.0
    assert math.isnan(sg.top_share(pd.Series([], dtype=float)))
    assert math.isnan(sg.top_share(pd.Series([0.0, 0.0])))


def test_gini_values_and_edges():
    assert sg.gini(pd.Series([1.0, 1.0, 1.0, 1.0])) == pytest.approx(0.0)
    # x = 0,0,0,10: 2*(4*10)/(4*10) - 5/4 = 0.75
    assert sg.gini(pd.Series([10.0, 0.0, 0.0, 0.0])) == pytest.approx(0.75)
    # x = 10,20,30,40: sum(i*x) = 10+40+90+160 = 300; 2*300/(4*100) - 5/4 = 0.25
    assert sg.gini(pd.Series([40.0, 10.0, 30.0, 20.0])) == pytest.approx(0.25)
    assert sg.gini(pd.Series([7.0])) == 0.0
    assert math.isnan(sg.gini(pd.Series([], dtype=float)))
    assert math.isnan(sg.gini(pd.Series([0.0, 0.0])))
