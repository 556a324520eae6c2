"""Tests of the bank-wide k-means clusters: fit, labels, assignment."""

import numpy as np
import pandas as pd
import pytest

from branchbook import segmentation as sg

from .rows import S, two_groups


def test_kmeans_finds_separated_groups_deterministically():
    x = np.array([[0.0, 0.0], [0.0, 0.1], [10.0, 10.0], [10.0, 10.1]])
    c = sg.kmeans(x, 2, seed=7)
    got = sorted(map(tuple, np.round(c, 6)))
    assert got == [(0.0, 0.05), (10.0, 10.05)]
    np.testing.assert_array_equal(c, sg.kmeans(x, 2, seed=7))
    assert len(sg.kmeans(np.ones((3, 2)), 3, seed=1)) == 1  # one distinct row: one centre
    assert sg.kmeans(np.empty((0, 2)), 3, seed=1).shape == (0, 2)


def test_cluster_label_and_trait_edges():
    assert sg.cluster_label(500_000.0, 6.0, S) == "high_value_active"
    assert sg.cluster_label(499_999.99, 5.99, S) == "mid_value_occasional"
    assert sg.cluster_label(50_000.0, 1.0, S) == "mid_value_occasional"
    assert sg.cluster_label(49_999.0, 0.5, S) == "low_value_dormant"
    assert set(sg.CLUSTER_LABELS) >= {"high_value_active", "low_value_dormant"}
    assert sg.cluster_trait(0.4, -0.4) == "typical"
    assert sg.cluster_trait(0.5, -0.5) == "many_products"  # tie: products first
    assert sg.cluster_trait(0.6, 0.7) == "long_tenure"
    assert sg.cluster_trait(-0.8, 0.7) == "few_products"
    assert sg.cluster_trait(0.1, -0.9) == "short_tenure"


def test_fit_and_assign_clusters():
    s = sg.Settings(bank_wide=sg.BankWide(clusters=2))
    c = two_groups()
    clusters = sg.fit_clusters(c, s)
    assert clusters["cluster"].tolist() == [1, 2]  # numbered by falling centre AUM
    assert clusters["label"].tolist() == ["high_value_active", "low_value_dormant"]
    # products 5 vs 1 (mean 3, sd 2): z = +1 / -1; tenure z also +1 / -1: tie -> products
    assert clusters["trait"].tolist() == ["many_products", "few_products"]
    assert clusters["customers"].tolist() == [3, 3]
    assert clusters["customer_share"].tolist() == [0.5, 0.5]
    assert clusters["centre_products"].tolist() == pytest.approx([5.0, 1.0])
    assert clusters["centre_tenure"].tolist() == pytest.approx([100.0, 3.0])
    got = sg.assign_clusters(c, clusters)
    assert got.iloc[:6].tolist() == [1, 2, 1, 2, 1, 2]
    assert got.isna().iloc[6]
    pd.testing.assert_frame_equal(clusters, sg.fit_clusters(c, s))  # same seed, same fit
