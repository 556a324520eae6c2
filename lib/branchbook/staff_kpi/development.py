"""Manager development: training hours against the yearly requirement, years of
experience and certification against the grade's requirement, and the indicative pay
structure (base by grade, performance bonus by rating, commission by product).

Training hours are counted over the ``training_months`` calendar months ending at the
period end (12 by default: November to October for 2026-10). Years of experience run
from ``hired_on`` to the period end (experience at this bank; earlier employers are not
recorded). A manager's certification is the highest held on the period end. A manager
short of training hours or of the certification their grade requires is listed.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..period import Period
from .settings import CERTIFICATIONS, Development

_LEVEL = {c: i for i, c in enumerate(CERTIFICATIONS)}

#: The columns of :func:`development_table`, in display order.
DEVELOPMENT_COLUMNS = (
    "staff_id", "staff_name", "grade", "training_hours", "hours_required", "hours_short",
    "years", "years_required", "certification", "certification_required", "short",
)  # fmt: skip


def training_window(period: str, months: int = 12) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last day (inclusive) of the ``months`` calendar months ending ``period``."""
    p = Period.parse(period)
    return pd.Timestamp(p.shift(1 - months).start), pd.Timestamp(p.end)


def development_table(
    staff: pd.DataFrame,
    training: pd.DataFrame,
    certifications: pd.DataFrame,
    *,
    period: str,
    settings: Development,
) -> pd.DataFrame:
    """One row per active manager (:data:`DEVELOPMENT_COLUMNS`), those listed first
    (``short``: hours or certification below the grade's requirement), then by staff id.

    ``training_hours``: hours of courses completed in :func:`training_window`;
    ``hours_short``: the hours still missing (0 when met); ``years``: from ``hired_on``
    to the period end in years of 365.25 days; ``certification``: the highest held on
    the period end (``none`` without one)."""
    first, last = training_window(period, settings.training_months)
    s = staff[staff["active"].astype(bool)] if "active" in staff.columns else staff
    t = training.assign(completed_on=pd.to_datetime(training["completed_on"]))
    t = t[(t["completed_on"] >= first) & (t["completed_on"] <= last)]
    hours = pd.to_numeric(t["hours"]).astype(float).groupby(t["staff_id"]).sum()
    c = certifications.assign(obtained_on=pd.to_datetime(certifications["obtained_on"]))
    c = c[c["obtained_on"] <= last]
    level = c["certification"].map(_LEVEL).groupby(c["staff_id"]).max()
    ids = s["staff_id"]
    got = ids.map(hours).fillna(0.0).astype(float).to_numpy()
    need = float(settings.training_hours)
    held = ids.map(level).fillna(0).astype(int).to_numpy()
    required = s["grade"].map(settings.grade_certification).fillna("none")
    years = (last - pd.to_datetime(s["hired_on"])).dt.days.to_numpy() / 365.25
    out = pd.DataFrame(
        {
            "staff_id": ids.to_numpy(),
            "staff_name": s["name"].to_numpy(),
            "grade": s["grade"].to_numpy(),
            "training_hours": got,
            "hours_required": need,
            "hours_short": np.maximum(need - got, 0.0),
            "years": years,
            "years_required": s["grade"].map(settings.grade_years).astype(float).to_numpy(),
            "certification": np.array(CERTIFICATIONS, dtype=object)[held],
            "certification_required": required.to_numpy(),
        }
    )
    cert_short = held < required.map(_LEVEL).to_numpy()
    out["short"] = (got < need) | cert_short
    out["certification_short"] = cert_short
    out["years_short"] = out["years"] < out["years_required"]
    return out.sort_values(["short", "staff_id"], ascending=[False, True], ignore_index=True)


def development_counts(table: pd.DataFrame) -> dict[str, int]:
    """Managers, and those short of hours, of certification, of either, of years."""
    return {
        "managers": len(table),
        "hours_short": int((table["hours_short"] > 0).sum()),
        "certification_short": int(table["certification_short"].sum()),
        "short": int(table["short"].sum()),
        "years_short": int(table["years_short"].sum()),
    }


def commission(loans: pd.DataFrame, *, period: str, rates: Mapping[str, float]) -> pd.Series:
    """Indicative commission per manager (``manager_id``): the principal of the loans they
    originated in ``period`` times their product's rate (a product without a rate earns
    none). ``loans`` is prepare's ``staff_originations`` (every loan a manager originated,
    wherever it is booked), not a branch's ``loans`` extract (only those booked there)."""
    p = Period.parse(period)
    day = pd.to_datetime(loans["originated_on"])
    new = loans[(day >= pd.Timestamp(p.start)) & (day <= pd.Timestamp(p.end))]
    rate = new["product"].map(dict(rates)).astype(float).fillna(0.0)
    return (pd.to_numeric(new["principal"]).astype(float) * rate).groupby(new["manager_id"]).sum()


def pay_table(
    scorecard: pd.DataFrame,
    loans: pd.DataFrame,
    *,
    period: str,
    settings: Development,
    coefficients: Mapping[str, float],
) -> pd.DataFrame:
    """Indicative monthly pay of each manager of ``scorecard`` in ``period``: ``base``
    (by grade), ``bonus`` (the grade's standard bonus x the rating's coefficient; NaN
    when not rated), ``commission`` (:func:`commission`) and ``total`` (their sum; NaN
    when not rated), by staff id."""
    m = scorecard[scorecard["month"] == period][["staff_id", "staff_name", "grade", "rating"]]
    m = m.sort_values("staff_id", ignore_index=True)
    coef = m["rating"].map(lambda r: coefficients.get(r, np.nan) if isinstance(r, str) else np.nan)
    base = m["grade"].map(settings.base_pay).astype(float)
    bonus = m["grade"].map(settings.standard_bonus).astype(float) * coef.astype(float)
    comm = m["staff_id"].map(commission(loans, period=period, rates=settings.commission_rates))
    comm = comm.fillna(0.0).astype(float)
    return m.assign(
        rating=m["rating"].astype("string").fillna("none"),
        base=base,
        bonus=bonus,
        commission=comm,
        total=base + bonus + comm,
    )
