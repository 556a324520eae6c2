"""k-means clusters of the bank's customers: fitted once per period in :func:`prepare`
over the whole bank, then each branch's customers are assigned to the nearest centre."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..startup import LazyModule
from .settings import Settings
from .tiers import _as_float, open_customers

vq = LazyModule("scipy.cluster.vq")

CLUSTER_FEATURES = ("log_aum", "log_txn_90d", "products_held", "tenure_months")
VALUE_LABELS = ("high_value", "mid_value", "low_value")
ACTIVITY_LABELS = ("active", "occasional", "dormant")
CLUSTER_LABELS = (
    *(f"{v}_{a}" for v in VALUE_LABELS for a in ACTIVITY_LABELS),
    *VALUE_LABELS,  # a bank without transactions: the value alone (no activity measured)
)

CLUSTER_TRAITS = ("many_products", "few_products", "long_tenure", "short_tenure", "typical")


def cluster_features(customers: pd.DataFrame) -> pd.DataFrame:
    """Clustering features: log(1+AUM), log(1+90-day transactions), products, tenure."""
    return pd.DataFrame(
        {
            "log_aum": np.log1p(np.clip(_as_float(customers["aum"]), 0, None)),
            "log_txn_90d": np.log1p(np.clip(_as_float(customers["txn_90d"]), 0, None)),
            "products_held": _as_float(customers["products_held"]),
            "tenure_months": _as_float(customers["tenure_months"]),
        },
        index=customers.index,
    )


def _nearest(x: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Index of each row of ``x`` (rows x features) nearest to ``centres``, the first
    on a tie (scipy's vector quantisation: exact differences, no BLAS expansion)."""
    codes, _ = vq.vq(np.asarray(x, dtype=float), np.asarray(centres, dtype=float))
    return codes


def kmeans(
    x: np.ndarray, k: int, *, seed: int, n_init: int = 10, max_iter: int = 100, tol: float = 1e-4
) -> np.ndarray:
    """Centres of k-means (scikit-learn's ``KMeans``: Lloyd's algorithm, k-means++
    start), best of ``n_init`` runs. Ten starts: on the demo bank four stopped at a local
    optimum (within-cluster sum of squares 47,017.3) that ten and fifty starts both
    improve on (47,016.9).

    ``x`` is rows x features, best standardised. A run stops when the centres move less
    than ``tol`` (scikit-learn's reading: squared shift against the features' mean
    variance), or after ``max_iter`` rounds; an emptied cluster is moved to a far row.
    Deterministic for a given ``seed`` and row order: fitted on one thread, so the sums
    add up in the same order on any machine. Returns fewer than ``k`` centres when
    ``x`` has fewer distinct rows than ``k``; an empty ``x`` gives no centres.
    """
    if len(x) == 0:
        return np.empty((0, x.shape[1]))
    # only when fitting (prepare), not in every process that imports the report
    from sklearn.cluster import KMeans
    from threadpoolctl import threadpool_limits

    x = np.asarray(x, dtype=float)
    k = min(k, len(np.unique(x, axis=0)))
    model = KMeans(k, n_init=n_init, max_iter=max_iter, tol=tol, random_state=seed)
    with threadpool_limits(limits=1):  # after importing KMeans: it limits loaded libraries only
        return model.fit(x).cluster_centers_


def cluster_label(centre_aum: float, centre_txn: float, settings: Settings) -> str:
    """Descriptive key of a cluster from its centre (AUM in CNY, 90-day transactions).

    Value: high_value from the wealth tier's bound, mid_value from the affluent bound,
    else low_value. Activity: active from the medium activity bound, occasional from
    the low bound, else dormant. E.g. ``high_value_active``; a NaN ``centre_txn`` (no
    transactions recorded) gives the value alone, e.g. ``low_value``.
    """
    at, act = settings.asset_tiers, settings.activity_tiers
    value = (
        "high_value"
        if centre_aum >= at.wealth
        else "mid_value"
        if centre_aum >= at.affluent
        else "low_value"
    )
    if np.isnan(centre_txn):
        return value
    activity = (
        "active"
        if centre_txn >= act.medium
        else "occasional"
        if centre_txn >= act.low
        else "dormant"
    )
    return f"{value}_{activity}"


def cluster_trait(products_z: float, tenure_z: float) -> str:
    """Second descriptive key of a cluster: its most distinctive of products and tenure.

    Takes the centre's standardised products held and tenure (bank mean 0, sd 1); the
    one further from 0 names the trait (``many_products`` / ``few_products`` /
    ``long_tenure`` / ``short_tenure``, products first on a tie), ``typical`` when
    both lie within 0.5 sd of the bank's mean.
    """
    if max(abs(products_z), abs(tenure_z)) < 0.5:
        return "typical"
    if abs(products_z) >= abs(tenure_z):
        return "many_products" if products_z > 0 else "few_products"
    return "long_tenure" if tenure_z > 0 else "short_tenure"


def fit_clusters(
    customers: pd.DataFrame, settings: Settings, *, activity: bool = True
) -> pd.DataFrame:
    """k-means clusters of the open customers (whole bank), one row per cluster.

    Features (:func:`cluster_features`) are standardised with the bank's mean and
    standard deviation (a constant feature keeps sd 1); centres are fitted on a seeded
    sample of at most ``bank_wide.cluster_sample`` customers. Clusters are numbered
    1..k by falling centre AUM. Columns: ``cluster``, ``label`` (:func:`cluster_label`),
    ``trait`` (:func:`cluster_trait`), ``customers``,
    ``customer_share`` (bank), ``centre_aum`` (CNY), ``centre_txn_90d``,
    ``centre_products``, ``centre_tenure``, and per feature ``centre_<f>``, ``mean_<f>``,
    ``sd_<f>`` for :func:`assign_clusters`.
    """
    bw = settings.bank_wide
    open_ = open_customers(customers).sort_values("customer_id")
    feats = cluster_features(open_).fillna(0.0)
    x = feats.to_numpy()
    mean = x.mean(axis=0) if len(x) else np.zeros(len(CLUSTER_FEATURES))
    sd = x.std(axis=0) if len(x) else np.ones(len(CLUSTER_FEATURES))
    sd = np.where(sd > 0, sd, 1.0)
    z = (x - mean) / sd
    rng = np.random.default_rng(bw.seed)
    sample = (
        z
        if len(z) <= bw.cluster_sample
        else z[np.sort(rng.choice(len(z), bw.cluster_sample, replace=False))]
    )
    centres = kmeans(sample, bw.clusters, seed=bw.seed) * sd + mean
    centres = centres[np.argsort(-centres[:, 0], kind="stable")]
    out = pd.DataFrame({"cluster": np.arange(1, len(centres) + 1, dtype="int64")})
    for j, f in enumerate(CLUSTER_FEATURES):
        out[f"centre_{f}"] = centres[:, j]
        out[f"mean_{f}"] = mean[j]
        out[f"sd_{f}"] = sd[j]
    out["centre_aum"] = np.expm1(out["centre_log_aum"])
    out["centre_txn_90d"] = np.expm1(out["centre_log_txn_90d"])
    out["centre_products"] = out["centre_products_held"]
    out["centre_tenure"] = out["centre_tenure_months"]
    out["label"] = pd.Series(
        [
            cluster_label(a, t if activity else np.nan, settings)
            for a, t in zip(out["centre_aum"], out["centre_txn_90d"], strict=True)
        ],
        dtype="str",
    )
    out["trait"] = pd.Series(
        [
            cluster_trait((p - mean[2]) / sd[2], (t - mean[3]) / sd[3])
            for p, t in zip(out["centre_products_held"], out["centre_tenure_months"], strict=True)
        ],
        dtype="str",
    )
    assigned = assign_clusters(open_, out)
    counts = assigned.value_counts()
    out["customers"] = out["cluster"].map(counts).fillna(0).astype("int64")
    out["customer_share"] = out["customers"] / len(open_) if len(open_) else np.nan
    return out


def assign_clusters(customers: pd.DataFrame, clusters: pd.DataFrame) -> pd.Series:
    """Cluster (1..k) of each open customer: the nearest saved centre, standardised.

    ``clusters`` is ``bench_segmentation_clusters``; customers not open get <NA>.
    """
    out = pd.Series(pd.NA, index=customers.index, dtype="Int64", name="cluster")
    open_ = customers["open_now"].fillna(False).astype(bool).to_numpy()
    if not open_.any() or clusters.empty:
        return out
    mean = clusters[[f"mean_{f}" for f in CLUSTER_FEATURES]].to_numpy()[0]
    sd = clusters[[f"sd_{f}" for f in CLUSTER_FEATURES]].to_numpy()[0]
    centres = (clusters[[f"centre_{f}" for f in CLUSTER_FEATURES]].to_numpy() - mean) / sd
    x = (cluster_features(customers[open_]).fillna(0.0).to_numpy() - mean) / sd
    out[open_] = clusters["cluster"].to_numpy()[_nearest(x, centres)]
    return out
