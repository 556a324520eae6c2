"""A general credit scorecard: binned weight-of-evidence features, logistic regression,
points scaled by points-to-double-the-odds; and the measures used to monitor one
(AUC, KS, Gini, PSI).

The API follows scikit-learn's: ``Scorecard(...).fit(X, y)`` with ``X`` a DataFrame of
raw numeric and text columns and ``y`` 1 for the event (a bad loan), 0 otherwise;
then ``predict_proba(X)`` (n x 2: probability of no event, of the event),
``score(X)`` (points) and ``iv_table()``. It works on any DataFrame with a binary
target, not only on the warehouse.

Binning
    A numeric column is cut into fine quantile bins, bins holding less than
    ``min_bin_share`` of the rows are merged into a neighbour, then adjacent bins are
    merged until the event rate rises or falls monotonically (whichever direction
    keeps more information value); if no monotone binning with two or more bins
    exists (a U-shaped relation), the unconstrained bins are kept. Adjacent bins with
    the closest event rates are merged until at most ``max_bins`` remain. Bins are
    closed on the left: ``[a, b)``. A text column is binned by level; levels holding
    less than ``rare_level_share`` of the rows are merged into ``(other)``, which also
    takes levels first seen when scoring. Missing values get their own ``(missing)``
    bin; if none were seen when fitting, a missing value scores as an average row
    (WoE 0).

Weight of evidence (sign convention)
    ``woe = ln(share of all non-events in the bin / share of all events in the bin)``:
    **positive WoE means the bin is safer than average**, negative riskier. A bin's
    information value is ``(non-event share - event share) * woe`` (never negative);
    a feature's IV is the sum over its bins. A bin with no events or no non-events
    has 0.5 added to both of its counts before its WoE is taken, so WoE stays finite.

Model and points
    Features with IV >= ``min_iv`` enter, strongest first, skipping any whose WoE
    correlates above ``max_correlation`` with one already in;
    ``logit P(event) = b0 + sum_j b_j * woe_j`` is fitted with statsmodels. Under the
    convention above every ``b_j`` should be negative; a feature whose coefficient
    comes out positive is dropped and the model refitted. Points:
    ``factor = pdo / ln 2``, ``offset = base_score - factor * ln(base_odds)``,
    ``score = offset + factor * ln(odds of non-event) = offset - factor * logit``, so
    ``base_score`` points mean odds of ``base_odds`` : 1 against the event and every
    ``pdo`` points double those odds. Scores are unrounded floats.
"""

from __future__ import annotations

import json
import math
import warnings
from typing import Any

import numpy as np
import pandas as pd

from .startup import LazyModule

stats = LazyModule("scipy.stats")  # 0.5 s to import: not for the runner, which only reads Settings

MISSING = "(missing)"
OTHER = "(other)"
_VERSION = 1


def woe_iv(events: np.ndarray, non_events: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """WoE and IV of each bin from its counts (see the module docstring for the sign).

    >>> w, iv = woe_iv(np.array([1, 3]), np.array([3, 1]))
    >>> [round(float(v), 4) for v in w], round(float(iv.sum()), 4)
    ([1.0986, -1.0986], 1.0986)
    """
    e = np.asarray(events, dtype=float)
    g = np.asarray(non_events, dtype=float)
    total_e, total_g = e.sum(), g.sum()
    adj = ((e == 0) | (g == 0)) * 0.5
    dist_e = (e + adj) / total_e
    dist_g = (g + adj) / total_g
    woe = np.log(dist_g / dist_e)
    return woe, (dist_g - dist_e) * woe


def _fmt(v: float) -> str:
    return f"{v:.6g}"


class _Bins:
    """The bins of one feature: how to map raw values to bins, and each bin's WoE."""

    def __init__(
        self,
        kind: str,
        labels: list[str],
        count: list[int],
        events: list[int],
        cuts: list[float] | None = None,
        levels: dict[str, str] | None = None,
    ):
        self.kind = kind
        self.labels = list(labels)
        self.count = [int(c) for c in count]
        self.events = [int(e) for e in events]
        self.cuts = [float(c) for c in cuts] if cuts is not None else None
        self.levels = dict(levels) if levels is not None else None
        woe, iv = woe_iv(np.array(self.events), np.array(self.count) - np.array(self.events))
        self.woe, self.iv = woe.tolist(), iv.tolist()

    @property
    def total_iv(self) -> float:
        return float(sum(self.iv))

    def index(self, values: pd.Series) -> np.ndarray:
        """Bin position of each value; -1 for a value with no bin (scores WoE 0)."""
        missing = values.isna().to_numpy()
        miss_at = self.labels.index(MISSING) if MISSING in self.labels else -1
        out = np.full(len(values), -1, dtype=int)
        if self.kind == "numeric":
            x = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            missing = np.isnan(x)
            if len(self.labels) > (miss_at >= 0):  # numeric bins exist (not only "missing")
                out[~missing] = np.searchsorted(np.array(self.cuts), x[~missing], side="right")
        else:
            other_at = self.labels.index(OTHER) if OTHER in self.labels else -1
            pos = {label: i for i, label in enumerate(self.labels)}
            lookup = {lvl: pos[lab] for lvl, lab in self.levels.items()}
            text = values[~missing].astype(str)
            out[~missing] = text.map(lambda v: lookup.get(v, other_at)).to_numpy(dtype=int)
        out[missing] = miss_at
        return out

    def woe_of(self, values: pd.Series) -> np.ndarray:
        idx = self.index(values)
        woe = np.append(np.array(self.woe, dtype=float), 0.0)  # -1 -> appended 0
        return woe[idx]

    def to_dict(self) -> dict[str, Any]:
        d = {"kind": self.kind, "labels": self.labels, "count": self.count, "events": self.events}
        if self.kind == "numeric":
            d["cuts"] = self.cuts
        else:
            d["levels"] = self.levels
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> _Bins:
        return cls(d["kind"], d["labels"], d["count"], d["events"], d.get("cuts"), d.get("levels"))


def _merge(n: list, e: list, cuts: list, i: int) -> None:
    """Merge bin ``i`` with bin ``i + 1`` in place."""
    n[i] += n.pop(i + 1)
    e[i] += e.pop(i + 1)
    cuts.pop(i)


def _rates(n: list, e: list) -> np.ndarray:
    return np.array(e, dtype=float) / np.maximum(np.array(n, dtype=float), 1)


def _merge_small(n: list, e: list, cuts: list, min_count: int) -> None:
    while len(n) > 1 and min(n) < min_count:
        i = int(np.argmin(n))
        if i == 0:
            j = 0
        elif i == len(n) - 1:
            j = i - 1
        else:
            r = _rates(n, e)
            left, right = abs(r[i] - r[i - 1]), abs(r[i] - r[i + 1])
            j = i - 1 if (left, n[i - 1]) < (right, n[i + 1]) else i
        _merge(n, e, cuts, j)


def _make_monotone(n: list, e: list, cuts: list, increasing: bool) -> None:
    while True:
        r = _rates(n, e)
        bad = np.nonzero(r[:-1] > r[1:] if increasing else r[:-1] < r[1:])[0]
        if not len(bad):
            return
        _merge(n, e, cuts, int(bad[0]))


def _cap_bins(n: list, e: list, cuts: list, max_bins: int) -> None:
    while len(n) > max_bins:
        r = _rates(n, e)
        gaps = [(abs(r[i + 1] - r[i]), n[i] + n[i + 1], i) for i in range(len(n) - 1)]
        _merge(n, e, cuts, min(gaps)[2])


def _numeric_cuts(
    x: np.ndarray, y: np.ndarray, *, fine_bins: int, min_count: int, max_bins: int
) -> tuple[list[float], list[int], list[int]]:
    """Cut points (left-closed bins) and each bin's rows and events."""
    uniq = np.unique(x)
    if len(uniq) <= fine_bins:
        cuts = list(uniq[1:])
    else:
        q = np.quantile(x, np.linspace(0, 1, fine_bins + 1)[1:-1], method="higher")
        cuts = [c for c in np.unique(q) if c > uniq[0]]
    idx = np.searchsorted(np.array(cuts), x, side="right")
    n = np.bincount(idx, minlength=len(cuts) + 1).tolist()
    e = np.bincount(idx, weights=y, minlength=len(cuts) + 1).astype(int).tolist()
    _merge_small(n, e, cuts, min_count)
    best = None
    for increasing in (True, False):
        nn, ee, cc = list(n), list(e), list(cuts)
        _make_monotone(nn, ee, cc, increasing)
        if len(nn) > 1:
            iv = woe_iv(np.array(ee), np.array(nn) - np.array(ee))[1].sum()
            if best is None or iv > best[0]:
                best = (iv, nn, ee, cc)
    if best is not None:
        n, e, cuts = best[1], best[2], best[3]
    _cap_bins(n, e, cuts, max_bins)
    return [float(c) for c in cuts], n, e


def _numeric_labels(cuts: list[float]) -> list[str]:
    if not cuts:
        return ["all"]
    return (
        [f"< {_fmt(cuts[0])}"]
        + [f"[{_fmt(a)}, {_fmt(b)})" for a, b in zip(cuts[:-1], cuts[1:], strict=True)]
        + [f">= {_fmt(cuts[-1])}"]
    )


class Scorecard:
    """A points scorecard: WoE bins, logistic regression, PDO scaling.

    Parameters: ``max_bins`` (numeric bins per feature, missing bin not counted),
    ``min_bin_share`` (smallest share of rows in a numeric bin), ``rare_level_share``
    (text levels below this share are merged into ``(other)``), ``min_iv`` (features
    with less information value are left out), ``max_correlation`` (of WoE columns
    entering together), ``base_score`` / ``base_odds`` / ``pdo`` (points scaling:
    ``base_score`` points at odds ``base_odds`` : 1 against the event, odds double
    every ``pdo`` points) and ``fine_bins`` (initial quantile bins).

    >>> X = pd.DataFrame({"x": [1, 2, 3, 4, 5, 6, 7, 8]})
    >>> sc = Scorecard(min_bin_share=0.25, min_iv=0.0).fit(X, [1, 1, 0, 1, 0, 0, 0, 0])
    >>> sc.predict_proba(X).shape
    (8, 2)
    """

    def __init__(
        self,
        *,
        max_bins: int = 5,
        min_bin_share: float = 0.05,
        rare_level_share: float = 0.02,
        min_iv: float = 0.02,
        max_correlation: float = 0.9,
        base_score: float = 600.0,
        base_odds: float = 50.0,
        pdo: float = 20.0,
        fine_bins: int = 20,
    ):
        if max_bins < 1 or fine_bins < 2:
            raise ValueError(
                f"max_bins must be >= 1 and fine_bins >= 2, got {max_bins}, {fine_bins}"
            )
        if not (0 <= min_bin_share < 0.5 and 0 <= rare_level_share < 1):
            raise ValueError("min_bin_share must be in [0, 0.5) and rare_level_share in [0, 1)")
        if base_odds <= 0 or pdo <= 0:
            raise ValueError(f"base_odds and pdo must be > 0, got {base_odds}, {pdo}")
        self.params = {
            "max_bins": int(max_bins),
            "min_bin_share": float(min_bin_share),
            "rare_level_share": float(rare_level_share),
            "min_iv": float(min_iv),
            "max_correlation": float(max_correlation),
            "base_score": float(base_score),
            "base_odds": float(base_odds),
            "pdo": float(pdo),
            "fine_bins": int(fine_bins),
        }
        self.bins_: dict[str, _Bins] = {}
        self.coef_: dict[str, float] = {}
        self.intercept_: float | None = None
        self.meta_: dict[str, Any] = {}

    # -- scaling ----------------------------------------------------------------
    @property
    def factor(self) -> float:
        """Points per unit of log-odds: ``pdo / ln 2``."""
        return self.params["pdo"] / math.log(2)

    @property
    def offset(self) -> float:
        """``base_score - factor * ln(base_odds)``: the score at even odds."""
        return self.params["base_score"] - self.factor * math.log(self.params["base_odds"])

    @property
    def features(self) -> list[str]:
        """The features in the model (after IV, correlation and sign checks)."""
        return list(self.coef_)

    # -- fitting ----------------------------------------------------------------
    def fit(self, X: pd.DataFrame, y) -> Scorecard:
        """Bin every column of ``X``, select features and fit the logistic regression.

        ``y``: 1 for the event, 0 otherwise, no missing values, both classes present.
        Numeric dtypes are binned as numbers; every other column (text, category,
        boolean) by level.
        """
        if not isinstance(X, pd.DataFrame) or X.shape[1] == 0:
            raise ValueError("X must be a DataFrame with at least one column")
        target = pd.Series(y).to_numpy()
        if len(target) != len(X):
            raise ValueError(f"X has {len(X)} rows but y has {len(target)}")
        if pd.isna(target).any() or not set(np.unique(target)) <= {0, 1}:
            raise ValueError("y must hold only 0 and 1 (1 = event), with no missing values")
        target = target.astype(int)
        n_ev = int(target.sum())
        if n_ev == 0 or n_ev == len(target):
            raise ValueError(f"y must hold both classes; got {n_ev} events in {len(target)} rows")
        self.bins_ = {str(c): self._bin(X[c], target) for c in X.columns}
        self.meta_ = {"rows": int(len(target)), "events": n_ev}
        ranked = sorted(self.bins_, key=lambda f: -self.bins_[f].total_iv)
        woe = pd.DataFrame({f: self.bins_[f].woe_of(X[f]) for f in ranked}, index=range(len(X)))
        chosen: list[str] = []
        for f in ranked:
            if self.bins_[f].total_iv < self.params["min_iv"] or woe[f].std() == 0:
                continue
            if chosen and woe[chosen].corrwith(woe[f]).abs().max() > self.params["max_correlation"]:
                continue
            chosen.append(f)
        while True:
            intercept, coef = self._logit(woe[chosen], target)
            wrong = {f: c for f, c in coef.items() if c >= 0}
            if not wrong:
                break
            chosen.remove(max(wrong, key=wrong.get))
        self.intercept_, self.coef_ = intercept, coef
        return self

    def _bin(self, col: pd.Series, y: np.ndarray) -> _Bins:
        n_total = len(col)
        missing = col.isna().to_numpy()
        numeric = pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)
        if numeric:
            x = col.to_numpy(dtype=float, na_value=np.nan)
            missing = np.isnan(x)
            min_count = max(1, math.ceil(self.params["min_bin_share"] * n_total))
            if (~missing).any():
                cuts, n, e = _numeric_cuts(
                    x[~missing],
                    y[~missing],
                    fine_bins=self.params["fine_bins"],
                    min_count=min_count,
                    max_bins=self.params["max_bins"],
                )
            else:
                cuts, n, e = [], [], []
            labels = _numeric_labels(cuts) if n else []
            levels = None
        else:
            text = col[~missing].astype(str).to_numpy()
            level_n = pd.Series(text).value_counts()
            rare = set(level_n[level_n < self.params["rare_level_share"] * n_total].index)
            levels = {lvl: (OTHER if lvl in rare else lvl) for lvl in sorted(level_n.index)}
            labels = sorted(set(levels.values()) - {OTHER}) + ([OTHER] if rare else [])
            mapped = pd.Series(text).map(levels)
            n = [int((mapped == lab).sum()) for lab in labels]
            e = [int(y[~missing][(mapped == lab).to_numpy()].sum()) for lab in labels]
            cuts = None
        if missing.any():
            labels = labels + [MISSING]
            n = n + [int(missing.sum())]
            e = e + [int(y[missing].sum())]
        return _Bins("numeric" if numeric else "categorical", labels, n, e, cuts, levels)

    @staticmethod
    def _logit(W: pd.DataFrame, y: np.ndarray) -> tuple[float, dict[str, float]]:
        if W.shape[1] == 0:
            p = y.mean()
            return float(math.log(p / (1 - p))), {}
        # only when fitting (prepare), not in every process that imports the report
        from statsmodels.discrete.discrete_model import Logit
        from statsmodels.tools.tools import add_constant

        design = add_constant(W.to_numpy(dtype=float), has_constant="add")
        model = Logit(y, design)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                res = model.fit(disp=0, method="newton", maxiter=100)
                params = np.asarray(res.params)
                if not np.all(np.isfinite(params)):
                    raise np.linalg.LinAlgError("non-finite coefficients")
            except (np.linalg.LinAlgError, ValueError):
                params = np.asarray(model.fit(disp=0, method="bfgs", maxiter=500).params)
        return float(params[0]), {f: float(b) for f, b in zip(W.columns, params[1:], strict=True)}

    # -- applying ---------------------------------------------------------------
    def _check_fitted(self) -> None:
        if self.intercept_ is None:
            raise ValueError("this Scorecard is not fitted yet: call fit(X, y) or from_dict()")

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        """The WoE of each model feature for each row of ``X`` (same index)."""
        self._check_fitted()
        missing = [f for f in self.features if f not in X.columns]
        if missing:
            raise ValueError(f"X lacks the scorecard's feature(s) {missing}")
        return pd.DataFrame({f: self.bins_[f].woe_of(X[f]) for f in self.features}, index=X.index)

    def decision_function(self, X: pd.DataFrame) -> np.ndarray:
        """The log-odds of the event for each row: ``b0 + sum_j b_j * woe_j``."""
        W = self.transform(X)
        coef = np.array([self.coef_[f] for f in self.features], dtype=float)
        return self.intercept_ + W.to_numpy(dtype=float) @ coef

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """An ``n x 2`` array: column 0 the probability of no event, column 1 of the event."""
        p = 1.0 / (1.0 + np.exp(-self.decision_function(X)))
        return np.column_stack([1.0 - p, p])

    def score(self, X: pd.DataFrame) -> np.ndarray:
        """Points of each row: ``offset - factor * log-odds``; higher is safer."""
        return self.offset - self.factor * self.decision_function(X)

    # -- reporting --------------------------------------------------------------
    def iv_table(self) -> pd.DataFrame:
        """One row per bin of every binned feature (in or out of the model).

        Columns: ``feature``, ``bin``, ``count``, ``events``, ``non_events``, ``share``
        (of all rows), ``event_rate``, ``woe``, ``iv`` (the bin's contribution: a
        feature's IV is the sum of its rows), ``feature_iv``, ``in_model`` and
        ``points`` (the bin's points; NaN for features not in the model).
        """
        self._check_fitted()
        rows = []
        k = len(self.features)
        base = (self.offset - self.factor * self.intercept_) / k if k else np.nan
        total = self.meta_.get("rows") or 1
        for f, b in self.bins_.items():
            for i, label in enumerate(b.labels):
                n, e = b.count[i], b.events[i]
                pts = base - self.factor * self.coef_[f] * b.woe[i] if f in self.coef_ else np.nan
                rows.append(
                    {
                        "feature": f,
                        "bin": label,
                        "count": n,
                        "events": e,
                        "non_events": n - e,
                        "share": n / total,
                        "event_rate": e / n if n else np.nan,
                        "woe": b.woe[i],
                        "iv": b.iv[i],
                        "feature_iv": b.total_iv,
                        "in_model": f in self.coef_,
                        "points": pts,
                    }
                )
        cols = [
            "feature",
            "bin",
            "count",
            "events",
            "non_events",
            "share",
            "event_rate",
            "woe",
            "iv",
            "feature_iv",
            "in_model",
            "points",
        ]
        return pd.DataFrame(rows, columns=cols)

    def feature_iv(self) -> pd.Series:
        """IV of every binned feature, strongest first."""
        self._check_fitted()
        iv = pd.Series({f: b.total_iv for f, b in self.bins_.items()}, name="iv", dtype=float)
        return iv.sort_values(ascending=False)

    # -- persistence ------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict that :meth:`from_dict` turns back into the same scorecard.

        Features, bins and coefficients are kept as ordered lists, so a loaded scorecard
        adds the same terms in the same order and scores bit for bit the same.
        """
        self._check_fitted()
        return {
            "format": "branchbook.scorecard",
            "version": _VERSION,
            "params": dict(self.params),
            "intercept": self.intercept_,
            "coefficients": [[f, c] for f, c in self.coef_.items()],
            "bins": [[f, b.to_dict()] for f, b in self.bins_.items()],
            "meta": dict(self.meta_),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Scorecard:
        """The scorecard saved by :meth:`to_dict`."""
        if d.get("format") != "branchbook.scorecard" or d.get("version") != _VERSION:
            raise ValueError(
                f"not a saved scorecard of version {_VERSION}: format={d.get('format')!r}, "
                f"version={d.get('version')!r}"
            )
        sc = cls(**d["params"])
        sc.bins_ = {f: _Bins.from_dict(b) for f, b in d["bins"]}
        sc.intercept_ = float(d["intercept"])
        sc.coef_ = {f: float(c) for f, c in d["coefficients"]}
        sc.meta_ = dict(d.get("meta", {}))
        return sc

    def to_frame(self) -> pd.DataFrame:
        """A one-row, one-column (``scorecard``: JSON text) frame, for Parquet."""
        return pd.DataFrame({"scorecard": [json.dumps(self.to_dict(), sort_keys=True)]})

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> Scorecard:
        """The scorecard saved by :meth:`to_frame`."""
        if "scorecard" not in frame.columns or len(frame) != 1:
            raise ValueError("expected a one-row frame with a 'scorecard' column")
        return cls.from_dict(json.loads(frame["scorecard"].iloc[0]))


# -- measures -------------------------------------------------------------------
def _clean(y_true, y_score) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y_true, dtype=float)
    s = np.asarray(y_score, dtype=float)
    keep = ~(np.isnan(y) | np.isnan(s))
    return y[keep].astype(int), s[keep]


def auc(y_true, y_score) -> float:
    """Area under the ROC curve: the probability that a random event row has a higher
    ``y_score`` (e.g. PD) than a random non-event row, ties counting half.

    Rows with a missing value are left out; NaN without both classes.

    >>> auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    """
    y, s = _clean(y_true, y_score)
    n1 = int(y.sum())
    n0 = len(y) - n1
    if n1 == 0 or n0 == 0:
        return float("nan")
    ranks = stats.rankdata(s)
    return float((ranks[y == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def gini(y_true, y_score) -> float:
    """Gini coefficient (accuracy ratio): ``2 * AUC - 1``; NaN without both classes."""
    return 2 * auc(y_true, y_score) - 1


def ks(y_true, y_score) -> float:
    """Kolmogorov-Smirnov statistic: the largest gap between the cumulative shares of
    events and of non-events over all cut-offs of ``y_score``, in 0..1.

    Tied scores move together (the gap is measured only between distinct values).
    NaN without both classes.

    >>> ks([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.5
    """
    y, s = _clean(y_true, y_score)
    n1 = int(y.sum())
    n0 = len(y) - n1
    if n1 == 0 or n0 == 0:
        return float("nan")
    values = np.unique(s)
    cum_e = np.searchsorted(np.sort(s[y == 1]), values, side="right") / n1
    cum_g = np.searchsorted(np.sort(s[y == 0]), values, side="right") / n0
    return float(np.max(np.abs(cum_e - cum_g)))


def psi(expected, actual, *, floor: float = 1e-4) -> float:
    """Population stability index between two distributions over the same bins.

    ``expected`` and ``actual`` are counts or shares per bin (each is normalised to
    sum to 1); ``PSI = sum (a - e) * ln(a / e)`` with shares below ``floor`` raised to
    ``floor`` so an empty bin stays finite. Usual reading: < 0.10 stable, 0.10-0.25
    a shift to watch, >= 0.25 a significant shift. NaN when either side is empty.

    >>> round(psi([50, 50], [40, 60]), 4)
    0.0405
    """
    e = np.asarray(expected, dtype=float)
    a = np.asarray(actual, dtype=float)
    if e.shape != a.shape:
        raise ValueError(f"expected and actual need the same bins, got {e.shape} and {a.shape}")
    if not len(e) or np.nansum(e) <= 0 or np.nansum(a) <= 0:
        return float("nan")
    e = np.maximum(np.nan_to_num(e) / np.nansum(e), floor)
    a = np.maximum(np.nan_to_num(a) / np.nansum(a), floor)
    return float(np.sum((a - e) * np.log(a / e)))
