"""The shared tables of prepare (:mod:`branchbook.metrics.shared`) on a tiny test
warehouse, as prepare builds them before the reports' ``prepare(ctx)``.

A tiny warehouse names only the columns its test needs: the columns the shared tables
read are added as NULL first (an absent table as an empty one), as
:func:`branchbook.warehouse.complete_shape` does in prepare; the optional history
columns are left alone, so a test still sees the warehouse it built.
"""

from __future__ import annotations

from types import SimpleNamespace

from branchbook.contract import TABLES
from branchbook.metrics import basis, shared
from branchbook.params import DEFAULT_BALANCE_BASIS, DEFAULT_CSAT_SCALE, AssetTiers
from branchbook.period import Period

#: The columns the shared tables read, per contract table.
READ = {
    "customers": ("customer_id", "branch_id", "manager_id", "opened_on", "closed_on"),
    "balances": (
        "customer_id",
        "month",
        "deposits",
        "wealth",
        "deposits_avg",
        "wealth_avg",
        "loans_outstanding",
        "products_held",
    ),
    "loans": ("loan_id", "customer_id", "branch_id", "manager_id"),
    "loan_snapshots": ("loan_id", "month", "outstanding", "dpd", "five_class"),
    "surveys": ("response_id", "customer_id", "responded_on", "csat", "nps"),
}


def add_shared(con, period: str, settings=None) -> None:
    """Create the shared tables on ``con`` for ``period`` (the tiers, CSAT scale and
    balance basis of ``settings`` where it has them, the defaults otherwise; the basis
    falls back to month end without average daily balances, as prepare decides it)."""
    for name, cols in READ.items():
        types = {c.name: c.type for c in TABLES[name].columns}
        have = {r[0] for r in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = ?", [name]
        ).fetchall()}  # fmt: skip
        if not have:
            select = ", ".join(f"CAST(NULL AS {types[c]}) AS {c}" for c in cols)
            con.execute(f"CREATE VIEW {name} AS SELECT {select} WHERE false")
            continue
        absent = [c for c in cols if c not in have]
        if absent:
            con.execute(f"ALTER VIEW {name} RENAME TO {name}__as_found")
            extra = ", ".join(f"CAST(NULL AS {types[c]}) AS {c}" for c in absent)
            con.execute(f"CREATE VIEW {name} AS SELECT *, {extra} FROM {name}__as_found")
    ctx = SimpleNamespace(sql=lambda q, **p: con.execute(q, p).df(), period=period)
    wanted = getattr(settings, "balance_basis", None) or DEFAULT_BALANCE_BASIS
    shared.prepare_shared(
        con,
        period,
        Period.parse(period).end,
        tiers=getattr(settings, "asset_tiers", None) or AssetTiers(),
        csat_scale=getattr(settings, "csat_scale", None) or DEFAULT_CSAT_SCALE,
        basis=basis.basis_used(wanted, basis.has_averages(ctx)),
    )
