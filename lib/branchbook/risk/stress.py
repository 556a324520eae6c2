"""Stress scenarios and the simulated loss distribution of a branch's loan book.

Every figure starts from :func:`~.scoring.score_book`'s columns: ``pd`` (the scorecard's
12-month PD corrected on the log-odds scale, 1 for a loan in default), ``lgd`` (by
collateral type), ``ead`` and ``el``.

- A **PD shock** multiplies every PD by ``m`` (capped at 1; a loan in default stays at 1).
- A **collateral shock** lowers every collateral value by the share ``s``. A loan's
  recovery from its collateral is ``min(EAD, (1 - haircut) x value)``; what the fall
  takes off it is added to the loan's LGD (capped at 1), so a loan covered with room to
  spare loses nothing and an unsecured loan or a guarantee is not moved
  (:func:`collateral_lgd`). With ``s = 0`` the LGD is the base LGD exactly.
- The **NPL ratio** of a scenario is the ratio expected 12 months on, the book otherwise
  standing still (no repayments, new loans or write-offs): today's NPL balance plus the
  balance of every loan not classed NPL times its scenario PD (a loan more than the
  default days past due but not yet classed NPL has PD 1 and is expected to be), over
  today's outstanding.
- **RWA** by the standardised approach (:data:`~.settings.DEFAULT_RISK_WEIGHTS`):
  a residential mortgage, a corporate loan or another retail loan at its class's
  weight, a loan in default at the past-due weight. Under a scenario, each loan not in
  default is weighted ``(1 - PD) x its class weight + PD x the past-due weight``: the
  weight expected after 12 months of migration at the scenario's PD. Collateral shocks
  do not move it (the 35% of a mortgage is kept; the standardised approach's LTV tests
  are not modelled).
- The **loss distribution**: one-factor Gaussian copula (Vasicek). Loan ``i`` defaults
  when ``sqrt(rho_i) Z + sqrt(1 - rho_i) e_i < Phi^-1(PD_i)``, ``Z`` the common factor,
  ``e_i`` its own, all standard normal; its loss is then ``LGD_i x EAD_i``. Monte Carlo
  with a fixed seed; EL is the mean simulated loss (with its standard error), VaR the
  ``confidence`` quantile (with a distribution-free 95% interval from the order
  statistics), UL = VaR - EL. A region's or the bank's distribution is simulated on
  its pooled loans (:func:`loss_at_scope`): quantiles do not add up across branches.

Ratios are shares in 0..1, money in the bank's currency; a ratio over no exposure is NaN.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..startup import LazyModule
from .settings import NPL_CLASSES, Stress

special = LazyModule("scipy.special")
stats = LazyModule("scipy.stats")

#: The scenario kinds of :func:`stress_table`, in its row order.
SCENARIOS = ("base", "pd", "collateral", "combined")
#: The rows of :func:`loss_summary`, in order.
LOSS_MEASURES = ("el_formula", "el_simulated", "q50", "q90", "q99", "var", "ul")


def _num(s) -> np.ndarray:
    return pd.to_numeric(s).astype(float).to_numpy()


def collateral_lgd(book: pd.DataFrame, *, shock: float, haircuts: dict[str, float]) -> np.ndarray:
    """Each loan's LGD when collateral values fall by ``shock`` (a share).

    ``lgd + (min(EAD, (1-h) V) - min(EAD, (1-h)(1-shock) V)) / EAD``, capped at 1, with
    ``V`` the collateral value and ``h`` its type's haircut; a type without a haircut
    (unsecured, guarantee), a missing value or no exposure leaves the LGD as it is.
    """
    lgd = _num(book["lgd"])
    ead = _num(book["ead"])
    h = book["collateral_type"].map(haircuts).astype(float).to_numpy()
    value = _num(book["collateral_value"]) if "collateral_value" in book.columns else np.nan * ead
    cover = (1.0 - h) * value
    lost = np.minimum(ead, cover) - np.minimum(ead, cover * (1.0 - shock))
    ok = np.isfinite(lost) & (ead > 0)
    add = np.divide(lost, ead, out=np.zeros_like(ead), where=ok)
    return np.where(ok, np.minimum(1.0, lgd + add), lgd)


def rw_class(book: pd.DataFrame, *, mortgage_products=("mortgage",)) -> np.ndarray:
    """Each loan's standardised class when performing: ``residential_mortgage`` (a
    product in ``mortgage_products``), ``corporate`` (a corporate customer) or ``retail``."""
    mortgage = book["product"].isin(list(mortgage_products)).to_numpy()
    corporate = (book["customer_type"] == "corporate").to_numpy()
    return np.where(mortgage, "residential_mortgage", np.where(corporate, "corporate", "retail"))


def _weights(book: pd.DataFrame, s: Stress) -> np.ndarray:
    cls = rw_class(book, mortgage_products=s.mortgage_products)
    return pd.Series(cls).map(s.risk_weights).to_numpy(dtype=float)


def rwa_today(book: pd.DataFrame, *, settings: Stress) -> dict[str, float]:
    """Today's standardised RWA: ``rwa`` (sum of EAD x weight, a loan in default at the
    past-due weight), ``ead`` and ``density`` (rwa / ead; NaN for no exposure)."""
    ead = _num(book["ead"])
    w = np.where(book["in_default"].to_numpy(dtype=bool), settings.risk_weights["past_due"],
                 _weights(book, settings))  # fmt: skip
    rwa = float(np.sum(ead * w))
    total = float(ead.sum())
    return {"rwa": rwa, "ead": total, "density": rwa / total if total > 0 else math.nan}


def scenario(
    book: pd.DataFrame, *, pd_multiplier: float = 1.0, collateral_shock: float = 0.0,
    settings: Stress,
) -> pd.DataFrame:  # fmt: skip
    """The loans under one scenario: ``pd``, ``lgd``, ``el`` (pd x lgd x ead), ``npl``
    (the balance expected classed NPL in 12 months) and ``rwa`` (expected RWA), per loan."""
    p = np.minimum(1.0, _num(book["pd"]) * pd_multiplier)
    lgd = collateral_lgd(book, shock=collateral_shock, haircuts=settings.haircuts)
    ead = _num(book["ead"])
    out = _num(book["outstanding"])
    is_npl = book["five_class"].isin(NPL_CLASSES).to_numpy()
    w = _weights(book, settings)
    pdw = settings.risk_weights["past_due"]
    return pd.DataFrame(
        {
            "pd": p,
            "lgd": lgd,
            "ead": ead,
            "outstanding": out,
            "el": p * lgd * ead,
            "npl": np.where(is_npl, out, out * p),
            "rwa": ead * ((1.0 - p) * w + p * pdw),
        },
        index=book.index,
    )


def _row(kind: str, m: float, shock: float, loans: pd.DataFrame) -> dict:
    ead, out = loans["ead"].sum(), loans["outstanding"].sum()
    el, rwa = loans["el"].sum(min_count=1), loans["rwa"].sum(min_count=1)
    return {
        "scenario": kind,
        "pd_multiplier": m,
        "collateral_shock": shock,
        "el": el,
        "el_rate": el / ead if ead > 0 else math.nan,
        "npl_ratio": loans["npl"].sum(min_count=1) / out if out > 0 else math.nan,
        "rwa": rwa,
        "rwa_density": rwa / ead if ead > 0 else math.nan,
    }


def stress_table(book: pd.DataFrame, *, settings: Stress, collateral: bool = True) -> pd.DataFrame:
    """One row per scenario: ``base`` (PD x1, collateral unchanged), each PD multiplier,
    each collateral shock, and ``combined`` (the largest of both), with ``scenario``,
    ``pd_multiplier``, ``collateral_shock``, ``el``, ``el_rate``, ``npl_ratio`` (expected
    in 12 months), ``rwa``, ``rwa_density`` and ``el_change`` (against the base row).
    ``collateral=False`` (no collateral values in the data) leaves the collateral rows out."""
    runs = [("base", 1.0, 0.0)]
    runs += [("pd", float(m), 0.0) for m in settings.pd_multipliers]
    if collateral:
        runs += [("collateral", 1.0, float(x)) for x in settings.collateral_shocks]
        runs += [("combined", float(max(settings.pd_multipliers)),
                  float(max(settings.collateral_shocks)))]  # fmt: skip
    rows = [
        _row(k, m, x, scenario(book, pd_multiplier=m, collateral_shock=x, settings=settings))
        for k, m, x in runs
    ]
    t = pd.DataFrame(rows)
    return t.assign(el_change=t["el"] - t["el"].iloc[0])


def asset_correlation(
    book: pd.DataFrame, *, correlation: str | float = "basel", mortgage_products=("mortgage",)
) -> np.ndarray:
    """Each loan's asset correlation: one number, or ``"basel"``, the IRB formulas by
    class (Basel II paras 272, 328 and 330): corporate ``0.12 w + 0.24 (1 - w)``,
    ``w = (1 - e^(-50 PD)) / (1 - e^(-50))``; residential mortgage 0.15; other retail
    ``0.03 w + 0.16 (1 - w)`` with ``e^(-35 PD)``. The SME size adjustment is not made."""
    n = len(book)
    if correlation != "basel":
        return np.full(n, float(correlation))
    p = np.nan_to_num(_num(book["pd"]), nan=0.0)
    cls = rw_class(book, mortgage_products=mortgage_products)
    w50 = (1 - np.exp(-50 * p)) / (1 - math.exp(-50))
    w35 = (1 - np.exp(-35 * p)) / (1 - math.exp(-35))
    return np.select(
        [cls == "corporate", cls == "residential_mortgage"],
        [0.12 * w50 + 0.24 * (1 - w50), np.full(n, 0.15)],
        0.03 * w35 + 0.16 * (1 - w35),
    )


#: Values of the loans' own draws held at once (float32): about 32 MB, whatever the book.
DRAW_BLOCK = 8_000_000


def simulate_losses(pd_, lgd, ead, rho, *, draws: int, seed: int, chunk: int = 2_000) -> np.ndarray:
    """``draws`` simulated losses of the book (money), one-factor Gaussian copula.

    A loan with PD 1 always defaults and one with PD 0 never does (neither is drawn);
    the others default when ``sqrt(rho) Z + sqrt(1 - rho) e < Phi^-1(PD)``. The common
    factors of all draws and then the loans' own draws, up to ``chunk`` draws at a time
    and no more than :data:`DRAW_BLOCK` values, come from
    ``numpy.random.default_rng(seed)`` in one stream, so the result depends on the seed
    only: the same defaults however the draws are cut, their sums equal to double
    precision. (2,000 draws at a time of a bank's 300,000 loans held 2.4 GB per array,
    three at once: prepare peaked at 8 GB.)
    """
    p = np.asarray(pd_, dtype=float)
    loss = np.asarray(lgd, dtype=float) * np.asarray(ead, dtype=float)
    r = np.broadcast_to(np.asarray(rho, dtype=float), p.shape)
    sure = float(loss[p >= 1].sum())
    drawn = (p > 0) & (p < 1) & (loss > 0)
    a, b = np.sqrt(r[drawn]), np.sqrt(1 - r[drawn])
    # e < (t - a z) / b, in single precision (the draws' precision is far below it)
    tb = (special.ndtri(p[drawn]) / b).astype(np.float32)
    ab = (a / b).astype(np.float32)
    w = loss[drawn]  # summed in double precision: the same sums however the draws are cut
    out = np.empty(draws)
    chunk = max(1, min(chunk, DRAW_BLOCK // max(1, len(w))))
    rng = np.random.default_rng(seed)
    z = rng.standard_normal(draws).astype(np.float32)
    for start in range(0, draws, chunk):
        n = min(chunk, draws - start)
        e = rng.standard_normal((n, len(w)), dtype=np.float32)
        hit = e < tb[None, :] - z[start : start + n, None] * ab[None, :]
        out[start : start + n] = hit @ w + sure
    return out


def vasicek_quantile(pd_: float, lgd: float, rho: float, q: float) -> float:
    """The ``q`` quantile of an infinitely granular homogeneous book's loss rate (loss /
    EAD): ``LGD x Phi((Phi^-1(PD) + sqrt(rho) Phi^-1(q)) / sqrt(1 - rho))``."""
    x = (special.ndtri(pd_) + math.sqrt(rho) * special.ndtri(q)) / math.sqrt(1 - rho)
    return float(lgd * special.ndtr(x))


def quantile_interval(losses, q: float, level: float = 0.95) -> tuple[float, float, float]:
    """The ``q`` quantile of ``losses`` (the order statistic ``ceil(n q)``) with a
    distribution-free ``level`` interval between two order statistics (binomial)."""
    x = np.sort(np.asarray(losses, dtype=float))
    n = len(x)
    k = min(n, max(1, math.ceil(n * q)))
    lo = int(stats.binom.ppf((1 - level) / 2, n, q))
    hi = int(stats.binom.ppf((1 + level) / 2, n, q)) + 1
    return float(x[k - 1]), float(x[max(lo, 1) - 1]), float(x[min(hi, n) - 1])


def loss_summary(book: pd.DataFrame, *, settings: Stress, draws: int | None = None) -> pd.DataFrame:
    """The simulated loss distribution of ``book`` (:func:`~.scoring.score_book` output
    with ``product`` and ``customer_type``): rows ``measure`` (:data:`LOSS_MEASURES`:
    the formula EL sum(PD x LGD x EAD), the simulated mean, the 50%, 90% and 99%
    quantiles, VaR at ``confidence`` and UL = VaR - mean), ``value``, ``low`` and
    ``high`` (95%: mean +- 1.96 standard errors; quantiles between order statistics;
    UL from VaR's interval less the mean), ``draws``, ``confidence`` and ``rho`` (the
    EAD-weighted mean asset correlation). An empty or unscored book gives NaN values."""
    n = draws or settings.draws
    p = _num(book["pd"]) if len(book) else np.array([])
    base = {"draws": n, "confidence": settings.confidence}
    if len(p) == 0 or np.isnan(p).any():
        return pd.DataFrame(
            [
                {
                    "measure": m,
                    "value": math.nan,
                    "low": math.nan,
                    "high": math.nan,
                    **base,
                    "rho": math.nan,
                }
                for m in LOSS_MEASURES
            ]  # fmt: skip
        )
    lgd, ead = _num(book["lgd"]), _num(book["ead"])
    rho = asset_correlation(
        book, correlation=settings.correlation, mortgage_products=settings.mortgage_products
    )
    losses = simulate_losses(p, lgd, ead, rho, draws=n, seed=settings.seed)
    mean, se = float(losses.mean()), float(losses.std(ddof=1) / math.sqrt(n))
    rows = [
        ("el_formula", float(np.sum(p * lgd * ead)), math.nan, math.nan),
        ("el_simulated", mean, mean - 1.96 * se, mean + 1.96 * se),
    ]
    for key, q in (("q50", 0.5), ("q90", 0.9), ("q99", 0.99)):
        rows.append((key, *quantile_interval(losses, q)))
    var, lo, hi = quantile_interval(losses, settings.confidence)
    rows += [("var", var, lo, hi), ("ul", var - mean, lo - mean, hi - mean)]
    total = ead.sum()
    r = float(np.sum(rho * ead) / total) if total > 0 else math.nan
    return pd.DataFrame(
        [{"measure": m, "value": v, "low": a, "high": b, **base, "rho": r} for m, v, a, b in rows]
    )


def loss_at_scope(branch: pd.DataFrame, scopes: pd.DataFrame, *, scope: str) -> pd.DataFrame:
    """The loss distribution a report at ``scope`` shows: at ``branch`` scope the
    branch's own rows (``risk_loss``), else the rows of ``scopes``
    (``bench_risk_loss``, one :func:`loss_summary` per ``scope``: ``region:<name>``
    or ``bank``) simulated on that scope's pooled loans, without the ``scope`` column;
    no rows for a scope that was not simulated. A region's VaR is not the sum or a
    mix of its branches' (diversification), so branch rows are never pooled."""
    if scope == "branch":
        return branch
    rows = scopes[scopes["scope"] == scope]
    return rows.drop(columns="scope").reset_index(drop=True)


def scope_losses(book: pd.DataFrame, *, regions: pd.DataFrame, settings: Stress) -> pd.DataFrame:
    """:func:`loss_summary` of the whole ``book`` (``scope`` ``bank``) and of each
    region's loans (``region:<name>``; ``regions``: ``branch_id`` and ``region``, a
    blank region left out), the rows of ``bench_risk_loss``. A region with no loans
    gets NaN values, as an empty book does."""
    region = book["branch_id"].map(regions.set_index("branch_id")["region"]).to_numpy()
    names = sorted({str(r) for r in regions["region"].dropna() if r})
    parts = [loss_summary(book, settings=settings).assign(scope="bank")]
    parts += [
        loss_summary(book[region == name], settings=settings).assign(scope=f"region:{name}")
        for name in names
    ]
    return pd.concat(parts, ignore_index=True)
