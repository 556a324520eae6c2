"""Out-of-time validation of the bank's scorecard, as a model validator reads it.

The scorecard is fitted on the loans performing at the development month with the
outcomes seen up to the validation month (``performance_months`` before the period),
then measured on the loans performing at the validation month over the following
``performance_months``: loans it never saw, in a later time. Figures here are measured on
that validation sample only, with their sample sizes; with fewer than ``min_defaults``
defaults a figure is not computed (NaN) and the report says so.

- discrimination: AUC with a DeLong 95% interval, KS and Gini;
- calibration: predicted against observed default rate per score band, with an exact
  binomial test, and the log-odds shift that makes the mean PD equal the observed
  default rate (the corrected PD that expected loss uses);
- stability: PSI of the current book against the development sample by score band, and
  CSI of each characteristic in the model by its bins.

A branch's score mix against the bank's (:func:`~.scoring.score_distribution`) is a mix
comparison, not drift: it is not measured here.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..metrics import ratio
from ..stats.measures import auc_ci, binomial_p, gini, ks, psi
from .scorecard import Scorecard


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=float), 1e-12, 1 - 1e-12)
    return np.log(p / (1 - p))


def corrected_pd(pd_model, shift: float) -> np.ndarray:
    """``pd_model`` with ``shift`` added to its log-odds: ``1 / (1 + exp(-(logit p + shift)))``."""
    return 1 / (1 + np.exp(-(_logit(pd_model) + shift)))


def calibration_shift(bad, pd_model) -> float:
    """The log-odds shift that makes the mean corrected PD equal the observed default
    rate (calibration in the large): the intercept of a logistic regression of ``bad``
    on a constant with ``logit(pd_model)`` as offset (statsmodels' ``GLM``, binomial).
    0 with no rows and NaN when the sample has no default or only defaults (no finite
    shift).

    >>> round(calibration_shift([1, 0, 0, 0, 0], [0.1] * 5), 6)  # ln(0.2/0.8) - ln(0.1/0.9)
    0.81093
    """
    y = np.asarray(bad, dtype=float)
    if not len(y):
        return 0.0
    k = y.sum()
    if k == 0 or k == len(y):
        return math.nan
    # only when preparing a period, not in every process that imports the report
    from statsmodels.genmod.families import Binomial
    from statsmodels.genmod.generalized_linear_model import GLM

    model = GLM(y, np.ones((len(y), 1)), family=Binomial(), offset=_logit(pd_model))
    return float(model.fit(tol=1e-12).params[0])


def validation(outcomes: pd.DataFrame, *, min_defaults: int) -> dict[str, float]:
    """How well ``pd_model`` ranked the loans of ``outcomes`` (with ``bad``).

    Returns ``loans``, ``defaults``, ``default_rate``, ``predicted_rate`` (mean
    ``pd_model``), ``auc`` with its DeLong 95% interval ``auc_low`` / ``auc_high``,
    ``ks``, ``gini`` and ``sufficient`` (1.0 with at least ``min_defaults`` defaults and
    ``min_defaults`` good loans, all scored; otherwise the measures are NaN).
    """
    n = len(outcomes)
    d = int(outcomes["bad"].sum()) if n else 0
    scored = bool(n) and bool(outcomes["pd_model"].notna().all())
    ok = scored and d >= min_defaults and n - d >= min_defaults
    y, p = (outcomes["bad"].to_numpy(), outcomes["pd_model"].to_numpy()) if ok else ([], [])
    ci = auc_ci(y, p) if ok else {"auc": np.nan, "low": np.nan, "high": np.nan}
    return {
        "loans": float(n),
        "defaults": float(d),
        "default_rate": ratio(d, n),
        "predicted_rate": float(outcomes["pd_model"].mean()) if scored else np.nan,
        "auc": ci["auc"],
        "auc_low": ci["low"],
        "auc_high": ci["high"],
        "ks": ks(y, p) if ok else np.nan,
        "gini": gini(y, p) if ok else np.nan,
        "sufficient": float(ok),
    }


def branch_validation(
    outcomes: pd.DataFrame, *, scorecard: Scorecard | None, min_defaults: int
) -> dict[str, float]:
    """:func:`validation` of the branch's validation-sample loans (``risk_outcomes``),
    scored with ``scorecard``; without a scorecard or without loans nothing is measured."""
    p = (
        scorecard.predict_proba(outcomes)[:, 1]
        if scorecard is not None and len(outcomes)
        else np.nan
    )
    return validation(outcomes.assign(pd_model=p), min_defaults=min_defaults)


VALIDATION_COLUMNS = (
    "loans",
    "defaults",
    "default_rate",
    "predicted_rate",
    "auc",
    "auc_low",
    "auc_high",
    "ks",
    "gini",
)


def validation_table(val: dict) -> pd.DataFrame:
    """:func:`validation`'s measures as a one-row frame, for a table."""
    return pd.DataFrame([{c: val.get(c, np.nan) for c in VALIDATION_COLUMNS}])


def validation_note(val: dict, *, min_defaults: int, month: str) -> tuple[str, dict]:
    """What the accuracy figures rest on, or why they are not shown: ``(key, values)``."""
    if val.get("sufficient"):
        return "risk.notes.validation_sample", {
            "loans": val["loans"],
            "defaults": val["defaults"],
            "month": month,
        }
    return "risk.notes.few_defaults", {"defaults": val.get("defaults", 0), "minimum": min_defaults}


CALIBRATION_COLUMNS = (
    "bin",
    "lower",
    "upper",
    "loans",
    "defaults",
    "predicted",
    "corrected",
    "observed",
    "p_value",
    "off",
)


def calibration(
    sample: pd.DataFrame, *, bins: pd.DataFrame, shift: float = 0.0, level: float = 0.05
) -> pd.DataFrame:
    """Predicted against observed default rate per score band of ``bins`` (``lower``
    inclusive), over ``sample`` (``score``, ``pd_model``, ``bad``): ``bin``, ``loans``,
    ``defaults``, ``predicted`` (mean PD of the model), ``corrected`` (mean PD after
    ``shift``), ``observed`` (default rate), ``p_value`` (exact two-sided binomial test
    of the defaults against the corrected PD) and ``off`` (p-value below ``level``).
    A band without loans has NaN rates."""
    cuts = bins["lower"].to_numpy(dtype=float)[1:]
    which = np.searchsorted(cuts, sample["score"].to_numpy(dtype=float), side="right")
    rows = []
    for i, b in enumerate(bins["bin"]):
        part = sample[which == i]
        n, k = len(part), int(part["bad"].sum())
        pred = float(part["pd_model"].mean()) if n else np.nan
        corr = float(corrected_pd(part["pd_model"], shift).mean()) if n else np.nan
        p = binomial_p(k, n, corr) if n else np.nan
        rows.append(
            {
                "bin": int(b),
                "loans": n,
                "defaults": k,
                "predicted": pred,
                "corrected": corr,
                "observed": ratio(k, n),
                "p_value": p,
                "off": bool(p < level) if p == p else False,
            }
        )
    return pd.DataFrame(rows)


def band_counts(scores, bins: pd.DataFrame) -> np.ndarray:
    """How many of ``scores`` fall in each band of ``bins`` (``lower`` inclusive)."""
    s = pd.Series(scores, dtype=float).dropna().to_numpy()
    cuts = bins["lower"].to_numpy(dtype=float)[1:]
    return np.bincount(np.searchsorted(cuts, s, side="right"), minlength=len(bins))


def stability(
    sc: Scorecard, *, development: pd.DataFrame, current: pd.DataFrame, bins: pd.DataFrame
) -> pd.DataFrame:
    """PSI of ``current`` (the performing book now) against ``development`` (the sample
    the scorecard was fitted on): first the ``score`` over the development sample's score
    bands ``bins``, then the CSI of each characteristic in the model over its own bins
    (a value with no bin counts apart). Columns ``feature``, ``psi``."""
    rows = [
        {
            "feature": "score",
            "psi": psi(bins["loans"], band_counts(sc.score(current), bins))
            if len(current)
            else np.nan,
        }
    ]
    for f in sc.features:
        b = sc.bins_[f]
        k = len(b.labels)
        now = np.bincount(b.index(current[f]) % (k + 1), minlength=k + 1) if len(current) else []
        dev = np.bincount(b.index(development[f]) % (k + 1), minlength=k + 1)
        rows.append({"feature": f, "psi": psi(dev, now) if len(current) else np.nan})
    return pd.DataFrame(rows)


def bank_validation(frame: pd.DataFrame | None) -> dict[str, float]:
    """The bank's out-of-time figures from ``bench_risk_validation`` (one row) as a dict;
    an empty dict without it."""
    if frame is None or len(frame) != 1:
        return {}
    return {k: (v if isinstance(v, str) else float(v)) for k, v in frame.iloc[0].items()}


def drift_psi(book: pd.DataFrame, dev_bins: pd.DataFrame) -> float:
    """PSI of the branch's performing, scored loans against the development sample over
    its score bands (``bench_risk_dev_bins``); NaN without scored loans."""
    scores = book.loc[~book["in_default"], "score"]
    if dev_bins is None or not len(dev_bins) or not scores.notna().any():
        return math.nan
    return psi(dev_bins["loans"], band_counts(scores, dev_bins))


def bank_validation_note(bank: dict, *, scorecard: Scorecard, minimum: int) -> tuple[str, dict]:
    """What the bank's out-of-time figures rest on, or why they are not shown."""
    if not bank.get("sufficient"):
        return "risk.notes.bank_few_defaults", {
            "defaults": bank.get("defaults", 0),
            "minimum": minimum,
        }
    return "risk.notes.bank_validation", {
        "dev_loans": bank["development_loans"],
        "dev_defaults": bank["development_defaults"],
        "dev_month": scorecard.meta_.get("development_month", ""),
        "month": scorecard.meta_.get("validation_month", ""),
        "loans": bank["loans"],
        "defaults": bank["defaults"],
    }


def calibration_note(bank: dict) -> tuple[str, dict]:
    """The sentence reading the calibration in the large and the PD correction."""
    return "risk.notes.calibration", {
        "predicted": bank["predicted_rate"],
        "observed": bank["default_rate"],
        "shift": bank["calibration_shift"],
        "corrected": bank["corrected_rate"],
    }
