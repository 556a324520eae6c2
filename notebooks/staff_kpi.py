# ---
# jupyter:
#   branchbook:
#     module: branchbook.staff_kpi
#   jupytext:
#     formats: ipynb,py:percent
#     notebook_metadata_filter: branchbook
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.7
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Staff KPI evaluation (客户经理绩效考核)
#
# Analyst notes (not rendered into the report; every visible text comes from
# `lib/branchbook/locales/*/staff_kpi.yaml`). Run top to bottom with the defaults
# below against the demo warehouse; `branchbook run` injects the validated parameters
# of each branch in the cell after the parameters cell.
#
# Scores, ranks, ratings and funnel centre lines are computed once for the whole bank
# in `staff_kpi.prepare` (same grade across the bank is the peer group), so this notebook only
# reads its branch's rows. Staff are named: this report goes to its own branch only.
# Per-manager counts are staff results, not customer groups, so they are not suppressed.

# %% tags=["parameters"]
branch_id = "0101"
period = ""
locale = ""
scope = "branch"
settings = {}
common = {}
build_dir = ""
run_id = ""

# %%
from branchbook import charts, staff_kpi
from branchbook.context import open_report
from branchbook.metrics import cards, league
from branchbook.period import Period

rc = open_report("staff_kpi", branch_id=branch_id, period=period, locale=locale, scope=scope,
                 settings=settings, common=common, build_dir=build_dir, run_id=run_id)
d, cfg, page = rc.data, rc.settings, rc.page

# %% [markdown]
# The branch's managers (scores over the trend window and last December), their targets, the funnel points of
# the period and the bank-wide benchmarks.

# %%
sc = d.table("staff_scorecard")
att = d.table("staff_attainment")
funnel = d.table("staff_funnel")
bench = d.bench("bench_branch_kpis")
bench_grade = d.bench("bench_grade")
bench_funnel = d.bench("bench_funnel")
prev = str(Period.parse(d.period).prev)
managers = staff_kpi.manager_table(sc, month=d.period)
leagues, level = league.scope_leagues(staff_kpi.league_values, {"bench": bench}, region=d.org.region,
                                      members=d.members, scope=scope, period=d.period, key="composite_mean")
names = page.unit_names(d.table("branches")) if leagues else {}

# %% [markdown]
# Title, KPI cards and the summary sentences chosen from the numbers.

# %%
page.title()
page.kpi_frame(cards.at_scope(staff_kpi.kpi_cards(sc, att, bench, branch_id=d.branch_id, period=d.period,
                                                   prev_period=prev, status=cfg.kpi_status),
                              level=page.level, bank=staff_kpi.bank_values(bench, period=d.period)),
               metrics=staff_kpi.CARDS, rag=cfg.kpi_status)
moves = d.table("staff_bridge")
page.summary([*league.facts(leagues, label=page.t("staff_kpi.kpis.composite_mean"), names=names),
              *staff_kpi.summary_facts(sc, att, funnel, bench, period=d.period, prev_period=prev,
                                       npl_veto_limit=cfg.npl_veto_limit)],
             moves=staff_kpi.bridge_facts(moves, min_change=cfg.fact_bridge,
                                          min_change_pp=cfg.fact_bridge_pp, label=page.tr.label))
page.league("composite_mean", leagues, p0=level, names=names)

# %% [markdown]
# KPIs per manager: growth first, then asset quality, service and compliance.

# %%
page.section("managers")
if managers.empty:
    page.empty("managers")
else:
    page.table(managers, {"staff_name": "text", "grade": "label:staff_kpi.values.grades", "n_customers": "int",
                          "new_customers": "int", "net_new_aum": "money", "deposit_growth": "money",
                          "loan_growth": "money"}, total=True, max_rows=40)
    page.table(managers, {"staff_name": "text", "products_per_customer": "num", "npl_ratio": "pct",
                          "new_npl": "money", "new_npl_rate": "pct", "csat": "num"}, max_rows=40)
    page.table(managers, {"staff_name": "text", "complaint_rate": "num", "closure_rate": "pct",
                          "kyc_complete_rate": "pct", "aml_open_rate": "num"}, max_rows=40)
    for key in staff_kpi.status_notes(d.bench("bench_staff_history"), report="staff_kpi"):
        page.note(key)

# %% [markdown]
# Who drove the change since last month and since the start of the year (比上月, 比年初):
# each manager's part of the change in the managers' AUM and loans (waterfall of the
# branch, table per manager) and in the managed NPL ratio (rate and mix effects).

# %%
for base in staff_kpi.BASES:
    page.section(f"bridges_{base}")
    if moves.empty:
        page.empty("managers")
        continue
    words = page.tr.label("common.bridge.bases", base)
    for stock in ("aum", "loans"):
        whole = staff_kpi.branch_bridge(moves, base=base, stock=stock)
        page.waterfall_chart(f"bridge_{stock}", whole, base=words, opening=whole["opening"], closing=whole["closing"])
        page.table(staff_kpi.contribution_table(moves, base=base, stock=stock),
                   {"staff_name": "text", "opening": "money", "new": "money", "growth": "money", "decline": "money",
                    "lost": "money", "closing": "money", "change": "money"},
                   headers="bridge_columns", total=True, max_rows=40)
    npl, split = staff_kpi.npl_total(moves, base=base), staff_kpi.npl_split(moves, base=base)
    page.rate_mix_chart("bridge_npl", split.set_index("staff_name"), base=words, opening=npl["opening"],
                        closing=npl["closing"])
    page.table(split, {"staff_name": "text", "rate_opening": "pct", "rate_closing": "pct", "weight_opening": "pct",
                       "weight_closing": "pct", "rate_effect": "delta_pct", "mix_effect": "delta_pct",
                       "contribution": "delta_pct"},
               headers="npl_bridge_columns", max_rows=40,
               total={"rate_opening": npl["opening"], "rate_closing": npl["closing"], "weight_opening": 1.0,
                      "weight_closing": 1.0, "rate_effect": split["rate_effect"].sum(),
                      "mix_effect": split["mix_effect"].sum(), "contribution": npl["change"]})

# %% [markdown]
# Attainment year to date (比年初) against the targets of the year to date; the chart
# shows the mean per manager with each attainment kept between 0 and `attainment_cap`.
# Then the month's own attainment, where the month's target is not near zero.

# %%
page.section("attainment")
targets = staff_kpi.attainment_table(att, sc, month=d.period)
if targets["targets"].sum() == 0:
    page.empty("attainment")
else:
    page.table(targets, {"staff_name": "text", "new_customers": "pct", "net_new_aum": "pct",
                         "deposit_growth": "pct", "loan_growth": "pct", "products_per_customer": "pct",
                         "targets": "int", "met": "int"},
               headers="attainment_columns", total=True, max_rows=40)
    reach = staff_kpi.attainment_bars(targets)
    page.bar_chart("attainment", reach, ["target_attainment"], percent=True, horizontal=True,
                   met=int((reach["target_attainment"] >= 1).sum()), n=len(reach))
    page.note("staff_kpi.notes.monthly", floor=cfg.monthly_target_floor)
    page.table(staff_kpi.monthly_table(att, sc, month=d.period),
               {"staff_name": "text", "new_customers": "pct", "net_new_aum": "pct", "deposit_growth": "pct",
                "loan_growth": "pct", "products_per_customer": "pct", "near_zero": "int"},
               headers="monthly_columns", max_rows=40)

# %% [markdown]
# How the scorecard is built: dimensions, weights, KPIs and the normalisation used.

# %%
page.section("method")
page.table(staff_kpi.scorecard_design(cfg), {"dimension": "label:staff_kpi.values.dimensions", "weight": "pct",
                                       "kpi": "label:staff_kpi.values.metrics",
                                       "direction": "label:staff_kpi.values.direction"})
page.note(f"staff_kpi.notes.{cfg.normalisation}", lower=cfg.winsor_lower, upper=cfg.winsor_upper)
page.note("staff_kpi.notes.unrated", min_customers=cfg.min_book_customers)

# %% [markdown]
# Dimension scores, composite, rank in branch and percentile in bank, best first.

# %%
page.section("scorecard")
ranked = staff_kpi.composite_bars(sc, month=d.period)
if ranked.empty:
    page.empty("scorecard")
else:
    page.table(staff_kpi.scorecard_table(sc, month=d.period, dimensions=list(cfg.scorecard),
                                         across=scope != "branch"),
               {"staff_name": "text", "grade": "label:staff_kpi.values.grades",
                **{f"dim_{dim}": "num" for dim in cfg.scorecard}, "composite": "num",
                "rank_in_branch": "int", "bank_percentile": "num", "rating": "label:staff_kpi.values.ratings"},
               max_rows=40)
    spread = {"n": len(ranked), "high": ranked["composite"].max(), "low": ranked["composite"].min()}
    if len(ranked) <= staff_kpi.BARS_MAX:  # a bar a manager; a region's or the bank's as a spread
        page.bar_chart("composite", ranked, ["composite"], horizontal=True, **spread)
    else:
        page.histogram_chart("composite_spread", {"composite": ranked["composite"]}, **spread)

# %% [markdown]
# Each KPI's 0-100 score against the bank's managers of the same grade (one chart per grade).

# %%
page.section("scores")
score_grades = staff_kpi.grades(sc, month=d.period)
if not score_grades:
    page.empty("scorecard")
for grade in score_grades:
    page.heat_table("scores", staff_kpi.score_matrix(sc, month=d.period, kpis=staff_kpi.scorecard_kpis(cfg), grade=grade),
                    rows="metrics", grade=page.tr.label("staff_kpi.values.grades", grade),
                    names=staff_kpi.score_names(sc, month=d.period, grade=grade, branches=names), max_rows=40)

# %% [markdown]
# Ratings by forced distribution (pool and shares from params), ties and the NPL veto.

# %%
page.section("ratings")
bands = staff_kpi.rating_distribution(sc, month=d.period, shares=cfg.rating_shares)
page.table(bands, {"rating": "label:staff_kpi.values.ratings", "count": "int", "share": "pct",
                   "target_share": "pct"}, total={"count": int(bands["count"].sum())})
if bands["count"].sum():
    page.bar_chart("ratings", bands.set_index("rating"), ["share", "target_share"], labels="ratings",
                   percent=True, n_a=int(bands["count"].iloc[0]), n_d=int(bands["count"].iloc[-1]))
page.note(f"staff_kpi.notes.rating_pool.{cfg.rating_pool}")
page.note("staff_kpi.notes.ties")
page.note("staff_kpi.notes.veto", limit=cfg.npl_veto_limit,
          cap=page.tr.label("staff_kpi.values.ratings", cfg.veto_cap))
vetoed = staff_kpi.veto_table(sc, month=d.period, limit=cfg.npl_veto_limit)
if vetoed.empty:
    page.note("staff_kpi.notes.veto_none")
else:
    page.table(vetoed, {"staff_name": "text", "grade": "label:staff_kpi.values.grades", "npl_ratio": "pct",
                        "rating_raw": "label:staff_kpi.values.ratings", "rating": "label:staff_kpi.values.ratings"})

# %% [markdown]
# Funnel plots: each manager's rate against book size, with exact 95% and 99.8% limits
# around the bank rate (widened when managers vary more than chance allows); the managers
# outside the limits are named.

# %%
page.section("funnel")
for metric, key in (("npl_ratio", "funnel_npl"), ("closure_rate", "funnel_closure")):
    pts = staff_kpi.funnel_points(funnel, metric=metric)
    p0 = staff_kpi.funnel_p0(bench_funnel, metric=metric, month=d.period)
    spread = staff_kpi.funnel_spread(bench_funnel, metric=metric, month=d.period)
    if pts.empty:
        page.empty(key)
        continue
    page.chart(charts.funnel(pts, staff_kpi.funnel_band(pts, p0, **spread), p0=p0, label="staff_name",
                             title=page.rt(f"charts.{key}.title", n=int(pts["outside"].sum()), p0=p0),
                             xlabel=page.rt(f"charts.{key}.x"), ylabel=page.rt(f"charts.{key}.y")))
outside = staff_kpi.funnel_outside(funnel)
if not funnel.empty:
    page.note("staff_kpi.notes.funnel_reading")
    for key, values in staff_kpi.funnel_notes(bench_funnel, month=d.period):
        page.note(key, **values)
if outside.empty and not funnel.empty:
    page.note("staff_kpi.notes.funnel_none")
if not outside.empty:
    page.table(outside, {"staff_name": "text", "metric": "label:staff_kpi.values.metrics", "n": "int",
                         "rate": "pct", "p0": "pct", "position": "label:staff_kpi.values.position"})

# %% [markdown]
# Composite over the trend window against the bank's median of the same grade, at most
# five managers per chart (best first), then the change over the window.

# %%
page.section("trend", months=cfg.trend_months)
history = staff_kpi.trend(sc, bench_grade, month=d.period, months=cfg.trend_months)
panels = staff_kpi.trend_panels(history, month=d.period)
if not panels:
    page.empty("trend")
for grade, first, last, total, lines in panels:
    page.line_chart("trend" if last - first + 1 == total else "trend_part", lines.index, lines, months=False,
                    first=first, last=last, total=total, grade=page.tr.label("staff_kpi.values.grades", grade))
if panels:
    page.table(staff_kpi.trend_table(history, month=d.period),
               {"staff_name": "text", "composite_start": "num", "composite": "num", "change": "num", "grade_median": "num", "gap_to_grade": "num",
                "months_rated": "int"}, max_rows=40)

# %% [markdown]
# Manager development: training hours over the last 12 months against the yearly requirement, years at the
# bank and certification against the grade's requirement (params); the managers short of hours or of
# certification are listed, every one in the workbook.

# %%
page.section("development")
if d.coverage.shows("staff_kpi.development"):
    dev = staff_kpi.development_table(d.table("staff"), d.table("staff_training"), d.table("staff_certifications"),
                                      period=d.period, settings=cfg.development)
    first, last = staff_kpi.training_window(d.period, cfg.development.training_months)
    page.note("staff_kpi.notes.development", first=first, last=last, hours=cfg.development.training_hours,
              **staff_kpi.development_counts(dev))
    page.table(dev, {"staff_name": "text", "grade": "label:staff_kpi.values.grades", "training_hours": "num",
                     "hours_short": "num", "years": "num", "years_required": "num",
                     "certification": "label:staff_kpi.values.certifications",
                     "certification_required": "label:staff_kpi.values.certifications"},
               headers="development_columns", max_rows=40)
    gaps = dev[dev["short"]]
    if gaps.empty:
        page.empty("development_none")
    else:
        page.action_table("managers_to_train", gaps,
                          {"staff_name": "text", "grade": "label:staff_kpi.values.grades", "training_hours": "num",
                           "hours_short": "num", "certification": "label:staff_kpi.values.certifications",
                           "certification_required": "label:staff_kpi.values.certifications"}, shown=40)

# %% [markdown]
# Indicative performance-bonus coefficients (pay = base + performance bonus + commission).

# %%
page.section("incentive")
page.note("staff_kpi.notes.indicative")
page.table(staff_kpi.bonus_scale(cfg.rating_shares, cfg.bonus_coefficients),
           {"rating": "label:staff_kpi.values.ratings", "target_share": "pct", "bonus_coefficient": "num"})
page.note("staff_kpi.notes.pool", factor=staff_kpi.bonus_pool_factor(cfg.rating_shares, cfg.bonus_coefficients))
if managers.empty:
    page.empty("managers")
else:
    page.table(staff_kpi.incentive_table(sc, month=d.period, coefficients=cfg.bonus_coefficients),
               {"staff_name": "text", "grade": "label:staff_kpi.values.grades",
                "rating": "label:staff_kpi.values.ratings", "bonus_coefficient": "num"}, max_rows=40)
    page.note("staff_kpi.notes.pay")
    page.table(staff_kpi.pay_table(sc, d.table("staff_originations"), period=d.period, settings=cfg.development,
                                   coefficients=cfg.bonus_coefficients),
               {"staff_name": "text", "grade": "label:staff_kpi.values.grades",
                "rating": "label:staff_kpi.values.ratings", "base": "money", "bonus": "money", "commission": "money",
                "total": "money"}, headers="pay_columns", max_rows=40)

# %% [markdown]
# The brief, made from the cards, the summary and the action lists above; the
# published report shows it first (page 1 of the PDF).

# %%
page.brief()

# %% [markdown]
# Definitions and provenance.

# %%
page.definitions(staff_kpi.DEFINITIONS)
page.provenance()
