"""The segmentation report's customer lifetime value recomputed from the warehouse by its
own SQL, as the ``tests/test_warehouse.py`` checks are.

"Published" is what the report's notebook code puts on the page: its code cells are run
in-process (no kernel) with the parameters the runner injects, on the small demo bank of
``conftest.py``, and the page's tables are read back. The truth reads the contract
tables (``customers``, ``balances``, ``holdings``, ``loans``, ``loan_snapshots``), the
validated parameters and the retention the churn early warning publishes (its
probabilities and horizon, prepared by the satisfaction report); it never goes through
the library's SQL, its shared tables or its product classes.
"""

from __future__ import annotations

import html
import shutil
from pathlib import Path

import duckdb
import jupytext
import pandas as pd
import pytest
from independent import asset_tier

from branchbook.page import Page
from branchbook.params import ParamSet
from branchbook.period import Period
from branchbook.reports import settings_classes

pytestmark = pytest.mark.slow

PERIOD = "2026-10"
BRANCH = "0101"
NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"

#: The balance class of each product, as the data contract lists them.
DEPOSITS = ("deposit", "time_deposit")
WEALTH = ("wealth", "fund", "insurance", "bond")
LOANS = ("mortgage", "consumer", "business", "working_capital", "trade_finance")

# Per open customer of the branch: its balances on the average daily basis (the month end
# where a row has no average; deposits in overdraft at 0), its AUM and the margin of each
# balance class: the products' margins weighted by their month-end balances (holdings for
# deposits and wealth, loan snapshots for loans), the class's margin without product rows.
_TRUTH_SQL = """
WITH o AS (
    SELECT customer_id, customer_type FROM customers
    WHERE branch_id = $branch AND opened_on <= $end AND (closed_on IS NULL OR closed_on > $end)
),
b AS (
    SELECT customer_id,
           greatest(coalesce(deposits_avg, deposits), 0) AS dep,
           coalesce(wealth_avg, wealth) AS wealth,
           coalesce(loans_outstanding, 0) AS loans,
           greatest(coalesce(deposits_avg, deposits, 0), 0) + coalesce(wealth_avg, wealth, 0)
               AS aum
    FROM balances WHERE month = $period
),
held AS (
    {holdings}
    SELECT l.customer_id, l.product, s.outstanding AS balance
    FROM loan_snapshots s JOIN loans l ON l.loan_id = s.loan_id
    WHERE s.month = $period AND s.outstanding > 0
),
rate AS (
    SELECT unnest($products) AS product, unnest($classes) AS cls, unnest($rates) AS rate
),
eff AS (
    SELECT h.customer_id, r.cls, sum(h.balance * r.rate) / sum(h.balance) AS rate
    FROM held h JOIN rate r ON r.product = h.product
    GROUP BY ALL
)
SELECT o.customer_id, o.customer_type, b.dep, b.wealth, b.loans, coalesce(b.aum, 0) AS aum,
       coalesce(d.rate, $deposit_margin) AS r_dep,
       coalesce(w.rate, $wealth_margin) AS r_wealth,
       coalesce(l.rate, $loan_margin) AS r_loans
FROM o
LEFT JOIN b ON b.customer_id = o.customer_id
LEFT JOIN eff d ON d.customer_id = o.customer_id AND d.cls = 'deposits'
LEFT JOIN eff w ON w.customer_id = o.customer_id AND w.cls = 'wealth'
LEFT JOIN eff l ON l.customer_id = o.customer_id AND l.cls = 'loans'
ORDER BY o.customer_id
"""
_HOLDINGS = """SELECT customer_id, product_type AS product, balance
    FROM holdings WHERE month = $period AND balance > 0
    UNION ALL"""


def _settings(root: Path):
    return ParamSet(root / "params", settings_classes()).for_branch(BRANCH)


def _run_segmentation(root: Path) -> tuple[dict, list[pd.DataFrame]]:
    """Run the segmentation notebook's code for the branch in-process with the parameters
    the runner injects; returns its namespace and the frames given to ``page.table``."""
    params = _settings(root).notebook_parameters(
        "segmentation", period=PERIOD, build_dir=str(root / "build")
    )
    tables: list[pd.DataFrame] = []
    table = Page.table

    def record_table(self, df, columns, **kw):
        tables.append(df.copy())
        return table(self, df, columns, **kw)

    ns: dict = dict(params)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Page, "table", record_table)
        for cell in jupytext.read(NOTEBOOKS / "segmentation.py").cells:
            if cell.cell_type == "code" and "parameters" not in cell.metadata.get("tags", []):
                exec(cell.source, ns)  # noqa: S102 - the project's own notebook
    return ns, tables


def _truth(
    root: Path, clv, *, product_margins: dict[str, float], holdings: bool = True
) -> pd.DataFrame:
    """Each open customer of the branch with its AUM, yearly margin, retention and CLV
    from the warehouse, ``product_margins`` and the published churn probabilities;
    ``holdings`` False: the warehouse has no such table (loans alone by product)."""
    classes = {
        **dict.fromkeys(DEPOSITS, ("deposits", clv.deposit_margin)),
        **dict.fromkeys(WEALTH, ("wealth", clv.wealth_margin)),
        **dict.fromkeys(LOANS, ("loans", clv.loan_margin)),
    }
    products = list(classes)
    con = duckdb.connect(str(root / "build" / "demo" / "warehouse.duckdb"), read_only=True)
    try:
        w = con.execute(
            _TRUTH_SQL.format(holdings=_HOLDINGS if holdings else ""),
            {
                "branch": BRANCH,
                "period": PERIOD,
                "end": Period.parse(PERIOD).end,
                "products": products,
                "classes": [classes[p][0] for p in products],
                "rates": [float(product_margins.get(p, classes[p][1])) for p in products],
                "deposit_margin": clv.deposit_margin,
                "wealth_margin": clv.wealth_margin,
                "loan_margin": clv.loan_margin,
            },
        ).df()
    finally:
        con.close()
    prepared = root / "build" / PERIOD / "prepared"
    scores = pd.read_parquet(prepared / "extracts" / BRANCH / "satisfaction_churn_risk.parquet")
    check = pd.read_parquet(prepared / "bench" / "bench_satisfaction_churn_validation.parquet")
    months = int(check["horizon_months"].iloc[0])
    w = w.merge(scores[["customer_id", "probability"]], on="customer_id", how="left")
    margin = w["dep"] * w["r_dep"] + w["wealth"] * w["r_wealth"] + w["loans"] * w["r_loans"]
    retention = (1 - w["probability"]) ** (12 / months)
    q = retention / (1 + clv.discount_rate)
    value = margin * sum(q**t for t in range(1, clv.years + 1))
    return w.assign(margin=margin, retention=retention, clv=value)


def _published(ns_tables: list[pd.DataFrame]) -> tuple[pd.DataFrame, pd.DataFrame]:
    by_tier = [t for t in ns_tables if "clv" in t.columns and t.index.name == "asset_tier"]
    by_type = [t for t in ns_tables if "clv" in t.columns and t.index.name == "customer_type"]
    assert len(by_tier) == 1 and len(by_type) == 1, "the CLV section is shown"
    return by_tier[0], by_type[0]


def _compare(shown: pd.DataFrame, shown_type: pd.DataFrame, w: pd.DataFrame) -> None:
    """The published tables by tier and by type against the recomputed customers ``w``."""
    assert w["clv"].notna().sum() > 0.9 * len(w)
    for by, got in (("asset_tier", shown), ("customer_type", shown_type)):
        want = w.groupby(by).agg(
            customers=("customer_id", "size"),
            scored=("clv", "count"),
            clv=("clv", "sum"),
            retention=("retention", "mean"),
        )
        assert sorted(got.index.drop("all")) == sorted(want.index), by
        for key, row in want.iterrows():
            assert got.loc[key, ["customers", "scored"]].tolist() == [
                row["customers"],
                row["scored"],
            ], (by, key)
            assert got.loc[key, "clv"] == pytest.approx(row["clv"], rel=1e-9), (by, key)
            assert got.loc[key, "retention"] == pytest.approx(row["retention"], rel=1e-9)
        assert got.loc["all", "clv"] == pytest.approx(w["clv"].sum(), rel=1e-9)


def _page_text(ns: dict) -> str:
    return html.unescape("".join(ns["page"].blocks))


def test_clv_by_tier_recomputed_from_the_warehouse_with_product_margins(small_bank):
    """The published CLV by asset tier and by customer type for one demo branch: the
    warehouse's balances split by product at their margins from the parameters, kept
    with the published retention and discounted, by the method the README gives."""
    cfg = _settings(small_bank).sections["segmentation"]
    clv = cfg.clv
    assert clv.product_margins, "the demo bank sets margins by product"
    ns, tables = _run_segmentation(small_bank)
    shown, shown_type = _published(tables)

    w = _truth(small_bank, clv, product_margins=clv.product_margins)
    _compare(shown, shown_type, w.assign(asset_tier=asset_tier(w["aum"], cfg.asset_tiers)))

    # the products matter: at the class margins alone the branch's value differs
    flat = _truth(small_bank, clv, product_margins={})
    assert abs(flat["clv"].sum() / w["clv"].sum() - 1) > 0.01
    # and the page says which basis was used
    text = _page_text(ns)
    assert ns["page"].t("segmentation.notes.clv_margins_products") in text
    assert ns["page"].t("segmentation.notes.clv_margins_classes") not in text


@pytest.fixture(scope="module")
def bank_without_holdings(small_bank, tmp_path_factory):
    """A copy of the small bank whose warehouse has no ``holdings`` table, prepared again."""
    from branchbook.prepare import prepare

    root = tmp_path_factory.mktemp("no_holdings_bank")
    shutil.copytree(small_bank / "params", root / "params")
    warehouse = root / "build" / "demo" / "warehouse.duckdb"
    warehouse.parent.mkdir(parents=True)
    shutil.copy(small_bank / "build" / "demo" / "warehouse.duckdb", warehouse)
    con = duckdb.connect(str(warehouse))
    try:
        con.execute("DROP TABLE holdings")
    finally:
        con.close()
    prepare(None, source=warehouse, params_dir=root / "params", build_dir=root / "build")
    return root


def test_without_holdings_deposits_and_wealth_take_the_class_margins(bank_without_holdings):
    """A bank without the optional table still gets its lifetime value: deposits and
    wealth at their class margins, loans by product, and the page says so."""
    root = bank_without_holdings
    cfg = _settings(root).sections["segmentation"]
    ns, tables = _run_segmentation(root)
    shown, shown_type = _published(tables)
    w = _truth(root, cfg.clv, product_margins=cfg.clv.product_margins, holdings=False)
    assert (w["r_dep"] == cfg.clv.deposit_margin).all()
    assert (w["r_wealth"] == cfg.clv.wealth_margin).all()
    assert (w["r_loans"] != cfg.clv.loan_margin).any()  # the loans keep their products
    _compare(shown, shown_type, w.assign(asset_tier=asset_tier(w["aum"], cfg.asset_tiers)))
    text = _page_text(ns)
    assert ns["page"].t("segmentation.notes.clv_margins_classes") in text
    assert ns["page"].t("segmentation.notes.clv_margins_products") not in text
