"""Follow-up coverage (定期回访): are the high-value customers contacted regularly?

A high-value customer is one open at the period's end in the wealth or private tier of
the shared customer_month (the bank's thresholds, AUM on the balance basis). They are
**contacted** when a contact (``contacts``: any channel and purpose, by anyone) falls
in the ``months`` calendar months ending with the period (3 by default:
``satisfaction.followup_months``); **coverage** is the share contacted. The manager is
the customer's manager today. Prepare cuts ``satisfaction_followup`` (one row per
high-value customer with the last contact on or before the period's end); these
functions are pure.
"""

from __future__ import annotations

import pandas as pd

from ..metrics import ratio
from ..period import Period

HIGH_VALUE = ("wealth", "private")

_SQL = """
SELECT m.customer_id, m.branch_id, m.manager_id, c.name, m.asset_tier, m.aum,
       max(k.contacted_on) AS last_contact
FROM customer_month m JOIN customers c ON c.customer_id = m.customer_id
LEFT JOIN contacts k ON k.customer_id = m.customer_id AND k.contacted_on <= $end
WHERE m.month = $period AND m.open AND m.asset_tier IN ('wealth', 'private')
GROUP BY ALL
ORDER BY m.customer_id
"""


def followup_rows(ctx) -> pd.DataFrame:
    """``satisfaction_followup``: customer_id, branch_id, manager_id, name (raw: mask
    before showing), asset_tier, aum (CNY), last_contact (date; empty: never)."""
    out = ctx.sql(_SQL, period=ctx.period, end=ctx.period_end)
    for col in ("customer_id", "branch_id", "manager_id", "name", "asset_tier"):
        out[col] = out[col].astype("str")
    out["last_contact"] = pd.to_datetime(out["last_contact"])
    return out.astype({"aum": float})


def window_start(period: str, months: int) -> pd.Timestamp:
    """The first day of the ``months`` calendar months ending with ``period``."""
    return pd.Timestamp(Period.parse(period).window(months)[0].start)


def contacted(rows: pd.DataFrame, *, period: str, months: int) -> pd.Series:
    """True where the last contact falls in the window (:func:`window_start` on)."""
    last = pd.to_datetime(rows["last_contact"])
    return (last >= window_start(period, months)).fillna(False).astype(bool)


def _names(staff, unassigned: str, ids: pd.Series) -> tuple[pd.Series, list[str]]:
    names = {} if staff is None else dict(zip(staff["staff_id"], staff["name"], strict=True))
    mgr = ids.astype(object).where(ids.notna(), "")
    return mgr, [names.get(m, m) if m else unassigned for m in mgr]


def by_manager(
    rows: pd.DataFrame,
    *,
    period: str,
    months: int,
    staff: pd.DataFrame | None = None,
    unassigned: str = "-",
) -> pd.DataFrame:
    """Per manager: ``high_value`` customers, ``contacted`` in the window and
    ``coverage`` (contacted / high_value). Lowest coverage first, then the larger book,
    then the id. Columns: manager_id, manager_name, high_value, contacted, coverage."""
    cols = ["manager_id", "manager_name", "high_value", "contacted", "coverage"]
    if not len(rows):
        return pd.DataFrame(columns=cols)
    mgr, _ = _names(staff, unassigned, rows["manager_id"])
    g = rows.assign(manager_id=mgr, hit=contacted(rows, period=period, months=months).astype(float))
    out = g.groupby("manager_id").agg(high_value=("hit", "size"), contacted=("hit", "sum"))
    out = out.reset_index().astype({"high_value": float})
    out["coverage"] = out["contacted"] / out["high_value"]
    out["manager_name"] = _names(staff, unassigned, out["manager_id"].replace("", None))[1]
    out = out.sort_values(["coverage", "high_value", "manager_id"], ascending=[True, False, True])
    return out[cols].reset_index(drop=True)


def coverage_total(rows: pd.DataFrame, *, period: str, months: int) -> dict[str, float]:
    """The branch's row: high-value customers, contacted, coverage (NaN with none)."""
    hit = contacted(rows, period=period, months=months)
    return {
        "high_value": float(len(rows)),
        "contacted": float(hit.sum()),
        "coverage": ratio(float(hit.sum()), float(len(rows))),
    }


def not_contacted(
    rows: pd.DataFrame,
    *,
    period: str,
    months: int,
    staff: pd.DataFrame | None = None,
    unassigned: str = "-",
) -> pd.DataFrame:
    """The call list: high-value customers without a contact in the window, by manager
    (customers without one last), largest AUM first. Columns: manager_id,
    manager_name, customer_id, name (raw: mask before showing), asset_tier, aum,
    days_since_contact (to the period's last day; NaN: never contacted)."""
    out = rows[~contacted(rows, period=period, months=months)]
    mgr, names = _names(staff, unassigned, out["manager_id"])
    end = pd.Timestamp(Period.parse(period).end)
    out = out.assign(
        manager_id=mgr,
        manager_name=names,
        unassigned_=mgr == "",
        days_since_contact=(end - pd.to_datetime(out["last_contact"])).dt.days.astype(float),
    ).sort_values(
        ["unassigned_", "manager_id", "aum", "customer_id"], ascending=[True, True, False, True]
    )
    cols = ["manager_id", "manager_name", "customer_id", "name", "asset_tier", "aum",
            "days_since_contact"]  # fmt: skip
    return out[cols].reset_index(drop=True)
