"""Churn early warning (客户流失预警): the probability that a customer active now churns
in the next ``horizon`` months, and why.

The event is the report's one churn (:func:`.prepare._steps_sql`, the monthly churn
KPI's): the relationship closed, or AUM below the floor for the set number of months in
a row. A bank-wide logistic regression is fitted once in prepare on the customers active
at the development months' ends, with the event seen over the following ``horizon``
months, then validated out of time on the customers active at a later month
(``horizon`` months before the period, so its outcomes are known and never overlap the
development outcomes): AUC with DeLong's interval, KS, calibration by band with an exact
binomial test (:mod:`branchbook.stats.measures`). The same model scores the customers
active at the period's end.

The development months' churn rate need not be the later months': the model's log-odds
are recalibrated (Platt scaling, :func:`recalibrate`: ``logit p = a + b x log-odds``)
on a calibration window after the development months and before the validation month,
so the validation stays out of time and out of sample. The probabilities are used (the
list's threshold, the lifetime value's retention) only when the validation sample
rejects no band's calibration (:func:`calibrated`).

Features (:data:`FEATURES`) are read from what every report already prepares: AUM on the
bank's balance basis and its three-month trend, transactions in the last three months
and their trend by channel group, products held, tenure, complaints and the last survey
answer in the last twelve months, loans outstanding or not, AUM below the churn floor or
not. The balance's size and trend enter as linear splines (:data:`KNOTS`): their effect
on the log-odds is not a straight line, and a straight line mis-states the probabilities
at both ends (on the demo the out-of-time calibration test rejected it). A reason is a feature's contribution to the log-odds,
``coef x (value - mean of the development sample)``: the largest positive ones say what
raises the customer's risk above the average customer's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..metrics import ratio
from ..stats.measures import auc_ci, calibration_bands, ks, ranks_better_than_chance

DIGITAL = ("mobile", "online")
"""Transaction channels counted as digital; the others (counter, ATM, POS) as in person."""

FEATURES: tuple[str, ...] = (
    "aum_log",
    "aum_trend",
    "txn_recent",
    "digital_trend",
    "branch_trend",
    "products_held",
    "tenure_years",
    "complaints_12m",
    "dissatisfied",
    "has_loan",
    "below_floor",
)
"""The model's features (each computed by :func:`features`)."""

KNOTS: dict[str, tuple[float, ...]] = {
    "aum_trend": (-0.6, -0.3, -0.15, 0.0, 0.15),
    "aum_log": (3.0, 3.5, 4.0, 5.0),
    "tenure_years": (0.5, 1.0, 2.0),
}
"""Where the log-odds of a feature may bend (a linear spline: the feature plus one
``max(0, value - knot)`` column per knot, ``<feature>_k1``, ``_k2``, ...). A straight line
does not fit these: a balance run down before leaving raises the risk steeply while a
rising one does not lower it below the base rate (new customers ramping up still
leave), and a line through both extrapolates to probabilities of 1e-20 for growing
balances; balance size matters near the churn floor (1,000 = 10**3) and little above
100,000; the first months after opening carry their own risk (an account opened and
never funded churns by the floor rule). Knots at round values, not fitted."""

EXPECTED_SIGN: dict[str, int] = {
    "aum_trend": -1,
    "txn_recent": -1,
    "digital_trend": -1,
    "branch_trend": -1,
    "products_held": -1,
    "tenure_years": -1,
    "complaints_12m": 1,
    "dissatisfied": 1,
    "has_loan": -1,
    "below_floor": 1,
}
"""Which way a feature is expected to move the risk of leaving (+1: more of it, more
risk). A feature whose fitted coefficient runs the other way (on the demo, being
dissatisfied at the last survey came out as lowering the risk) still scores, but gives
no reason: "not dissatisfied at the last survey" is not a reason a manager can act on.
A reason is given only on the expected side (``.low`` for -1, ``.high`` for +1), which
for a straight line is the same as its coefficient running the expected way, and for a
spline (:data:`KNOTS`) keeps e.g. "a long-standing customer" or "assets rising" from
being named as a reason to leave. Features not named here (the balance's size) give
reasons either way."""

TREND_OFFSET = 1_000.0
"""Added to both AUM before their ratio is taken, so a balance near 0 does not explode the trend."""

REASONS = 3
"""At most this many reasons per customer."""


def _log_ratio(now, before, offset: float) -> np.ndarray:
    now = np.clip(np.asarray(now, dtype=float), 0, None)
    before = np.clip(np.asarray(before, dtype=float), 0, None)
    return np.log((now + offset) / (before + offset))


def spline_columns(x: pd.DataFrame, knots: dict[str, tuple[float, ...]] = KNOTS) -> pd.DataFrame:
    """``x`` with, for each feature of ``knots`` in it, one column ``max(0, value - knot)``
    per knot (``<feature>_k1``, ...): the log-odds linear in the feature between knots.

    >>> spline_columns(pd.DataFrame({"f": [-1.0, 0.5, 2.0]}), {"f": (0.0, 1.0)}).values.tolist()
    [[-1.0, 0.0, 0.0], [0.5, 0.5, 0.0], [2.0, 2.0, 1.0]]
    """
    extra = {
        f"{f}_k{i}": np.maximum(x[f].to_numpy(float) - k, 0.0)
        for f, ks in knots.items()
        if f in x.columns
        for i, k in enumerate(ks, start=1)
    }
    return x.assign(**extra)


def source_feature(column: str) -> str:
    """The feature a model column belongs to: ``aum_trend_k2`` -> ``aum_trend``."""
    base, _, k = column.rpartition("_k")
    return base if base in KNOTS and k.isdigit() else column


def features(
    raw: pd.DataFrame, *, dissatisfied_below: float, floor: float = 1_000.0
) -> pd.DataFrame:
    """The model's features from one row per customer and month (``raw``, as prepare
    reads it): ``aum`` and ``aum_before`` (three months earlier, 0 without a row),
    ``dig_recent``/``dig_prior`` and ``phys_recent``/``phys_prior`` (transactions in the
    last three months and the three before, digital and in person), ``products_held``,
    ``tenure_years``, ``complaints_12m`` and ``csat_100`` (last answer in twelve months,
    NaN when not surveyed) and ``loans_outstanding`` (NaN: none).

    - ``aum_log``: log10(1 + AUM);
    - ``aum_trend``: ln((AUM + 1,000) / (AUM three months before + 1,000)), < 0 falling;
    - ``txn_recent``: ln(1 + transactions in the last three months);
    - ``digital_trend``, ``branch_trend``: ln((last three months + 1) / (three before + 1));
    - ``dissatisfied``: 1 when the last answer is below ``dissatisfied_below`` (0-100), else 0
      (not surveyed counts 0);
    - ``has_loan``: 1 with loans outstanding at the month's end;
    - ``below_floor``: 1 when the AUM is below the churn ``floor`` (the first month of
      the run that, kept up, is churn);
    - the spline columns of :data:`KNOTS` (:func:`spline_columns`).

    >>> f = features(pd.DataFrame({"aum": [9000.0], "aum_before": [29000.0],
    ...     "dig_recent": [0], "dig_prior": [5], "phys_recent": [1], "phys_prior": [1],
    ...     "products_held": [2], "tenure_years": [3.5], "complaints_12m": [1],
    ...     "csat_100": [30.0], "loans_outstanding": [None]}), dissatisfied_below=60)
    >>> round(float(f["aum_trend"].iloc[0]), 4), round(float(f["digital_trend"].iloc[0]), 4)
    (-1.0986, -1.7918)
    """
    r = raw
    recent = r["dig_recent"].astype(float) + r["phys_recent"].astype(float)
    loans = pd.to_numeric(r["loans_outstanding"], errors="coerce").fillna(0.0)
    base = pd.DataFrame(
        {
            "aum_log": np.log10(1 + np.clip(r["aum"].astype(float), 0, None)),
            "aum_trend": _log_ratio(r["aum"], r["aum_before"], TREND_OFFSET),
            "txn_recent": np.log1p(recent),
            "digital_trend": _log_ratio(r["dig_recent"], r["dig_prior"], 1.0),
            "branch_trend": _log_ratio(r["phys_recent"], r["phys_prior"], 1.0),
            "products_held": r["products_held"].astype(float),
            "tenure_years": r["tenure_years"].astype(float),
            "complaints_12m": r["complaints_12m"].astype(float),
            "dissatisfied": (r["csat_100"].astype(float) < dissatisfied_below).astype(float),
            "has_loan": (loans > 0).astype(float),
            "below_floor": (r["aum"].astype(float) < floor).astype(float),
        },
        index=raw.index,
    )
    return spline_columns(base)


def churned_within(month: pd.Series, churn_month: pd.Series, horizon: int) -> pd.Series:
    """1 where the first churn after ``month`` falls within ``horizon`` months of it, else
    0 (``'YYYY-MM'`` strings; an empty ``churn_month``: no churn seen)."""

    def idx(s: pd.Series) -> pd.Series:
        t = s.astype("string")
        return t.str[:4].astype(float) * 12 + t.str[5:7].astype(float)

    gap = idx(churn_month.fillna(pd.NA)) - idx(month)
    return ((gap >= 1) & (gap <= horizon)).fillna(False).astype(int)


@dataclass
class ChurnModel:
    """A fitted churn model: the features used, the development sample's means and
    standard deviations, the coefficients per unit of each feature and the intercept."""

    features: list[str]
    mean: np.ndarray
    sd: np.ndarray
    coef: np.ndarray
    intercept: float
    meta: dict = field(default_factory=dict)
    calibration: tuple[float, float] = (0.0, 1.0)
    """``(a, b)`` of :func:`recalibrate`: the probability is ``1 / (1 + exp(-(a + b x
    log-odds)))``; ``(0, 1)`` leaves the development scale as it is."""

    def log_odds(self, x: pd.DataFrame) -> np.ndarray:
        """The development sample's log-odds (the score that ranks the customers)."""
        return self.intercept + (x[self.features].to_numpy(float) - self.mean) @ self.coef

    def predict(self, x: pd.DataFrame) -> np.ndarray:
        """The probability of churning within the horizon, per row of ``x``, on the
        recalibrated scale (:attr:`calibration`)."""
        a, b = self.calibration
        return 1 / (1 + np.exp(-(a + b * self.log_odds(x))))

    def contributions(self, x: pd.DataFrame) -> pd.DataFrame:
        """Per row and feature: ``coef x (value - development mean)``, in log-odds."""
        c = (x[self.features].to_numpy(float) - self.mean) * self.coef
        return pd.DataFrame(c, columns=self.features, index=x.index)

    def table(self) -> pd.DataFrame:
        """``feature, mean, sd, coef`` (per unit of the feature) and a last row
        ``intercept`` (the log-odds at the development means)."""
        rows = pd.DataFrame(
            {"feature": self.features, "mean": self.mean, "sd": self.sd, "coef": self.coef}
        )
        last = pd.DataFrame(
            [{"feature": "intercept", "mean": np.nan, "sd": np.nan, "coef": self.intercept}]
        )
        return pd.concat([rows, last], ignore_index=True)

    @classmethod
    def from_table(cls, table: pd.DataFrame) -> ChurnModel | None:
        """The model back from :meth:`table`; None for an empty table (not fitted)."""
        if table is None or not len(table):
            return None
        rows = table[table["feature"] != "intercept"]
        icpt = float(table.loc[table["feature"] == "intercept", "coef"].iloc[0])
        return cls(
            list(rows["feature"]),
            rows["mean"].to_numpy(float),
            rows["sd"].to_numpy(float),
            rows["coef"].to_numpy(float),
            icpt,
        )


def fit(x: pd.DataFrame, y, *, seed: int = 0) -> ChurnModel:
    """Logistic regression of ``y`` (0/1) on the columns of ``x`` with variation
    (scikit-learn, L2 penalty ``C = 1`` on standardised features, so a feature with a
    rare value cannot run away); coefficients are returned per unit of each feature."""
    from sklearn.linear_model import LogisticRegression

    y = np.asarray(y, dtype=int)
    sd_all = x.std(ddof=0)
    used = [c for c in x.columns if sd_all[c] > 0]
    if not used or y.min() == y.max():
        raise ValueError("a churn model needs features with variation and both outcomes")
    mean = x[used].mean().to_numpy(float)
    sd = x[used].std(ddof=0).to_numpy(float)
    z = (x[used].to_numpy(float) - mean) / sd
    # converged to the optimum, not to the default tolerance: the same rows read from
    # DuckDB or a database server (sums in another order) must give the same model.
    # Newton steps with the exact Hessian (few columns, many rows): 9 steps where L-BFGS
    # took 400 on the demo (0.9 s against 14 s), 2.5 million rows at 300 branches in
    # seconds where L-BFGS took four minutes; the same penalised likelihood's optimum
    lr = LogisticRegression(
        C=1.0, tol=1e-10, max_iter=200, solver="newton-cholesky", random_state=seed
    ).fit(z, y)
    coef = lr.coef_[0] / sd
    # the intercept at the development means: z = 0 there
    return ChurnModel(used, mean, sd, coef, float(lr.intercept_[0]))


def recalibrate(y, log_odds, *, max_iter: int = 50) -> tuple[float, float]:
    """Platt scaling: ``(a, b)`` maximising the binomial likelihood of ``y`` (0/1) with
    ``logit p = a + b x log_odds`` (Newton-Raphson on the two parameters). Where the
    log-odds do not vary only the intercept is fitted (``b = 1``: the log-odds shifted,
    calibration in the large). NaN for both without an event or without a non-event
    (no finite fit).

    Two values of the log-odds fit each group's observed rate exactly: with log-odds 0
    (1 churner in 4) and 1 (2 in 4), ``a = logit 0.25 = -ln 3``, ``b = logit 0.5 -
    logit 0.25 = ln 3``:

    >>> a, b = recalibrate([1, 0, 0, 0, 1, 1, 0, 0], [0, 0, 0, 0, 1, 1, 1, 1])
    >>> round(a, 6), round(b, 6)
    (-1.098612, 1.098612)
    """
    y = np.asarray(y, dtype=float)
    x = np.asarray(log_odds, dtype=float)
    k = y.sum()
    if not len(y) or k == 0 or k == len(y):
        return math.nan, math.nan
    slope = bool(np.ptp(x) > 0)
    design = np.column_stack([np.ones_like(x), x]) if slope else np.ones((len(x), 1))
    offset = np.zeros_like(x) if slope else x
    # from the fitted scale itself (a = 0, b = 1); a step that lowers the likelihood is halved
    beta = np.array([0.0, 1.0]) if slope else np.array([0.0])

    def loglik(beta: np.ndarray) -> float:
        eta = offset + design @ beta
        return float(np.sum(y * eta - np.logaddexp(0.0, eta)))

    for _ in range(max_iter):
        p = 1 / (1 + np.exp(-(offset + design @ beta)))
        w = p * (1 - p)
        step = np.linalg.solve(design.T @ (design * w[:, None]), design.T @ (y - p))
        now = loglik(beta)
        while loglik(beta + step) < now and np.max(np.abs(step)) > 1e-12:
            step = step / 2
        beta = beta + step
        if np.max(np.abs(step)) < 1e-10:
            break
    return (float(beta[0]), float(beta[1])) if slope else (float(beta[0]), 1.0)


def reasons(model: ChurnModel, x: pd.DataFrame, *, top: int = REASONS) -> pd.DataFrame:
    """Up to ``top`` reasons per row: ``reason_1..top``, each ``"<feature>.high"`` or
    ``"<feature>.low"`` (the value above or below the development mean), the features
    with the largest positive contributions first (a feature's spline columns summed,
    :func:`source_feature`); empty where fewer raise the risk. A feature of
    :data:`EXPECTED_SIGN` gives one only on its expected side."""
    c = model.contributions(x)
    sources = [source_feature(f) for f in model.features]
    names = list(dict.fromkeys(sources))
    arr = c.T.groupby(sources, sort=False).sum().T[names].to_numpy(float, copy=True)
    mean = dict(zip(model.features, model.mean, strict=True))
    vals = x[names].to_numpy(float)
    means = np.array([mean.get(f, np.nan) for f in names])
    expected = np.array([EXPECTED_SIGN.get(f, 0) for f in names])
    above = vals > means
    # a reason only on the feature's expected side (the other side's contribution is 0)
    arr[((expected > 0) & ~above) | ((expected < 0) & above)] = 0.0
    order = np.argsort(-arr, axis=1, kind="stable")
    out = {f"reason_{k + 1}": [""] * len(x) for k in range(top)}
    for i in range(len(x)):
        for k in range(min(top, arr.shape[1])):
            j = order[i, k]
            if not arr[i, j] > 0:
                break
            side = "high" if above[i, j] else "low"
            out[f"reason_{k + 1}"][i] = f"{names[j]}.{side}"
    return pd.DataFrame(out, index=x.index)


VALIDATION_COLUMNS = (
    "dev_customers",
    "dev_events",
    "customers",
    "events",
    "event_rate",
    "predicted_rate",
    "auc",
    "auc_low",
    "auc_high",
    "ks",
)


def validation(
    y, p, *, min_events: int, dev_customers: int = 0, dev_events: int = 0
) -> dict[str, float]:
    """Out-of-time figures of predictions ``p`` against outcomes ``y``: the sample sizes,
    the event rate and the mean prediction, AUC with its DeLong 95% interval and KS, and
    ``sufficient`` (1.0 with at least ``min_events`` events and as many non-events; below
    that the AUC and KS are NaN: too few events to measure).
    """
    y = np.asarray(y, dtype=int)
    p = np.asarray(p, dtype=float)
    n, k = len(y), int(y.sum())
    ok = k >= min_events and n - k >= min_events and bool(np.isfinite(p).all())
    ci = auc_ci(y, p) if ok else {"auc": math.nan, "low": math.nan, "high": math.nan}
    return {
        "dev_customers": float(dev_customers),
        "dev_events": float(dev_events),
        "customers": float(n),
        "events": float(k),
        "event_rate": ratio(k, n),
        "predicted_rate": float(p.mean()) if n else math.nan,
        "auc": ci["auc"],
        "auc_low": ci["low"],
        "auc_high": ci["high"],
        "ks": ks(y, p) if ok else math.nan,
        "sufficient": float(ok),
    }


def usable(val: dict) -> bool:
    """The model may name customers: validated out of time on enough events, with an AUC
    whose 95% interval lies above 0.5 (it ranks better than chance)."""
    return ranks_better_than_chance(val)


CALIBRATION_LEVEL = 0.05
"""A band's calibration is rejected when its exact binomial p-value is below this level
divided by the number of bands (Bonferroni: the level holds for the bands together)."""


def calibrated(
    table: pd.DataFrame,
    *,
    level: float = CALIBRATION_LEVEL,
    tolerance: float = 0.0,
    relative: float = 0.0,
) -> bool:
    """The probabilities may be read as probabilities: the calibration table
    (:func:`calibration`, on the validation sample) has bands and none of them is
    rejected (:func:`rejected_bands`).

    >>> calibrated(pd.DataFrame({"p_value": [0.5, 0.011]}))  # 0.011 < 0.05 / 2: rejected
    False
    >>> calibrated(pd.DataFrame({"p_value": [0.5, 0.03]}))
    True
    """
    if table is None or not len(table):
        return False
    return rejected_bands(table, level=level, tolerance=tolerance, relative=relative) == 0


def rejected_bands(
    table: pd.DataFrame,
    *,
    level: float = CALIBRATION_LEVEL,
    tolerance: float = 0.0,
    relative: float = 0.0,
) -> int:
    """The bands of a calibration table that reject the probabilities: the exact binomial
    p-value below ``level`` divided by the number of bands (or missing), and the
    observed rate off the predicted by more than the larger of ``tolerance`` (absolute)
    and ``relative`` x the predicted rate (a difference beyond chance but too small to
    matter does not reject; with both at 0, the test alone).

    Predicted 0.10%, observed 0.075%, p = 0.00006 (170,000 customers): beyond chance, but
    0.025 pp apart, under 0.1 pp:

    >>> t = pd.DataFrame({"p_value": [6e-5], "predicted": [0.0010], "observed": [0.00075]})
    >>> rejected_bands(t), rejected_bands(t, tolerance=0.001, relative=0.2)
    (1, 0)
    """
    if table is None or not len(table):
        return 0
    p = pd.to_numeric(table["p_value"], errors="coerce")
    beyond_chance = ~(p >= level / len(table))
    if not tolerance and not relative:
        return int(beyond_chance.sum())
    predicted = pd.to_numeric(table["predicted"], errors="coerce")
    gap = (pd.to_numeric(table["observed"], errors="coerce") - predicted).abs()
    material = ~(gap <= np.maximum(tolerance, relative * predicted))
    return int((beyond_chance & material).sum())


def calibration(y, p, *, bands: int = 5) -> pd.DataFrame:
    """Predicted against observed churn by band of predicted probability (equal-count
    bands of ``p``): :func:`branchbook.stats.measures.calibration_bands`."""
    return calibration_bands(y, p, bands=bands)
