"""A general credit scorecard: binned weight-of-evidence features, logistic regression,
points scaled by points-to-double-the-odds.

The API follows scikit-learn's: ``Scorecard(...).fit(X, y)`` with ``X`` a DataFrame of
raw numeric and text columns and ``y`` 1 for the event (a bad loan), 0 otherwise;
then ``predict_proba(X)`` (n x 2: probability of no event, of the event),
``score(X)`` (points) and ``iv_table()``. It works on any DataFrame with a binary
target, not only on the warehouse. Binning and weight of evidence are in
:mod:`.binning`; AUC, KS, Gini and PSI in :mod:`branchbook.stats.measures`.

Model and points
    Features with IV >= ``min_iv`` enter, strongest first, skipping any whose WoE
    correlates above ``max_correlation`` with one already in;
    ``logit P(event) = b0 + sum_j b_j * woe_j`` is fitted with statsmodels. Under the
    WoE sign convention of :mod:`.binning` every ``b_j`` should be negative; a feature
    whose coefficient comes out positive is dropped and the model refitted. Points:
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

from ..stats.measures import auc, gini, ks, psi
from .binning import (
    MISSING,
    OTHER,
    TRENDS,
    _Bins,
    _numeric_cuts,
    _numeric_labels,
    _text_bins,
    woe_iv,
)

__all__ = ["MISSING", "OTHER", "Scorecard", "auc", "gini", "ks", "psi", "woe_iv", "woe_logit"]

_VERSION = 1


def woe_logit(
    woe: pd.DataFrame,
    iv: dict[str, float],
    y: np.ndarray,
    *,
    min_iv: float = 0.02,
    max_correlation: float = 0.9,
) -> tuple[float, dict[str, float]]:
    """The scorecard's model on WoE columns already made (any binning's, WoE positive for
    the safer bins): features with IV >= ``min_iv`` enter, strongest first, skipping a
    constant one and one whose WoE correlates above ``max_correlation`` with one already
    in; a feature whose coefficient comes out positive is dropped and the model refitted.
    Returns the intercept and each chosen feature's coefficient, in order of entry.
    """
    target = np.asarray(y, dtype=int)
    chosen: list[str] = []
    for f in sorted(woe.columns, key=lambda f: -iv[f]):
        if iv[f] < min_iv or woe[f].std() == 0:
            continue
        if chosen and woe[chosen].corrwith(woe[f]).abs().max() > max_correlation:
            continue
        chosen.append(f)
    while True:
        intercept, coef = _logit(woe[chosen], target)
        wrong = {f: c for f, c in coef.items() if c >= 0}
        if not wrong:
            return intercept, coef
        chosen.remove(max(wrong, key=wrong.get))


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


class Scorecard:
    """A points scorecard: WoE bins, logistic regression, PDO scaling.

    Parameters: ``max_bins`` (bins per feature, missing bin not counted),
    ``min_bin_share`` (smallest share of rows in a bin), ``min_bin_events``
    (fewest events, and non-events, in a bin; a text level with fewer joins another),
    ``merge_p`` (adjacent numeric
    bins whose event rates do not differ at this level are merged), ``trends``
    (``{feature: "ascending" | "descending" | "auto" | "free"}``, the direction its
    event rate must follow; ``auto`` when not named), ``rare_level_share`` (text levels
    below this share are merged into ``(other)``), ``min_iv`` (features with less
    information value are left out), ``max_correlation`` (of WoE columns entering
    together), ``base_score`` / ``base_odds`` / ``pdo`` (points scaling: ``base_score``
    points at odds ``base_odds`` : 1 against the event, odds double every ``pdo``
    points) and ``fine_bins`` (initial quantile bins). See :mod:`.binning`.

    >>> X = pd.DataFrame({"x": [1, 2, 3, 4, 5, 6, 7, 8]})
    >>> sc = Scorecard(min_bin_share=0.25, min_bin_events=0, merge_p=1.0, min_iv=0.0)
    >>> sc = sc.fit(X, [1, 1, 0, 1, 0, 0, 0, 0])
    >>> sc.predict_proba(X).shape
    (8, 2)
    """

    def __init__(
        self,
        *,
        max_bins: int = 5,
        min_bin_share: float = 0.01,
        min_bin_events: int = 5,
        merge_p: float = 0.05,
        trends: dict[str, str] | None = None,
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
        if min_bin_events < 0 or not 0 < merge_p <= 1:
            raise ValueError(
                f"min_bin_events must be >= 0 and merge_p in (0, 1], got {min_bin_events}, {merge_p}"
            )
        bad = {f: t for f, t in (trends or {}).items() if t not in TRENDS}
        if bad:
            raise ValueError(f"trends are expected to be among {TRENDS}. Got {bad} instead.")
        self.params = {
            "max_bins": int(max_bins),
            "min_bin_share": float(min_bin_share),
            "min_bin_events": int(min_bin_events),
            "merge_p": float(merge_p),
            "trends": dict(trends or {}),
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
        intercept, coef = woe_logit(
            woe,
            {f: self.bins_[f].total_iv for f in ranked},
            target,
            min_iv=self.params["min_iv"],
            max_correlation=self.params["max_correlation"],
        )
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
                    min_events=self.params["min_bin_events"],
                    merge_p=self.params["merge_p"],
                    trend=self.params["trends"].get(str(col.name), "auto"),
                )
            else:
                cuts, n, e = [], [], []
            labels = _numeric_labels(cuts) if n else []
            levels = None
        else:
            labels, n, e, levels = _text_bins(
                col[~missing].astype(str).to_numpy(),
                y[~missing],
                n_total=n_total,
                rare_level_share=self.params["rare_level_share"],
                min_count=max(1, math.ceil(self.params["min_bin_share"] * n_total)),
                min_events=self.params["min_bin_events"],
                max_bins=self.params["max_bins"],
            )
            cuts = None
        if missing.any():
            labels = labels + [MISSING]
            n = n + [int(missing.sum())]
            e = e + [int(y[missing].sum())]
        return _Bins("numeric" if numeric else "categorical", labels, n, e, cuts, levels)

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
