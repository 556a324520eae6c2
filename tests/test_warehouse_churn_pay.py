"""Recomputed from the warehouse by their own SQL, as the ``tests/test_warehouse.py``
checks are: the staff KPI report's indicative pay and each manager's rating its bonus is
paid on (the KPIs, the scores within the grade, the composite, the forced bands and the
NPL veto), the churn early warning's out-of-time AUC and the satisfaction report's
win-back list.

"Published" is what the report's own notebook code puts on the page and in the workbook:
the notebook's code cells are run in-process (no kernel) with the parameters the runner
injects, on the small demo bank of ``conftest.py`` (prepared once per session) and on a
copy of it with answers planted (``planted_bank``), and the page's tables and action
lists are read back. The truth never goes through the library's SQL, its shared tables
or its scoring functions: it reads the contract tables (``balances``, ``customers``,
``loans``, ``loan_snapshots``, ``staff``, ``targets``, ``transactions``, ``complaints``,
``surveys``, ``aml_alerts``, ``kyc_history``) and the parameters, and scores and bands
with the rules of ``independent.py``.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import duckdb
import jupytext
import numpy as np
import pandas as pd
import pytest
from independent import asset_tier, forced_bands, peer_percentile, peer_zscore

from branchbook.page import Page
from branchbook.params import ParamSet
from branchbook.period import Period
from branchbook.reports import settings_classes

pytestmark = pytest.mark.slow

PERIOD = "2026-10"
BRANCHES = ("0101", "0102")
NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def _month_index(month: str) -> int:
    return int(month[:4]) * 12 + int(month[5:7])


def _warehouse(root: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(root / "build" / "demo" / "warehouse.duckdb"), read_only=True)


def _sections(root: Path, branch: str):
    return ParamSet(root / "params", settings_classes()).for_branch(branch)


def _run_report(root: Path, report: str, branch: str) -> dict:
    """Run ``report``'s notebook code for ``branch`` in-process, with the parameters the
    runner injects (the branch's validated parameters, the prepared period of ``root``).
    Returns the notebook's namespace, with ``_tables`` (each ``page.table`` call:
    ``headers`` and the frame given) and ``_lists`` (each ``page.action_table`` call:
    name -> the frame given and ``shown``)."""
    params = _sections(root, branch).notebook_parameters(
        report, period=PERIOD, build_dir=str(root / "build")
    )
    tables: list[tuple[str, pd.DataFrame]] = []
    lists: dict[str, tuple[pd.DataFrame, int]] = {}
    table, action_table = Page.table, Page.action_table

    def record_table(self, df, columns, **kw):
        tables.append((kw.get("headers", "columns"), df.copy()))
        return table(self, df, columns, **kw)

    def record_list(self, name, df, columns, *, shown):
        lists[name] = (df.copy(), shown)
        return action_table(self, name, df, columns, shown=shown)

    ns: dict = dict(params)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Page, "table", record_table)
        mp.setattr(Page, "action_table", record_list)
        for cell in jupytext.read(NOTEBOOKS / f"{report}.py").cells:
            if cell.cell_type == "code" and "parameters" not in cell.metadata.get("tags", []):
                exec(cell.source, ns)  # noqa: S102 - the project's own notebook
    return {**ns, "_tables": tables, "_lists": lists}


# -- indicative pay -------------------------------------------------------------------

# Each manager the staff KPI report shows for a branch (active and hired by the period's
# end, or no longer active but still holding customers open at its end or loans then),
# their grade and the commission on the loans they originated in the period, at the
# product's rate.
_PAY_SQL = """
WITH rates AS (SELECT unnest($products) AS product, unnest($rates) AS rate),
commission AS (
    SELECT l.manager_id, sum(l.principal * r.rate) AS commission
    FROM loans l JOIN rates r ON r.product = l.product
    WHERE l.originated_on >= $first AND l.originated_on <= $last
    GROUP BY ALL
)
SELECT s.staff_id, s.grade, coalesce(k.commission, 0.0) AS commission
FROM staff s LEFT JOIN commission k ON k.manager_id = s.staff_id
WHERE s.branch_id = $branch
  AND (s.hired_on IS NULL OR s.hired_on <= $last)
  AND (s.active
       OR EXISTS (SELECT 1 FROM customers c WHERE c.manager_id = s.staff_id
                  AND c.opened_on <= $last AND (c.closed_on IS NULL OR c.closed_on > $last))
       OR EXISTS (SELECT 1 FROM loan_snapshots x JOIN loans l USING (loan_id)
                  WHERE l.manager_id = s.staff_id AND x.month = $period AND x.outstanding > 0))
ORDER BY s.staff_id
"""


def _pay_truth(con, branch: str, settings) -> pd.DataFrame:
    dev = settings.development
    p = Period.parse(PERIOD)
    return con.execute(
        _PAY_SQL,
        {
            "products": list(dev.commission_rates),
            "rates": [float(r) for r in dev.commission_rates.values()],
            "first": p.start,
            "last": p.end,
            "branch": branch,
            "period": PERIOD,
        },
    ).df()


# -- the ratings the bonus is paid on -------------------------------------------------

#: The rating bands, best first.
BANDS = "ABCD"
#: The KPIs of which a low value is good (of the others, a high one).
LOW_IS_GOOD = frozenset(
    {"npl_ratio", "new_npl_rate", "complaint_rate", "closure_rate", "aml_open_rate"}
)
#: The targets of a KPI and, of those, the levels at the month's end (the others are
#: flows over the month).
TARGETS = (
    "new_customers",
    "net_new_aum",
    "deposit_growth",
    "loan_growth",
    "products_per_customer",
)
LEVELS = ("products_per_customer",)

# Per staff member of the bank and month from January of the period's year to the period
# (a member hired by the month's end, active, or still holding customers or loans): the
# sums their KPIs are ratios of. Of the customers whose manager they are today: those
# open at the month's end (opened by then, not closed: the book), with their balances on
# the basis (the average daily balances where the period's month has them, a row without
# them at its month end; an overdraft counts 0; no row counts 0), loans outstanding and
# products held at the month's end and their KYC status then (the latest
# ``kyc_history`` row on or before, else today's); the balances of last month's book;
# those opened in the month; those open at the start of the churn window (opened before
# it, not closed before it) and of them those closed by the month's end. The loans whose manager they are: outstanding at the month's
# end, non-performing (substandard, doubtful, loss) and newly so (not last month, or no
# snapshot then). Over the service window: the CSAT answers on the 0-100 scale and the
# complaints, by the manager they name, else the customer's. AML alerts on the book's
# customers open at the month's end (raised by then, not closed by then).
_BOOK_SQL = """
WITH months AS (
    SELECT strftime(d, '%Y-%m') AS month, CAST(d AS DATE) AS first_day,
           last_day(CAST(d AS DATE)) AS month_end,
           strftime(CAST(d AS DATE) - INTERVAL 1 MONTH, '%Y-%m') AS prev_month,
           CAST(d AS DATE) - to_months($churn_months - 1) AS churn_start,
           CAST(d AS DATE) - to_months($service_months - 1) AS service_start
    FROM range(CAST($first AS TIMESTAMP), CAST($last AS TIMESTAMP) + INTERVAL 1 MONTH,
               INTERVAL 1 MONTH) AS t(d)
),
basis AS (
    SELECT $average AND EXISTS (
        SELECT 1 FROM balances WHERE month = $period
          AND (deposits_avg IS NOT NULL OR wealth_avg IS NOT NULL)
    ) AS average
),
bal AS (
    SELECT b.customer_id, b.month, c.manager_id, c.opened_on, c.closed_on,
           greatest(coalesce(CASE WHEN x.average THEN b.deposits_avg END, b.deposits, 0), 0)
               AS deposits,
           coalesce(CASE WHEN x.average THEN b.wealth_avg END, b.wealth, 0) AS wealth,
           coalesce(b.loans_outstanding, 0) AS loans, coalesce(b.products_held, 0) AS products
    FROM balances b JOIN customers c USING (customer_id) CROSS JOIN basis x
),
held AS (
    SELECT b.manager_id, m.month, sum(b.deposits + b.wealth) AS aum,
           sum(b.deposits) AS deposits, sum(b.loans) AS loans, sum(b.products) AS products_held
    FROM bal b JOIN months m ON m.month = b.month
    WHERE b.opened_on <= m.month_end AND (b.closed_on IS NULL OR b.closed_on > m.month_end)
    GROUP BY ALL
),
held_before AS (
    SELECT b.manager_id, m.month, sum(b.deposits + b.wealth) AS aum_prev,
           sum(b.deposits) AS deposits_prev, sum(b.loans) AS loans_prev
    FROM bal b JOIN months m ON m.prev_month = b.month
    WHERE b.opened_on < m.first_day AND (b.closed_on IS NULL OR b.closed_on >= m.first_day)
    GROUP BY ALL
),
open AS (
    SELECT c.customer_id, c.manager_id, m.month,
           coalesce((SELECT h.kyc_status FROM kyc_history h
                     WHERE h.customer_id = c.customer_id AND h.valid_from <= m.month_end
                     ORDER BY h.valid_from DESC LIMIT 1), c.kyc_status) AS kyc_status
    FROM customers c JOIN months m
      ON c.opened_on <= m.month_end AND (c.closed_on IS NULL OR c.closed_on > m.month_end)
),
book AS (
    SELECT o.manager_id, o.month, count(*) AS n_customers,
           count(*) FILTER (WHERE o.kyc_status = 'complete') AS kyc_complete
    FROM open o
    GROUP BY ALL
),
joined AS (
    SELECT c.manager_id, m.month,
           count(*) FILTER (WHERE c.opened_on BETWEEN m.first_day AND m.month_end)
               AS new_customers,
           count(*) FILTER (WHERE c.opened_on < m.churn_start
                            AND (c.closed_on IS NULL OR c.closed_on >= m.churn_start))
               AS churn_base,
           count(*) FILTER (WHERE c.opened_on < m.churn_start
                            AND c.closed_on BETWEEN m.churn_start AND m.month_end) AS churned
    FROM customers c CROSS JOIN months m
    GROUP BY ALL
),
snap AS (
    SELECT l.manager_id, x.loan_id, x.month, coalesce(x.outstanding, 0) AS outstanding,
           coalesce(x.five_class IN ('substandard', 'doubtful', 'loss'), false) AS npl
    FROM loan_snapshots x JOIN loans l USING (loan_id)
),
lending AS (
    SELECT s.manager_id, m.month, count(*) FILTER (WHERE s.outstanding > 0) AS n_loans,
           sum(s.outstanding) AS book_outstanding,
           coalesce(sum(s.outstanding) FILTER (WHERE s.npl), 0) AS npl_outstanding,
           coalesce(sum(s.outstanding) FILTER (WHERE s.npl AND NOT coalesce(p.npl, false)), 0)
               AS new_npl
    FROM snap s JOIN months m ON m.month = s.month
    LEFT JOIN snap p ON p.loan_id = s.loan_id AND p.month = m.prev_month
    GROUP BY ALL
),
answers AS (
    SELECT coalesce(r.manager_id, c.manager_id) AS manager_id, m.month,
           count(*) AS n_surveys, sum(list_extract($scale, r.csat)) AS csat_points
    FROM surveys r JOIN customers c USING (customer_id)
    JOIN months m ON r.responded_on BETWEEN m.service_start AND m.month_end
    WHERE r.csat BETWEEN 1 AND 5
    GROUP BY ALL
),
grievances AS (
    SELECT coalesce(q.manager_id, c.manager_id) AS manager_id, m.month, count(*) AS n_complaints
    FROM complaints q JOIN customers c USING (customer_id)
    JOIN months m ON q.received_at >= m.service_start AND q.received_at < m.month_end + 1
    GROUP BY ALL
),
alerts AS (
    SELECT c.manager_id, m.month, count(*) AS aml_open
    FROM aml_alerts a JOIN customers c USING (customer_id)
    JOIN months m ON a.raised_on <= m.month_end
    WHERE (a.closed_on IS NULL AND a.status = 'open') OR a.closed_on > m.month_end
    GROUP BY ALL
)
SELECT s.staff_id, s.branch_id, s.grade, s.active, m.month,
       coalesce(b.n_customers, 0) AS n_customers, coalesce(b.kyc_complete, 0) AS kyc_complete,
       coalesce(j.new_customers, 0) AS new_customers,
       coalesce(j.churn_base, 0) AS churn_base, coalesce(j.churned, 0) AS churned,
       coalesce(h.aum, 0) AS aum, coalesce(p.aum_prev, 0) AS aum_prev,
       coalesce(h.deposits, 0) AS deposits, coalesce(p.deposits_prev, 0) AS deposits_prev,
       coalesce(h.loans, 0) AS loans, coalesce(p.loans_prev, 0) AS loans_prev,
       coalesce(h.products_held, 0) AS products_held,
       coalesce(l.book_outstanding, 0) AS book_outstanding,
       coalesce(l.npl_outstanding, 0) AS npl_outstanding, coalesce(l.new_npl, 0) AS new_npl,
       coalesce(a.n_surveys, 0) AS n_surveys, coalesce(a.csat_points, 0) AS csat_points,
       coalesce(g.n_complaints, 0) AS n_complaints, coalesce(x.aml_open, 0) AS aml_open
FROM staff s CROSS JOIN months m
LEFT JOIN book b ON b.manager_id = s.staff_id AND b.month = m.month
LEFT JOIN joined j ON j.manager_id = s.staff_id AND j.month = m.month
LEFT JOIN held h ON h.manager_id = s.staff_id AND h.month = m.month
LEFT JOIN held_before p ON p.manager_id = s.staff_id AND p.month = m.month
LEFT JOIN lending l ON l.manager_id = s.staff_id AND l.month = m.month
LEFT JOIN answers a ON a.manager_id = s.staff_id AND a.month = m.month
LEFT JOIN grievances g ON g.manager_id = s.staff_id AND g.month = m.month
LEFT JOIN alerts x ON x.manager_id = s.staff_id AND x.month = m.month
WHERE (s.hired_on IS NULL OR s.hired_on <= m.month_end)
  AND (s.active OR coalesce(b.n_customers, 0) > 0 OR coalesce(l.n_loans, 0) > 0)
ORDER BY s.staff_id, m.month
"""

_TARGETS_SQL = """
SELECT staff_id, period AS month, kpi, target FROM targets
WHERE period BETWEEN $first AND $period AND kpi IN (SELECT unnest($kpis))
"""


def _per(num: pd.Series, den: pd.Series) -> pd.Series:
    """``num / den``, NaN where ``den`` is 0 (nothing to measure)."""
    return num / den.where(den != 0)


def _book(con, settings) -> pd.DataFrame:
    """The sums of :data:`_BOOK_SQL` per staff member and month of the year to date, with
    the KPIs as the README and the KPI list define them."""
    b = con.execute(
        _BOOK_SQL,
        {
            "first": f"{PERIOD[:4]}-01-01",
            "last": f"{PERIOD}-01",
            "period": PERIOD,
            "churn_months": settings.churn_window_months,
            "service_months": settings.service_window_months,
            "average": settings.balance_basis == "average_daily",
            "scale": [float(v) for v in settings.csat_scale],
        },
    ).df()
    n = b["n_customers"]
    return b.assign(
        net_new_aum=b["aum"] - b["aum_prev"],
        deposit_growth=b["deposits"] - b["deposits_prev"],
        loan_growth=b["loans"] - b["loans_prev"],
        products_per_customer=_per(b["products_held"], n),
        npl_ratio=_per(b["npl_outstanding"], b["book_outstanding"]),
        new_npl_rate=_per(b["new_npl"], b["book_outstanding"]),
        csat=_per(b["csat_points"], b["n_surveys"]),
        complaint_rate=1000.0 * _per(b["n_complaints"], n),
        closure_rate=_per(b["churned"], b["churn_base"]),
        kyc_complete_rate=_per(b["kyc_complete"], n),
        aml_open_rate=1000.0 * _per(b["aml_open"], n),
    )


def _target_attainment(con, book: pd.DataFrame, settings) -> pd.Series:
    """Per staff member with a valid target in the period: the mean year-to-date
    attainment of their targets of the month, each kept within 0 and ``attainment_cap``.
    A flow's year to date is the sum of its results over the months of the year with a
    target of it (a month without the manager counting 0) over the sum of those targets;
    a level's is the month's own. Valid: the year-to-date target above 0 and the month's
    result known."""
    targets = con.execute(
        _TARGETS_SQL, {"first": f"{PERIOD[:4]}-01", "period": PERIOD, "kpis": list(TARGETS)}
    ).df()
    results = book.melt(
        id_vars=["staff_id", "month"], value_vars=list(TARGETS), var_name="kpi", value_name="actual"
    )
    t = targets.merge(results, on=["staff_id", "month", "kpi"], how="left")
    cap, kept = settings.attainment_cap, {}
    for (staff, kpi), year in t.groupby(["staff_id", "kpi"]):
        now = year[year["month"] == PERIOD]
        if now.empty or now["actual"].isna().all():
            continue
        if kpi in LEVELS:
            target, actual = now["target"].iloc[0], now["actual"].iloc[0]
        else:
            target, actual = year["target"].sum(), year["actual"].fillna(0.0).sum()
        if target > 0:
            kept.setdefault(staff, []).append(min(max(actual / target, 0.0), cap))
    return pd.Series({staff: float(np.mean(a)) for staff, a in kept.items()}, dtype=float)


def _score(values: pd.Series, peers: pd.Series, kpi: str, settings) -> pd.Series:
    """The KPI's 0-100 score within the peer group, by ``normalisation``."""
    good = "low" if kpi in LOW_IS_GOOD else "high"
    if settings.normalisation == "zscore":
        lower, upper = settings.winsor_lower, settings.winsor_upper
        return peer_zscore(values, peers, good=good, lower=lower, upper=upper)
    return peer_percentile(values, peers, good=good)


def _dimension(rated: pd.DataFrame, kpis, settings) -> pd.Series:
    """A dimension's score: the mean of its KPIs' scores within the grade, over those the
    manager has (NaN without one)."""
    scores = [_score(rated[k], rated["grade"], k, settings) for k in kpis]
    return pd.concat(scores, axis=1).mean(axis=1)


def _ratings(con, settings) -> pd.DataFrame:
    """Every staff member of the bank in the period, by ``staff_id``: the book's KPIs,
    ``target_attainment``, ``rated`` (active, at least ``min_book_customers`` open
    customers), and for the rated ``composite`` and the band before (``rating_raw``) and
    after (``rating``) the veto; None: not rated.

    Each scorecard KPI is scored within the rated of the same grade bank-wide; a
    dimension is the mean of its KPIs' scores, the composite the weighted mean of the
    dimensions that have one (the weights rescaled over them). The bands are forced
    within ``rating_pool`` (:func:`independent.forced_bands`, the composite to 1e-9 so
    that a tie is one), and a band better than ``veto_cap`` is capped there when the
    loan book's NPL ratio is above ``npl_veto_limit``."""
    book = _book(con, settings)
    m = book[book["month"] == PERIOD].set_index("staff_id")
    m = m.assign(target_attainment=_target_attainment(con, book, settings).reindex(m.index))
    m = m.assign(rated=m["active"] & (m["n_customers"] >= settings.min_book_customers))
    rated = m[m["rated"]]
    dims = pd.DataFrame(
        {d: _dimension(rated, kpis, settings) for d, kpis in settings.scorecard.items()},
        index=rated.index,
    )
    w = pd.Series(settings.dimension_weights)[dims.columns]
    weight = dims.notna().mul(w).sum(axis=1)
    composite = dims.fillna(0.0).mul(w).sum(axis=1) / weight.where(weight > 0)
    bank = pd.Series("bank", index=rated.index)
    pools = {"grade": rated["grade"], "bank": bank, "branch": rated["branch_id"]}
    raw = forced_bands(composite.round(9), pools[settings.rating_pool], settings.rating_shares)
    cap = BANDS.index(settings.veto_cap)
    better = raw.map(lambda r: isinstance(r, str) and BANDS.index(r) < cap)
    vetoed = better & (rated["npl_ratio"] > settings.npl_veto_limit)
    rating = raw.mask(vetoed, settings.veto_cap)
    return m.assign(
        composite=composite.reindex(m.index),
        rating_raw=raw.reindex(m.index),
        rating=rating.reindex(m.index),
    )


def _check_ratings(ratings: pd.DataFrame, ns: dict, shown: pd.DataFrame, settings) -> None:
    """The report's scorecard for the managers ``shown`` on the pay table against the
    recomputed ``ratings``: each scorecard KPI and the target attainment first (where a
    rating differs, they say why), then the composite, and the rating on the page ("none"
    where not rated)."""
    sc = ns["sc"]
    sc = sc[sc["month"] == PERIOD].set_index("staff_id").loc[shown.index]
    mine = ratings.loc[shown.index]
    assert sc["rated"].astype(bool).tolist() == mine["rated"].tolist()
    for kpi in [*(k for ks in settings.scorecard.values() for k in ks), "target_attainment"]:
        got, want = sc[kpi].to_numpy(float), mine[kpi].to_numpy(float)
        assert got == pytest.approx(want, rel=1e-9, abs=1e-9, nan_ok=True), kpi
    got, want = sc["composite"].to_numpy(float), mine["composite"].to_numpy(float)
    assert got == pytest.approx(want, abs=1e-9, nan_ok=True)
    assert shown["rating"].tolist() == mine["rating"].fillna("none").tolist()


def _check_pay(root: Path) -> pd.DataFrame:
    """Per manager of each branch of ``root``: base pay by grade, the grade's standard
    bonus x the coefficient of the manager's rating and commission = principal of the
    loans originated in the month x the product's rate, recomputed from the warehouse by
    their own queries and the validated parameters, against the pay table the staff KPI
    notebook puts on the page. The rating is recomputed too (:func:`_ratings`: the KPIs
    from the contract tables, scored and banded bank-wide, then the veto) and checked
    against the report's scorecard (:func:`_check_ratings`); a manager not rated has no
    bonus and no total. Returns the recomputed pay of every branch, with the rating before
    and after the veto."""
    con = _warehouse(root)
    out = []
    try:
        # the bank's scoring values: a branch file cannot change them
        ratings = _ratings(con, _sections(root, BRANCHES[0]).sections["staff_kpi"])
        for branch in BRANCHES:
            settings = _sections(root, branch).sections["staff_kpi"]
            dev = settings.development
            ns = _run_report(root, "staff_kpi", branch)
            shown = [f for h, f in ns["_tables"] if h == "pay_columns"]
            assert len(shown) == 1, branch
            got = shown[0].set_index("staff_id")
            want = _pay_truth(con, branch, settings).set_index("staff_id")
            assert len(want) > 0 and sorted(got.index) == sorted(want.index), branch
            _check_ratings(ratings, ns, got.loc[want.index], settings)
            rated = ratings.loc[want.index, ["rating_raw", "rating"]]
            factor = rated["rating"].map(dict(settings.bonus_coefficients))
            want = want.join(rated).assign(
                base=want["grade"].map(dev.base_pay).astype(float),
                bonus=want["grade"].map(dev.standard_bonus).astype(float) * factor.astype(float),
            )
            want = want.assign(total=want["base"] + want["bonus"] + want["commission"])
            g = got.loc[want.index]
            assert g["grade"].tolist() == want["grade"].tolist()
            for col in ("base", "bonus", "commission", "total"):
                assert g[col].to_numpy() == pytest.approx(want[col].to_numpy(), nan_ok=True), col
            assert np.isfinite(g["total"]).any(), branch  # someone rated: a total to compare
            out.append(want.assign(branch_id=branch))
    finally:
        con.close()
    return pd.concat(out)


def test_indicative_pay_matches_the_warehouse_and_the_parameters(small_bank):
    pay = _check_pay(small_bank)
    assert (pay["commission"] > 0).any()  # the demo's managers originate loans in the month
    # the demo has a manager whose NPL ratio lowers the band: the veto is checked too
    assert (pay["rating_raw"].notna() & (pay["rating"] != pay["rating_raw"])).any()


# -- churn: who was active, who churned -------------------------------------------------

# Per balance row (``k``: the month as a number): the AUM on the balance basis (the
# average daily balances, a row without them at its month end; an overdraft counts 0),
# the month-end AUM the churn floor reads, ``low`` (month-end AUM under the floor in this
# calendar month and the two before, each with a balance row) and ``active`` (not low,
# not closed by the month's end). ``churns``: the months k a customer active at the end of
# k - 1 churned in (closed by the end of k, or low at k).
_CHURN_CTES = """
WITH b AS (
    SELECT customer_id, month,
           CAST(substr(month, 1, 4) AS INTEGER) * 12 + CAST(substr(month, 6, 2) AS INTEGER) AS k,
           last_day(CAST(month || '-01' AS DATE)) AS month_end,
           greatest(coalesce(deposits, 0), 0) + coalesce(wealth, 0) AS aum_end,
           greatest(coalesce(deposits_avg, deposits, 0), 0) + coalesce(wealth_avg, wealth, 0) AS aum,
           products_held, loans_outstanding
    FROM balances
),
low AS (
    SELECT customer_id, k,
           count(*) FILTER (WHERE aum_end < $floor) OVER (
               PARTITION BY customer_id ORDER BY k RANGE BETWEEN 2 PRECEDING AND CURRENT ROW
           ) = 3 AS low
    FROM b
),
state AS (
    SELECT b.customer_id, b.k, b.month, b.month_end,
           NOT l.low AND (c.closed_on IS NULL OR c.closed_on > b.month_end) AS active
    FROM b JOIN low l USING (customer_id, k) JOIN customers c USING (customer_id)
),
months AS (SELECT DISTINCT k, month, month_end FROM b),
churns AS (
    SELECT p.customer_id, m.k
    FROM state p JOIN customers c USING (customer_id)
    JOIN months m ON m.k = p.k + 1
    LEFT JOIN low l ON l.customer_id = p.customer_id AND l.k = m.k
    WHERE p.active
      AND ((c.closed_on IS NOT NULL AND c.closed_on <= m.month_end) OR coalesce(l.low, false))
)
"""

# The customers active at the end of month $k with the model's inputs then and whether
# they churned within $horizon months: AUM now and three months before, transactions in
# the last three months and the three before (digital: mobile or online), products held,
# tenure, complaints in twelve months, the last CSAT answer in twelve months (0-100) and
# loans outstanding at the month's end or not.
_SAMPLE_SQL = (
    _CHURN_CTES
    + """
, tx AS (
    SELECT t.customer_id,
           CAST(strftime(t.txn_date, '%Y') AS INTEGER) * 12
               + CAST(strftime(t.txn_date, '%m') AS INTEGER) AS k,
           coalesce(t.channel IN ('mobile', 'online'), false) AS digital
    FROM transactions t
),
last_answer AS (
    SELECT r.customer_id, r.csat
    FROM surveys r
    WHERE r.csat BETWEEN 1 AND 5
      AND CAST(strftime(r.responded_on, '%Y') AS INTEGER) * 12
          + CAST(strftime(r.responded_on, '%m') AS INTEGER) BETWEEN $k - 11 AND $k
    QUALIFY row_number() OVER (PARTITION BY r.customer_id ORDER BY r.responded_on DESC) = 1
)
SELECT s.customer_id,
       EXISTS (SELECT 1 FROM churns x WHERE x.customer_id = s.customer_id
               AND x.k BETWEEN $k + 1 AND $k + $horizon) AS churned,
       b0.aum, coalesce(b3.aum, 0.0) AS aum_before, coalesce(b0.products_held, 0) AS products_held,
       coalesce(b0.loans_outstanding, 0.0) > 0 AS has_loan,
       date_diff('day', c.opened_on, s.month_end) / 365.25 AS tenure_years,
       (SELECT count(*) FROM tx WHERE tx.customer_id = s.customer_id AND tx.digital
            AND tx.k BETWEEN $k - 2 AND $k) AS dig_recent,
       (SELECT count(*) FROM tx WHERE tx.customer_id = s.customer_id AND tx.digital
            AND tx.k BETWEEN $k - 5 AND $k - 3) AS dig_prior,
       (SELECT count(*) FROM tx WHERE tx.customer_id = s.customer_id AND NOT tx.digital
            AND tx.k BETWEEN $k - 2 AND $k) AS phys_recent,
       (SELECT count(*) FROM tx WHERE tx.customer_id = s.customer_id AND NOT tx.digital
            AND tx.k BETWEEN $k - 5 AND $k - 3) AS phys_prior,
       (SELECT count(*) FROM complaints q WHERE q.customer_id = s.customer_id
            AND CAST(strftime(q.received_at, '%Y') AS INTEGER) * 12
                + CAST(strftime(q.received_at, '%m') AS INTEGER) BETWEEN $k - 11 AND $k)
           AS complaints_12m,
       a.csat
FROM state s
JOIN customers c USING (customer_id)
JOIN b b0 ON b0.customer_id = s.customer_id AND b0.k = s.k
LEFT JOIN b b3 ON b3.customer_id = s.customer_id AND b3.k = s.k - 3
LEFT JOIN last_answer a ON a.customer_id = s.customer_id
WHERE s.k = $k AND s.active
ORDER BY s.customer_id
"""
)


def _sample(con, month: str, settings) -> pd.DataFrame:
    """The customers active at the end of ``month`` with their inputs and outcome, and
    the model's features computed from them as the README defines them."""
    raw = con.execute(
        _SAMPLE_SQL,
        {
            "k": _month_index(month),
            "horizon": settings.churn_model_horizon_months,
            "floor": float(settings.churn_aum_floor),
        },
    ).df()
    csat_100 = raw["csat"].map(
        lambda a: settings.csat_scale[int(a) - 1] if pd.notna(a) else math.nan
    )
    aum, before = raw["aum"].clip(lower=0), raw["aum_before"].clip(lower=0)
    x = pd.DataFrame(
        {
            "aum_log": np.log10(1 + aum),
            "aum_trend": np.log((aum + 1_000) / (before + 1_000)),
            "txn_recent": np.log(1 + raw["dig_recent"] + raw["phys_recent"]),
            "digital_trend": np.log((raw["dig_recent"] + 1) / (raw["dig_prior"] + 1)),
            "branch_trend": np.log((raw["phys_recent"] + 1) / (raw["phys_prior"] + 1)),
            "products_held": raw["products_held"].astype(float),
            "tenure_years": raw["tenure_years"].astype(float),
            "complaints_12m": raw["complaints_12m"].astype(float),
            "dissatisfied": (csat_100.astype(float) < settings.band_bounds[0]).astype(float),
            "has_loan": raw["has_loan"].astype(float),
            "below_floor": (raw["aum"] < settings.churn_aum_floor).astype(float),
        }
    )
    # the linear splines, at the README's knots
    knots = {
        "aum_trend": (-0.6, -0.3, -0.15, 0.0, 0.15),
        "aum_log": (3.0, 3.5, 4.0, 5.0),
        "tenure_years": (0.5, 1.0, 2.0),
    }
    for f, ks in knots.items():
        for i, knot in enumerate(ks, start=1):
            x[f"{f}_k{i}"] = np.maximum(x[f] - knot, 0.0)
    return pd.concat([raw[["customer_id", "churned"]], x], axis=1)


def _log_odds(model: pd.DataFrame, x: pd.DataFrame) -> np.ndarray:
    """The published model's log-odds (``intercept + sum coef x (value - mean)``)."""
    rows = model[model["feature"] != "intercept"]
    intercept = float(model.loc[model["feature"] == "intercept", "coef"].iloc[0])
    centred = x[list(rows["feature"])].to_numpy(float) - rows["mean"].to_numpy(float)
    return intercept + centred @ rows["coef"].to_numpy(float)


def _mann_whitney_auc(y: np.ndarray, s: np.ndarray) -> float:
    """AUC by the Mann-Whitney rank formula: (rank sum of the events - m(m+1)/2) / (m n),
    ranks averaged over ties."""
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s))
    sorted_s = s[order]
    i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and sorted_s[j + 1] == sorted_s[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1  # 1-based, the tie's mean
        i = j + 1
    m, n = int(y.sum()), int(len(y) - y.sum())
    return float((ranks[y == 1].sum() - m * (m + 1) / 2) / (m * n))


def _delong_se(y: np.ndarray, s: np.ndarray) -> float:
    """DeLong's standard error from every event x non-event pair (1 when the event is
    scored higher, 1/2 on a tie): the variances of the per-event and per-non-event means."""
    pos, neg = s[y == 1], s[y == 0]
    psi = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    v10, v01 = psi.mean(axis=1), psi.mean(axis=0)
    return float(np.sqrt(v10.var(ddof=1) / len(pos) + v01.var(ddof=1) / len(neg)))


def _bench(root: Path, name: str) -> pd.DataFrame:
    return pd.read_parquet(root / "build" / PERIOD / "prepared" / "bench" / f"{name}.parquet")


def _extracts(root: Path, name: str) -> pd.DataFrame:
    folder = root / "build" / PERIOD / "prepared" / "extracts"
    return pd.concat(
        [pd.read_parquet(p) for p in sorted(folder.glob(f"*/{name}.parquet"))], ignore_index=True
    )


def test_churn_scores_of_the_period_follow_from_the_published_model(small_bank):
    """The features computed here from the warehouse, put through the published model,
    rank the customers active at the period's end as the published ``score`` does: so
    the same features, at the validation month, give the validation sample's scores."""
    settings = _sections(small_bank, BRANCHES[0]).sections["satisfaction"]
    con = _warehouse(small_bank)
    try:
        now = _sample(con, PERIOD, settings)
    finally:
        con.close()
    model = _bench(small_bank, "bench_satisfaction_churn_model")
    assert len(model) > 1  # fitted
    mine = pd.Series(_log_odds(model, now), index=now["customer_id"]).rank(pct=True)
    published = _extracts(small_bank, "satisfaction_churn_risk").set_index("customer_id")
    assert len(published) > 0 and set(published.index) == set(mine.index)
    score = published["score"].reindex(mine.index)
    assert np.isfinite(score).all()
    assert score.to_numpy() == pytest.approx(mine.to_numpy(), abs=1e-9)


def test_churn_out_of_time_auc_recomputed_from_the_warehouse(small_bank):
    """The validation sample (active at the end of the period - horizon), its outcome
    (closed, or month-end AUM under the floor three months running, within the horizon)
    by its own query; the published model's probabilities for it; the AUC by the
    Mann-Whitney rank formula and DeLong's interval from every pair, against the published
    figures; and an interval that is an interval around the AUC, inside 0-1."""
    settings = _sections(small_bank, BRANCHES[0]).sections["satisfaction"]
    v = _bench(small_bank, "bench_satisfaction_churn_validation").iloc[0]
    horizon = settings.churn_model_horizon_months
    month = str(Period.parse(PERIOD).shift(-horizon))
    assert v["validation_month"] == month and v["status"] == "fitted"
    con = _warehouse(small_bank)
    try:
        sample = _sample(con, month, settings)
    finally:
        con.close()
    y = sample["churned"].to_numpy(int)
    events = int(y.sum())
    assert events >= settings.churn_model_min_events and len(y) - events > events
    assert (v["customers"], v["events"]) == (len(y), events)
    a, b = float(v["calibration_intercept"]), float(v["calibration_slope"])
    log_odds = _log_odds(_bench(small_bank, "bench_satisfaction_churn_model"), sample)
    p = 1 / (1 + np.exp(-(a + b * log_odds)))
    assert np.isfinite(p).all() and p.min() < p.max()
    auc = _mann_whitney_auc(y, p)
    assert math.isfinite(auc) and 0.5 < auc < 1.0
    assert v["auc"] == pytest.approx(auc, abs=1e-9)
    se = _delong_se(y, p)
    z = 1.959963984540054
    assert v["auc_low"] == pytest.approx(max(0.0, auc - z * se), abs=1e-9)
    assert v["auc_high"] == pytest.approx(min(1.0, auc + z * se), abs=1e-9)
    assert 0.0 <= v["auc_low"] < v["auc"] < v["auc_high"] <= 1.0
    # about 23 events: an interval neither a point nor the whole scale
    assert 0.02 < v["auc_high"] - v["auc_low"] < 0.5
    assert v["predicted_rate"] == pytest.approx(p.mean(), rel=1e-9)


# -- win-back ---------------------------------------------------------------------------

# The customers whose first churn in the last $n months ending at month $k fell in that
# window and who are not active at the end of $k, with their branch and manager, how they
# left (closed by the end of the churn month, else drained: assets under the floor) and
# their highest AUM (balance basis) in the six months before (0 without a balance row).
_LOST_SQL = (
    _CHURN_CTES
    + """
, lost AS (
    SELECT customer_id, min(k) AS k FROM churns WHERE k BETWEEN $k - $n + 1 AND $k GROUP BY ALL
)
SELECT l.customer_id, c.branch_id, coalesce(s.name, '') AS manager_name, m.month AS churn_month,
       coalesce(c.closed_on <= m.month_end, false) AS closed,
       coalesce((SELECT max(b.aum) FROM b WHERE b.customer_id = l.customer_id
                 AND b.k BETWEEN l.k - 6 AND l.k - 1), 0.0) AS peak_aum
FROM lost l
JOIN customers c USING (customer_id)
JOIN months m ON m.k = l.k
LEFT JOIN staff s ON s.staff_id = c.manager_id
WHERE NOT EXISTS (SELECT 1 FROM state a WHERE a.customer_id = l.customer_id
                  AND a.k = $k AND a.active)
ORDER BY l.customer_id
"""
)

# Customers of 0101 open throughout, over 100,000 of assets at every month end and on
# average from February to October, whom the planted bank drains (see ``planted_bank``).
_STEADY_SQL = """
SELECT c.customer_id FROM customers c JOIN balances b USING (customer_id)
WHERE c.branch_id = '0101' AND c.closed_on IS NULL AND b.month BETWEEN '2026-02' AND '2026-10'
GROUP BY ALL
HAVING count(*) = 9 AND min(b.deposits + b.wealth) > 100000
   AND min(coalesce(b.deposits_avg, b.deposits) + coalesce(b.wealth_avg, b.wealth)) > 100000
ORDER BY c.customer_id LIMIT 5
"""

#: Planted drains: the months a customer's assets are 100 (under the floor of 1,000), and
#: the month of its churn in the win-back window (None: not on the list).
PLANTED = {
    "drained_in_october": (("2026-08", "2026-09", "2026-10"), "2026-10"),
    "drained_in_august": (("2026-06", "2026-07", "2026-08", "2026-09", "2026-10"), "2026-08"),
    "back_in_october": (("2026-07", "2026-08", "2026-09"), None),  # active again at the end
    "drained_before": (("2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10"), None),
    # no balance row for July (below): June, August and September are not three months
    # running, August to October are
    "drained_with_a_gap": (("2026-06", "2026-08", "2026-09", "2026-10"), "2026-10"),
}
#: Planted balance rows taken out: the story and the month.
NO_ROW = ("drained_with_a_gap", "2026-07")


# An October loan of a 0101 manager, at a rate above 0, that the planted bank books at 0102.
_LOAN_SQL = """
SELECT l.loan_id, l.manager_id FROM loans l JOIN staff s ON s.staff_id = l.manager_id
WHERE s.branch_id = '0101' AND l.originated_on BETWEEN DATE '2026-10-01' AND DATE '2026-10-31'
  AND l.product IN ('consumer', 'business', 'working_capital', 'trade_finance')
ORDER BY l.loan_id LIMIT 1
"""


@pytest.fixture(scope="module")
def planted_bank(small_bank, tmp_path_factory):
    """A copy of the small bank, prepared again, where the right answers are known: five
    steady, valuable customers of 0101 drained (:data:`PLANTED`, one with a month's
    balance row missing, :data:`NO_ROW`; the demo drains almost no one), and one loan a 0101 manager originated in October booked at 0102 (a customer
    of another branch, or a manager moved since). Returns the folder and what was planted:
    the customers by story, ``loan`` and its ``manager``."""
    from branchbook.prepare import prepare

    root = tmp_path_factory.mktemp("planted_bank")
    shutil.copytree(small_bank / "params", root / "params")
    warehouse = root / "build" / "demo" / "warehouse.duckdb"
    warehouse.parent.mkdir(parents=True)
    shutil.copy(small_bank / "build" / "demo" / "warehouse.duckdb", warehouse)
    con = duckdb.connect(str(warehouse))
    try:
        ids = [r[0] for r in con.execute(_STEADY_SQL).fetchall()]
        assert len(ids) == len(PLANTED)
        planted = dict(zip(PLANTED, ids, strict=True))
        for story, (months, _) in PLANTED.items():
            con.execute(
                "UPDATE balances SET deposits = 100, deposits_avg = 100, wealth = 0, wealth_avg = 0"
                " WHERE customer_id = $c AND month IN (SELECT unnest($m))",
                {"c": planted[story], "m": list(months)},
            )
        con.execute(
            "DELETE FROM balances WHERE customer_id = ? AND month = ?",
            [planted[NO_ROW[0]], NO_ROW[1]],
        )
        planted["loan"], planted["manager"] = con.execute(_LOAN_SQL).fetchone()
        con.execute("UPDATE loans SET branch_id = '0102' WHERE loan_id = ?", [planted["loan"]])
    finally:
        con.close()
    prepare(None, source=warehouse, params_dir=root / "params", build_dir=root / "build")
    return root, planted


def _check_winback(root: Path) -> pd.DataFrame:
    """Per branch of ``root``: the published lost customers are exactly the warehouse's,
    and the win-back list (page and workbook) exactly those whose peak tier is in
    ``winback_tiers``, by manager (the most assets lost first, no manager last), then by
    the peak AUM; the page shows ``churn_list_rows`` of them. Returns the lists."""
    con = _warehouse(root)
    out = []
    try:
        for branch in BRANCHES:
            settings = _sections(root, branch).sections["satisfaction"]
            truth = con.execute(
                _LOST_SQL,
                {
                    "k": _month_index(PERIOD),
                    "n": settings.winback_months,
                    "floor": float(settings.churn_aum_floor),
                },
            ).df()
            truth = truth[truth["branch_id"] == branch].set_index("customer_id")
            lost = pd.read_parquet(
                root
                / "build"
                / PERIOD
                / "prepared"
                / "extracts"
                / branch
                / "satisfaction_lost.parquet"
            ).set_index("customer_id")
            assert sorted(lost.index) == sorted(truth.index), branch
            assert lost.loc[truth.index, "churn_month"].tolist() == truth["churn_month"].tolist()
            assert lost.loc[truth.index, "closed"].tolist() == truth["closed"].tolist()
            assert lost.loc[truth.index, "peak_aum"].to_numpy() == pytest.approx(
                truth["peak_aum"].to_numpy()
            )

            tier = asset_tier(truth["peak_aum"], settings.asset_tiers)
            want = truth[tier.isin(settings.winback_tiers)].reset_index()
            want = want.assign(
                peak_tier=tier[tier.isin(settings.winback_tiers)].to_numpy(),
                how=np.where(want["closed"], "closed", "drained"),
            )
            total = want.groupby("manager_name")["peak_aum"].transform("sum")
            want = want.assign(_none=want["manager_name"].eq(""), _total=total)
            want = want.sort_values(
                ["_none", "_total", "manager_name", "peak_aum", "customer_id"],
                ascending=[True, False, True, False, True],
            ).reset_index(drop=True)

            ns = _run_report(root, "satisfaction", branch)
            got = ns["winback"]
            cols = ["customer_id", "manager_name", "churn_month", "how", "peak_tier"]
            assert got[cols].to_dict("records") == want[cols].to_dict("records"), branch
            assert got["peak_aum"].to_numpy() == pytest.approx(want["peak_aum"].to_numpy())
            if len(want):
                listed, shown = ns["_lists"]["winback"]
                assert shown == settings.churn_list_rows
                assert listed["customer_id"].tolist() == want["customer_id"].tolist()
                rows = ns["page"].actions["winback"]["rows"]  # the workbook: every row
                assert [r[0] for r in rows] == want["customer_id"].tolist()
            else:
                assert "winback" not in ns["_lists"]
            out.append(want.assign(branch_id=branch, lost=len(truth)))
    finally:
        con.close()
    return pd.concat(out, ignore_index=True)


def test_winback_list_is_exactly_the_valuable_customers_lost_lately(small_bank):
    """On the small demo bank as built: the lost customers of the last three months
    (closed or drained, not active again) by the warehouse's own query, and the list."""
    lists = _check_winback(small_bank)
    assert len(lists) > 0 and lists["peak_aum"].gt(0).all()


def test_winback_lists_the_planted_drained_customers(planted_bank):
    """On the planted bank: the customers drained in the window and not back are listed
    as drained, in their churn month (three calendar months under the floor: a month
    without a balance row breaks the run); the one back at the period's end and the one
    drained before the window are not; and the lists are again exactly the warehouse's."""
    root, planted = planted_bank
    lists = _check_winback(root).set_index("customer_id")
    drained = lists[lists["how"] == "drained"]
    want = {planted[s]: month for s, (_, month) in PLANTED.items() if month}
    assert drained["churn_month"].to_dict() == want
    assert not {planted["back_in_october"], planted["drained_before"]} & set(lists.index)


def test_a_loan_booked_at_another_branch_earns_its_manager_commission(planted_bank):
    """The manager of 0101 whose October loan is booked at 0102 is paid its commission in
    0101's report (as their loan book counts it), and no one in 0102's report is."""
    root, planted = planted_bank
    pay = _check_pay(root)
    con = _warehouse(root)
    try:
        product, principal = con.execute(
            "SELECT product, principal FROM loans WHERE loan_id = ?", [planted["loan"]]
        ).fetchone()
    finally:
        con.close()
    rate = _sections(root, "0101").sections["staff_kpi"].development.commission_rates[product]
    mine = pay[pay["branch_id"] == "0101"].loc[planted["manager"], "commission"]
    assert mine >= principal * rate > 0
