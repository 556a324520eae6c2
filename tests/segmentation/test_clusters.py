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


def test_kmeans_is_the_library_fit_on_one_thread_and_finds_the_better_optimum():
    from sklearn.cluster import KMeans

    rng = np.random.default_rng(2)
    # three groups of uneven spread: starts from k-means++ can stop at a local optimum
    x = np.concatenate([rng.normal(m, s, (300, 2)) for m, s in ((0, 1), (4, 0.5), (9, 2))])
    c = sg.kmeans(x, 3, seed=11)
    ref = KMeans(3, n_init=10, max_iter=100, tol=1e-4, random_state=11).fit(x)
    np.testing.assert_allclose(c, ref.cluster_centers_, rtol=1e-9)

    def inertia(centres):
        return ((x[:, None, :] - centres[None]) ** 2).sum(-1).min(1).sum()

    assert inertia(c) == pytest.approx(ref.inertia_, rel=1e-9)
    many = KMeans(3, n_init=50, random_state=0).fit(x)  # many starts: the best fit
    assert inertia(c) <= many.inertia_ * (1 + 1e-9)


def test_kmeans_gives_the_same_bits_whatever_the_threads():
    import sklearn.cluster  # noqa: F401  (threadpoolctl limits only the libraries loaded)
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(4)
    x = rng.normal(size=(6000, 4)) * [1, 2, 0.5, 1] + rng.integers(0, 3, (6000, 1))
    # scikit-learn adds the threads' partial sums in the order they finish: on two
    # threads this data's centres differ in the last bits unless the fit runs on one
    got = []
    for threads in (1, 2):
        with threadpool_limits(limits=threads):
            got.append(sg.kmeans(x, 5, seed=1))
    np.testing.assert_array_equal(got[0], got[1])


def test_nearest_centre_first_on_a_tie():
    x = np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0], [3.1, 0.0]])
    centres = np.array([[0.0, 0.0], [2.0, 0.0]])
    # 1.0 lies as far from both centres: the first wins, as argmin does
    assert sg.clusters._nearest(x, centres).tolist() == [0, 0, 1, 1]


def test_cluster_label_and_trait_edges():
    assert sg.cluster_label(500_000.0, 6.0, S) == "high_value_active"
    assert sg.cluster_label(499_999.99, 5.99, S) == "mid_value_occasional"
    assert sg.cluster_label(50_000.0, 1.0, S) == "mid_value_occasional"
    assert sg.cluster_label(49_999.0, 0.5, S) == "low_value_dormant"
    assert sg.cluster_label(49_999.0, float("nan"), S) == "low_value"  # no transactions
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
    # a bank without transactions: the same groups, named by value alone
    quiet = sg.fit_clusters(c, s, activity=False)
    assert quiet["label"].tolist() == ["high_value", "low_value"]
    assert quiet["cluster"].tolist() == clusters["cluster"].tolist()
