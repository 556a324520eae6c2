# ---
# jupyter:
#   branchbook:
#     module: branchbook.satisfaction
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
# # Customer satisfaction and complaints (客户满意度与投诉)
#
# Analyst notes (not rendered into the report; every visible text comes from
# `lib/branchbook/locales/*/satisfaction.yaml`). Run top to bottom with the defaults
# below against the demo warehouse; `branchbook run` injects the validated parameters
# of each branch in the cell after the parameters cell.
#
# The bank-wide work (monthly sums per branch, the branch-against-bank tests with the
# false discovery rate controlled, the bank's driver model and retention by band) is
# done once per period by `branchbook.satisfaction.prepare`; this notebook reads the
# branch's extract and those `bench_` frames.

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
import pandas as pd

from branchbook import charts
from branchbook import satisfaction as sat
from branchbook.context import open_report
from branchbook.metrics import cards, league

rc = open_report("satisfaction", branch_id=branch_id, period=period, locale=locale, scope=scope,
                 settings=settings, common=common, build_dir=build_dir, run_id=run_id)
d, cfg, page = rc.data, rc.settings, rc.page

# %% [markdown]
# Load the branch's survey responses, complaints, customers and retention cohort, and the
# bank-wide frames; compute what the summary needs (the churn early-warning list among it).

# %%
responses = d.table("satisfaction_responses")
complaints = d.table("complaints")
customers = d.table("customers")
cohort = d.table("satisfaction_retention_cohort")
monthly = d.bench("bench_satisfaction_monthly")
bridge = d.table("satisfaction_bridge")
start, end = d.meta["period_start"], d.meta["period_end"]
if scope == "branch":
    own, unit = monthly, d.branch_id
    kpi_rows = sat.kpi_table(monthly, branch_id=d.branch_id, period=d.period,
                             window_months=cfg.score_window_months, kpi_status=cfg.kpi_status)
    tests = sat.branch_vs_bank(d.bench("bench_satisfaction_tests"), branch_id=d.branch_id)
else:  # a region or the bank: its branches' sums pooled, tested against the rest of the bank
    own, unit = sat.pooled_monthly(monthly, d.members, unit=d.branch_id), d.members
    kpi_rows = sat.scope_kpi_table(monthly, members=d.members, period=d.period,
                                   window_months=cfg.score_window_months, kpi_status=cfg.kpi_status)
    tests = sat.branch_vs_bank(sat.branch_tests(own, period=d.period, window_months=cfg.score_window_months,
                                                confidence=cfg.confidence, min_responses=cfg.min_responses_test,
                                                fdr=cfg.fdr), branch_id=d.branch_id)
tr = sat.trend(monthly, branch_id=unit, period=d.period, window_months=cfg.score_window_months,
               confidence=cfg.confidence)
window_responses = tr["window_responses"].iloc[-1]
drv = sat.drivers(responses, period=d.period, window_months=cfg.driver_window_months,
                  min_responses=cfg.driver_min_responses, confidence=cfg.confidence)
sla = sat.sla_compliance(complaints, period_start=start, period_end=end,
                         first_response_hours=cfg.first_response_hours, plan_hours=cfg.plan_hours)
backlog = sat.open_backlog(complaints, customers, period_end=end, age_bounds=cfg.backlog_age_days)
bank_retention = d.bench("bench_satisfaction_retention")
bank_drivers = d.bench("bench_satisfaction_drivers")
change = sat.attribute_change(responses, period=d.period, window_months=cfg.driver_window_months,
                              importance=sat.bank_importance(bank_drivers), fdr=cfg.fdr,
                              max_focus=cfg.driver_focus_max)
churn_val = sat.churn_bank_validation(d.bench("bench_satisfaction_churn_validation"))
churn_probabilities = sat.churn_probabilities_shown(churn_val)
churn_watch = (sat.churn_watch_list(d.table("satisfaction_churn_risk"), customers, d.table("staff"),
                                    tiers=cfg.churn_list_tiers,
                                    min_probability=cfg.churn_list_min_probability if churn_probabilities else None,
                                    label=page.tr.label, sep=page.rt("values.reason_separator"))
               if sat.churn_usable(churn_val) else None)
winback = sat.winback_list(d.table("satisfaction_lost"), customers, d.table("staff"), tiers=cfg.winback_tiers)
leagues, level = league.scope_leagues(sat.league_values, {"monthly": monthly,
                                                          "window_months": cfg.score_window_months},
                                      region=d.org.region, members=d.members, scope=scope, period=d.period,
                                      key="csat_mean")
names = page.unit_names(d.table("branches")) if leagues else {}

# %% [markdown]
# Title, KPI cards and the summary sentences chosen from the numbers.

# %%
page.title()
page.kpi_frame(cards.at_scope(kpi_rows, level=page.level,
                              bank=sat.kpis(monthly, period=d.period, window_months=cfg.score_window_months)),
               metrics=sat.METRICS, rag=cfg.kpi_status)
page.summary([*league.facts(leagues, label=page.t("satisfaction.kpis.csat_mean"), names=names),
              *sat.summary_facts(kpi_rows=kpi_rows, tests=tests, drivers_result=drv, sla=sla,
                                 backlog=backlog, retention=bank_retention,
                                 window_responses=window_responses,
                                 change_alert_points=cfg.change_alert_points, attribute_changes=change,
                                 nps_change=sat.nps_change(own, branch_id=d.branch_id, period=d.period,
                                                           window_months=cfg.score_window_months),
                                 change_months=cfg.driver_window_months,
                                 attribute_labels=dict(zip(sat.ATTRIBUTES, page.labels(sat.ATTRIBUTES, "attribute"))))],
             moves=sat.bridge_facts(bridge, period=d.period, min_change=cfg.fact_bridge, label=page.tr.label))
page.league("csat_mean", leagues, p0=level, names=names)

# %% [markdown]
# CSAT both ways (0-100 mean with a t interval, top-2-box with a Wilson interval) and NPS
# with its interval, over the scoring window.

# %%
page.section("scores", months=cfg.score_window_months)
if window_responses > 0:
    page.table(sat.in_points(tests), {"metric": "label:satisfaction.values.metric", "n": "int",
                                      "value": "num", "ci_low": "num", "ci_high": "num"})
    page.note("satisfaction.notes.scale")
else:
    page.empty("surveys")

# %% [markdown]
# Scores by survey channel and by the segmentation report's asset tiers, beside the whole
# bank's; groups below the suppression limit are blanked.

# %%
page.section("by_channel")
by_channel = sat.scores_vs_bank(
    sat.scores_by(responses, by="channel", period=d.period, window_months=cfg.score_window_months,
                  confidence=cfg.confidence, min_responses=page.suppress_below, scale=cfg.csat_scale),
    d.bench("bench_satisfaction_groups"), dimension="channel")
group_columns = {"responses": "int", "csat_mean": "num", "csat_top2": "pct", "nps": "num",
                 "bank_all_csat_mean": "num", "bank_all_nps": "num"}
if window_responses > 0:
    page.table(by_channel, {"group": "label:satisfaction.values.channel", **group_columns},
               suppress=["responses"])
    page.bar_chart("by_channel", by_channel.set_index("group"), ["csat_mean", "bank_all_csat_mean"],
                   labels="channel")
else:
    page.empty("surveys")

# %%
page.section("by_tier")
by_tier = sat.scores_vs_bank(
    sat.scores_by(responses, by="tier", period=d.period, window_months=cfg.score_window_months,
                  confidence=cfg.confidence, min_responses=page.suppress_below, scale=cfg.csat_scale),
    d.bench("bench_satisfaction_groups"), dimension="tier")
if window_responses > 0:
    page.table(by_tier, {"group": "label:satisfaction.values.tier", **group_columns},
               suppress=["responses"])
    page.bar_chart("by_tier", by_tier.set_index("group"), ["csat_mean", "bank_all_csat_mean"],
                   labels="tier")
    page.note("satisfaction.notes.suppressed", minimum=page.suppress_below)
else:
    page.empty("surveys")

# %% [markdown]
# Twelve-month trend: each month's scores over the window ending that month, the 95%
# interval shaded, against the median of all branches.

# %%
page.section("trend", months=cfg.score_window_months)
if tr["window_responses"].max() > 0:
    page.chart(charts.lines(
        tr["month"], {page.series_name("branch"): tr["csat_mean"], page.series_name("bank_median"): tr["bank_csat_mean"]},
        band=(tr["csat_mean_low"], tr["csat_mean_high"]),
        title=page.rt("charts.trend_csat.title", first=tr["csat_mean"].iloc[0], last=tr["csat_mean"].iloc[-1],
                      first_month=tr["month"].iloc[0], last_month=tr["month"].iloc[-1]),
        xlabel=page.rt("charts.trend_csat.x"), ylabel=page.rt("charts.trend_csat.y")))
    page.chart(charts.lines(
        tr["month"], {page.series_name("branch"): tr["nps"], page.series_name("bank_median"): tr["bank_nps"]},
        band=(tr["nps_low"], tr["nps_high"]),
        title=page.rt("charts.trend_nps.title", first=tr["nps"].iloc[0], last=tr["nps"].iloc[-1],
                      first_month=tr["month"].iloc[0], last_month=tr["month"].iloc[-1]),
        xlabel=page.rt("charts.trend_nps.x"), ylabel=page.rt("charts.trend_nps.y")))
    page.note("satisfaction.notes.trend_band")
    page.table(tr, {"month": "month", "window_responses": "int", "csat_mean": "num", "bank_csat_mean": "num",
                    "csat_top2": "pct", "nps": "num", "bank_nps": "num"})
else:
    page.empty("surveys_year")

# %% [markdown]
# What changed since last month and since the start of the year (比上月, 比年初), and why: each
# headline ratio's change split into rate and mix effects by asset tier (and survey channel),
# from the sums prepare computed once for the bank; the segment detail is in the appendix.

# %%
for base in sat.BASES:
    page.section(f"bridges_{base}")
    overview = sat.bridge_overview(bridge, base=base, period=d.period)
    overview = overview[~overview.index.isin(page.not_recorded)]  # e.g. no complaints table
    residual = overview["residual"].abs().max() > 1e-9
    page.table(overview, {"kpi": "label:satisfaction.bridge_kpis", "opening": "num", "closing": "num",
                          "change": "delta_num", "rate_effect": "delta_num", "mix_effect": "delta_num",
                          **({"residual": "delta_num"} if residual else {})},
               headers="bridge_overview_columns", index=True)
    for measure in overview.index:
        whole = sat.bridge_total(bridge, measure=measure, base=base, period=d.period)
        if pd.isna(whole["opening"]) or pd.isna(whole["closing"]):
            page.note("satisfaction.notes.bridge_no_opening", kpi=page.tr.label("satisfaction.bridge_kpis", measure))
            continue
        for dim in sat.DIMENSIONS[measure]:
            split = sat.bridge_split(bridge, measure=measure, base=base, dimension=dim, period=d.period)
            page.rate_mix_chart(f"bridge_{measure}", split, labels=dim, scale=sat.SHOWN_AS[measure],
                                base=page.tr.label("common.bridge.bases", base), opening=whole["opening"],
                                closing=whole["closing"],
                                dimension=page.tr.label("satisfaction.bridge_dimensions", dim))
            with page.methods():
                page.table(sat.bridge_table(split, scale=sat.SHOWN_AS[measure]),
                           {dim: f"label:satisfaction.values.{dim}", "den_opening": "int", "rate_opening": "num",
                            "den_closing": "int", "rate_closing": "num", "rate_effect": "num", "mix_effect": "num",
                            "contribution": "num"},
                           headers="bridge_columns", suppress=["den_opening", "den_closing"],
                           caption=page.tr.label("satisfaction.bridge_kpis", measure))
    page.note("satisfaction.notes.bridge_segments")
    if residual:
        page.note("satisfaction.notes.bridge_residual")

# %% [markdown]
# The branch against the rest of the bank: Welch / two-proportion / NPS z-tests, adjusted
# across branches by Benjamini-Hochberg (computed once for the bank in `prepare`).

# %%
page.section("vs_bank")
if scope == "bank":  # the whole bank has no rest of the bank to be set against
    page.note("satisfaction.notes.no_rest")
elif tests["p_value"].notna().any():
    page.table(sat.in_points(tests), {"metric": "label:satisfaction.values.metric", "value": "num",
                       "rest_value": "num", "diff": "num", "direction": "label:satisfaction.values.direction"})
    with page.methods():
        page.table(sat.in_points(tests), {"metric": "label:satisfaction.values.metric", "value": "num",
                           "rest_value": "num", "rest_ci_low": "num", "rest_ci_high": "num",
                           "diff": "num", "q_value": "num", "direction": "label:satisfaction.values.direction"})
        page.note("satisfaction.notes.vs_bank_rule", fdr=cfg.fdr)
else:
    page.note("satisfaction.notes.tests_not_run", minimum=cfg.min_responses_test)

# %% [markdown]
# Drivers: ordered logit of CSAT on the six attribute ratings (missing ratings imputed with
# an indicator), and the importance x performance chart with the quadrant to act on.

# %%
page.section("drivers", months=cfg.driver_window_months)
ipa = sat.ipa_points(drv)
if drv.status == "fitted":
    fig = charts.scatter(
        ipa.assign(label=page.labels(ipa["attribute"], "attribute")), "performance", "coef",
        label="label", hlines=[drv.importance_cut], vlines=[drv.performance_cut], highlight="action",
        title=page.rt("charts.ipa.title", attribute=page.labels([drv.action], "attribute")[0])
        if drv.action else page.rt("charts.ipa.title_none"),
        xlabel=page.rt("charts.ipa.x"), ylabel=page.rt("charts.ipa.y"))
    fig.axes[0].text(0.01, 0.98, page.rt("charts.ipa.action"), transform=fig.axes[0].transAxes,
                     va="top", fontsize=8, color=charts.ALERT_COLOR)
    page.chart(fig)
    page.note("satisfaction.notes.drivers_missing")
else:
    page.note(f"satisfaction.notes.drivers_{drv.status}", responses=drv.responses,
              minimum=drv.min_responses)
if drv.responses > 0:
    page.table(drv.table, {"attribute": "label:satisfaction.values.attribute", "rated": "int",
                           "performance": "num", "quadrant": "label:satisfaction.values.quadrant"})
    with page.methods():
        page.table(drv.table, {"attribute": "label:satisfaction.values.attribute", "rated": "int",
                               "missing": "int", "performance": "num", "coef": "num", "ci_low": "num",
                               "ci_high": "num", "odds_ratio": "num", "p_value": "num",
                               "quadrant": "label:satisfaction.values.quadrant"})

# %% [markdown]
# The same model on the whole bank (fitted once in `prepare`), for reference.

# %%
if (bank_drivers["status"] == "fitted").all():
    with page.methods():
        page.note("satisfaction.notes.drivers_bank", responses=bank_drivers["responses"].max())
        page.table(bank_drivers, {"attribute": "label:satisfaction.values.attribute", "performance": "num",
                                  "coef": "num", "odds_ratio": "num", "p_value": "num",
                                  "quadrant": "label:satisfaction.values.quadrant"})

# %% [markdown]
# What to fix first: each attribute's rating in the recent window against the window before it,
# tested, and weighted by the bank's importance over the same months.

# %%
page.note("satisfaction.notes.drivers_change", months=cfg.driver_window_months, fdr=cfg.fdr)
page.table(change, {"attribute": "label:satisfaction.values.attribute", "performance_prior": "num",
                    "performance": "num", "change": "num", "focus": "label:satisfaction.values.bool"})
with page.methods():
    page.table(change, {"attribute": "label:satisfaction.values.attribute", "performance_prior": "num",
                        "performance": "num", "change": "num", "q_value": "num", "importance": "num",
                        "priority": "num", "focus": "label:satisfaction.values.bool"})

# %% [markdown]
# Complaints received in the month per 1,000 customers open at its end, by category and by
# channel, and the monthly rate against the median branch.

# %%
page.section("complaints")
by_category = sat.complaint_rates(complaints, customers, period_start=start, period_end=end, by="category")
if sla["received"].iloc[0] > 0:
    page.table(by_category, {"group": "label:satisfaction.values.category", "complaints": "int",
                             "per_1000": "num", "share": "pct"})
    page.bar_chart("complaints", by_category.set_index("group").drop(index="all"), ["per_1000"], labels="category",
                   total=by_category["per_1000"].iloc[-1])
    page.table(sat.complaint_rates(complaints, customers, period_start=start, period_end=end, by="channel"),
               {"group": "label:satisfaction.values.channel", "complaints": "int", "per_1000": "num",
                "share": "pct"})
    page.table(sat.complaints_by_tier(bridge, period=d.period),
               {"tier": "label:satisfaction.values.tier", "customers": "int", "complaints": "int", "per_1000": "num",
                "per_1000_prev": "num"}, index=True, suppress=["customers"], headers="tier_complaint_columns",
               total=sat.complaints_by_tier_total(bridge, period=d.period))
else:
    page.empty("complaints")
page.line_chart("complaints_trend", tr["month"],
                {"branch": tr["complaints_per_1000"], "bank_median": tr["bank_complaints_per_1000"]}, months=False)

# %% [markdown]
# SLA compliance: first response within 24 h and a resolution plan within 72 h (both from
# params), calendar hours, the limit inclusive; complaints whose clock is still running are
# left out until they are met or late.

# %%
page.section("sla")
page.note("satisfaction.notes.sla_rule", first_response_hours=f"{cfg.first_response_hours:g}",
          plan_hours=f"{cfg.plan_hours:g}")
page.table(sla, {"sla": "label:satisfaction.values.sla", "limit_hours": "int", "received": "int",
                 "met": "int", "breached": "int", "pending": "int", "compliance": "pct"})
if tr["complaints"].sum() > 0:
    page.line_chart("sla", tr["month"], {"sla_first_response": tr["sla_first_response"],
                                         "bank_sla_first_response": tr["bank_sla_first_response"],
                                         "sla_plan": tr["sla_plan"]}, percent=True, months=False)

# %% [markdown]
# Resolution time (Kaplan-Meier: open complaints are censored at their age, not dropped)
# and the share resolved within 30 days.

# %%
page.section("resolution", months=cfg.resolution_window_months)
resolution = sat.resolution_times(complaints, period_end=end, window_months=cfg.resolution_window_months,
                                  within_days=cfg.resolved_within_days)
if resolution["complaints"] > 0:
    page.table(pd.DataFrame([resolution]),
               {"complaints": "int", "resolved": "int", "open": "int", "median_days": "num",
                "p90_days": "num", "matured": "int", "resolved_within_share": "pct"})
    if resolution["open"] > 0:
        page.note("satisfaction.notes.resolution_open", **resolution)
    if not resolution["p90_days"] >= 0:
        page.note("satisfaction.notes.p90_not_reached")
else:
    page.empty("resolution")

# %% [markdown]
# Open backlog at the period's end with ages (names masked by the page).

# %%
page.section("backlog")
if len(backlog):
    ages = sat.backlog_by_age(backlog, age_bounds=cfg.backlog_age_days)
    page.table(ages, {"age_bucket": "label:satisfaction.values.age_bucket", "open": "int",
                      "low": "int", "medium": "int", "high": "int"}, total=True)
    page.bar_chart("backlog", ages.set_index("age_bucket"), ["open"], labels="age_bucket",
                   open=len(backlog), oldest=backlog["age_days"].max())
    page.table(backlog, {"complaint_id": "text", "name": "text", "category": "label:satisfaction.values.category",
                         "severity": "label:satisfaction.values.severity", "received_at": "date",
                         "age_days": "int", "responded": "label:satisfaction.values.bool",
                         "planned": "label:satisfaction.values.bool"}, max_rows=20)
else:
    page.empty("backlog")

# %% [markdown]
# Repeat complainants over the last 12 months (names masked by the page), each with its
# manager and next step; every row is in the workbook beside the report.

# %%
page.section("repeat", months=cfg.repeat_window_months, minimum=cfg.repeat_min_complaints)
repeat = sat.repeat_complainants(complaints, customers, period_end=end, window_months=cfg.repeat_window_months,
                                 min_complaints=cfg.repeat_min_complaints)
if len(repeat):
    page.action_table("repeat_complainants", sat.repeat_actions(repeat, customers, d.table("staff")),
                      {"customer_id": "text", "name": "text", "manager_name": "text", "complaints": "int",
                       "product": "int", "service": "int", "process": "int", "policy": "int", "open": "int",
                       "last_received": "date", "next_step": "label:satisfaction.values.next_step"}, shown=20)
else:
    page.empty("repeat")

# %% [markdown]
# Follow-up coverage (定期回访): the share of high-value customers contacted in the last N months (params), by
# manager, and those not contacted (names masked); every row is in the workbook.

# %%
page.section("followup", months=cfg.followup_months)
contacts = d.table("satisfaction_followup")
nobody = page.rt("values.manager.unassigned")
page.table(sat.followup_by_manager(contacts, period=d.period, months=cfg.followup_months, staff=d.table("staff"),
                                   unassigned=nobody),
           {"manager_name": "text", "high_value": "int", "contacted": "int", "coverage": "pct"},
           total=sat.followup_total(contacts, period=d.period, months=cfg.followup_months))
page.action_table("not_contacted", sat.not_contacted(contacts, period=d.period, months=cfg.followup_months,
                                                     staff=d.table("staff"), unassigned=nobody),
                  {"manager_name": "text", "customer_id": "text", "name": "text",
                   "asset_tier": "label:satisfaction.values.tier", "aum": "money", "days_since_contact": "int"},
                  shown=20)

# %% [markdown]
# Churn: closed, or AUM below the floor for N months in a row (both from params).

# %%
page.section("churn")
page.note("satisfaction.notes.churn_rule", floor=cfg.churn_aum_floor, months=cfg.churn_floor_months)
page.line_chart("churn", tr["month"], {"branch": tr["churn_rate"] * 100, "bank_median": tr["bank_churn_rate"] * 100},
                months=False, last=tr["churn_rate"].iloc[-1], bank=tr["bank_churn_rate"].iloc[-1])

# %% [markdown]
# Churn early warning: the bank's model of churning within the next months (fitted once in prepare
# and checked out of time on later months), and the valuable customers it rates at risk, by manager.

# %%
page.section("churn_warning", months=cfg.churn_model_horizon_months)
churn_note, churn_values = sat.churn_validation_note(churn_val)
page.note(churn_note, **churn_values)
churn_columns = {"customers": "int", "events": "int", "event_rate": "pct", "predicted_rate": "pct", "auc": "num",
                 "auc_low": "num", "auc_high": "num", "ks": "num"}
if churn_val.get("status") == "fitted":
    page.table(sat.churn_validation_row(churn_val), churn_columns, headers="churn_columns",
               caption=page.rt("captions.churn_validation"))
churn_calibration = sat.churn_calibration_note(churn_val)
if churn_calibration is not None:
    page.note(churn_calibration[0], **churn_calibration[1])
if churn_watch is not None:
    tiers = " / ".join(page.labels(cfg.churn_list_tiers, "tier"))
    if churn_probabilities:
        page.note("satisfaction.notes.churn_list_rule", tiers=tiers, months=cfg.churn_model_horizon_months,
                  probability=cfg.churn_list_min_probability)
    else:
        page.note("satisfaction.notes.churn_list_ranked", tiers=tiers, share=sat.CHURN_RANKED_SHARE)
    # the probability and the assets expected to leave only where the probabilities hold
    shown = {"probability": "pct"} if churn_probabilities else {}
    if len(churn_watch):
        page.table(sat.churn_by_manager(churn_watch), {"manager_name": "text", "customers": "int", "aum": "money",
                                                 **({"expected_lost": "money"} if churn_probabilities else {})},
                   caption=page.rt("captions.churn_managers"))
        page.action_table("churn_warning", churn_watch, {"customer_id": "text", "name": "text", "manager_name": "text",
                                                   "asset_tier": "label:satisfaction.values.tier", "aum": "money",
                                                   **shown, "reasons": "text"}, shown=cfg.churn_list_rows)
    else:
        page.empty("churn_warning")
with page.methods():
    if churn_val.get("sufficient"):
        page.table(d.bench("bench_satisfaction_churn_calibration"),
                   {"band": "int", "lower": "pct", "upper": "pct", "n": "int", "events": "int", "predicted": "pct",
                    "observed": "pct", "p_value": "num"}, headers="churn_columns",
                   caption=page.rt("captions.churn_calibration"))
    page.table(sat.churn_model_table(d.bench("bench_satisfaction_churn_model")),
               {"feature": "label:satisfaction.values.churn_feature", "coef": "num", "sd": "num", "effect": "num"},
               headers="churn_columns", caption=page.rt("captions.churn_model"))

# %% [markdown]
# Win-back: the valuable customers lost in the last months and not back, by manager, to call.

# %%
page.section("winback", months=cfg.winback_months)
page.note("satisfaction.notes.winback_rule", tiers=" / ".join(page.labels(cfg.winback_tiers, "tier")),
          months=cfg.winback_months)
if len(winback):
    page.action_table("winback", winback, {"customer_id": "text", "name": "text", "manager_name": "text",
                                           "churn_month": "month", "how": "label:satisfaction.values.how",
                                           "peak_tier": "label:satisfaction.values.tier", "peak_aum": "money"},
                      shown=cfg.churn_list_rows)
else:
    page.empty("winback")
page.note("satisfaction.notes.winback_closed_by")

# %% [markdown]
# Retention after a survey response by satisfaction band (satisfied 4-5, neutral 3, dissatisfied 1-2)
# with the risk ratio against the satisfied: the bank's (does the claim hold?) and the branch's.

# %%
page.section("retention", months=cfg.retention_months)
first, last = sat.cohort_months(d.period, horizon_months=cfg.retention_months,
                                cohort_months=cfg.retention_cohort_months)
page.note("satisfaction.notes.retention_window", first=first, last=last, months=cfg.retention_months)
retention_columns = {"band": "label:satisfaction.values.band", "customers": "int", "churned": "int",
                     "retention": "pct", "risk_ratio": "num"}
retention_tests = {**retention_columns, "rr_ci_low": "num", "rr_ci_high": "num", "p_value": "num"}
branch_retention = (sat.retention_by_band(cohort, horizon_months=cfg.retention_months, band_bounds=cfg.band_bounds,
                                          confidence=cfg.confidence, scale=cfg.csat_scale) if len(cohort) else None)
page.table(bank_retention, retention_columns, suppress=["customers", "churned"],
           caption=page.rt("captions.retention_bank"))
if len(cohort):
    page.table(branch_retention, retention_columns, suppress=["customers", "churned"],
               caption=page.rt("captions.retention_branch"))
    curve = sat.retention_curve(cohort, horizon_months=cfg.retention_months, band_bounds=cfg.band_bounds,
                                scale=cfg.csat_scale)
    page.line_chart("retention", curve["months_after"].unique(),
                    curve.pivot(index="months_after", columns="band", values="retained")[list(sat.BANDS)].to_dict("list"),
                    percent=True, months=False)
else:
    page.empty("retention")
with page.methods():
    page.table(bank_retention, retention_tests, suppress=["customers", "churned"],
               caption=page.rt("captions.retention_bank"))
    if len(cohort):
        page.table(branch_retention, retention_tests, suppress=["customers", "churned"],
                   caption=page.rt("captions.retention_branch"))

# %% [markdown]
# The brief, made from the cards, the summary and the action lists above; the
# published report shows it first (page 1 of the PDF).

# %%
page.brief()

# %% [markdown]
# Definitions and provenance.

# %%
page.definitions(sat.DEFINITIONS)
page.provenance()
