# ---
# jupyter:
#   branchbook:
#     module: branchbook.risk
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
# # Risk assessment (客户风险管理)
#
# Analyst notes (not rendered into the report; every visible text comes from
# `lib/branchbook/locales/*/risk.yaml`). Run top to bottom with the defaults below
# against the demo warehouse; `branchbook run` injects the validated parameters of each
# branch in the cell after the parameters cell. The scorecard is fitted once per period
# over the whole bank in `branchbook.risk.prepare` and loaded here, so every branch is
# scored by the same model.

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
from branchbook import risk
from branchbook.context import open_report
from branchbook.metrics import cards, league
from branchbook.period import window

rc = open_report("risk", branch_id=branch_id, period=period, locale=locale, scope=scope,
                 settings=settings, common=common, build_dir=build_dir, run_id=run_id)
d, cfg, page = rc.data, rc.settings, rc.page

# %% [markdown]
# Score the branch's loan book with the bank's scorecard, flag corporate borrowers and
# classify customers; the KPIs, last period's values and the bank medians follow.

# %%
sc = risk.load_scorecard(d.bench("bench_risk_scorecard"))
book = risk.score_book(d.table("risk_loans"), scorecard=sc, lgd=cfg.lgd,
                       default_dpd=cfg.scorecard.default_dpd, ccf=cfg.ccf)
flags = risk.early_warning(d.table("risk_borrowers"), rules=cfg.early_warning)
status = risk.compliance_status(d.table("risk_customers"), rules=cfg.compliance)
history = d.table("risk_book")
k = risk.kpis(book=book, warnings=flags, compliance=status)
prev, bank = risk.kpi_context(d.bench("bench_risk_kpis"), branch_id=d.branch_id, period=d.period)
year_start = bank_value = None
if scope != "branch":  # the scope's own pooled last month and year start; a region's card against the bank
    prev, year_start, bank_value = risk.scope_context(d.bench, scope=scope, members=d.members, period=d.period,
                                                      branches=d.meta["branches"])
trend = risk.npl_trend(history, bench_trend=d.bench("bench_risk_trend"),
                       months=window(d.period, cfg.trend_months + 1))
dist = risk.score_distribution(book, bins=d.bench("bench_risk_score_bins"))
mix_psi = risk.psi(dist["bank_share"], dist["loans"])
drift_psi = risk.drift_psi(book, d.bench("bench_risk_dev_bins"))
val = risk.branch_validation(d.table("risk_outcomes"), scorecard=sc,
                             min_defaults=cfg.scorecard.min_defaults)
bank_val = risk.bank_validation(d.bench("bench_risk_validation"))
breaches = risk.ltv_breaches(book, limit=cfg.ltv_limit, limits=cfg.ltv_limits)
industries = risk.industry_shares(book, bank=d.bench("bench_risk_industry"))
npl_gap = risk.npl_dpd_gap(book)
dated = risk.History.from_frame(d.bench("bench_risk_history"))
leagues, level = league.scope_leagues(risk.league_values, {"history": history, "loans": d.table("risk_loans"),
                                                           "period": d.period},
                                      region=d.org.region, members=d.members, scope=scope, period=d.period,
                                      key="npl_ratio")
names = page.unit_names(d.table("branches")) if leagues else {}

# %% [markdown]
# Title, KPI cards and the summary sentences chosen from the numbers.

# %%
page.title()
page.kpi_frame(cards.at_scope(risk.kpi_cards(k, prev, bench=d.bench("bench_risk_kpis"), branch_id=d.branch_id,
                                              period=d.period, rag=cfg.kpi_status),
                              level=page.level, previous=prev, year_start=year_start, bank=bank_value),
               metrics=risk.KPIS, rag=cfg.kpi_status)
bridge = d.table("risk_bridge")
moves = risk.bridge_facts(bridge, min_change=cfg.fact_bridge, min_change_pp=cfg.fact_bridge_pp,
                          label=page.tr.label, known=dated.close_reasons)
page.summary([*league.facts(leagues, label=page.t("risk.kpis.npl_ratio"), names=names),
              *risk.summary_facts(kpis=k, prev=prev, bank=bank, warnings=flags, breaches=breaches,
                                  validation=val, mix_psi=mix_psi, industries=industries,
                                  settings=cfg, has_scorecard=sc is not None, trend=trend,
                                  drift_psi=drift_psi, bank_validation=bank_val, npl_gap=npl_gap,
                                  moves=len(moves))],
             moves=moves)
page.league("npl_ratio", leagues, p0=level, names=names)

# %% [markdown]
# Loan book by five-class category (正常/关注/次级/可疑/损失) at the end of the period.

# %%
page.section("book")
if book.empty:
    page.empty("no_loans")
else:
    page.table(risk.five_class_mix(history, month=d.period),
               {"five_class": "label:risk.values.five_class", "loans": "int", "outstanding": "money",
                "share": "pct"}, total=True)

# %% [markdown]
# NPL and special-mention ratios over the trend window against the bank's median branch.

# %%
page.section("trend")
if trend["npl_ratio"].isna().all():
    page.empty("no_trend")
else:
    in_points = trend.set_index("month") * 100  # the charts' axes read in % of outstanding
    page.line_chart("trend", in_points.index, in_points[["npl_ratio", "bank_npl_ratio"]], months=False,
                    npl_ratio=k["npl_ratio"], bank_median=bank["npl_ratio"])
    page.line_chart("sm_trend", in_points.index,
                    in_points[["special_mention_ratio", "bank_special_mention_ratio"]], months=False,
                    ratio=k["special_mention_ratio"], bank_median=bank["special_mention_ratio"])
    page.table(trend, {"month": "month", "npl_ratio": "pct", "bank_npl_ratio": "pct",
                       "special_mention_ratio": "pct", "bank_special_mention_ratio": "pct"})

# %% [markdown]
# What changed since last month and since the start of the year (比上月, 比年初), and why:
# loans outstanding as opening -> new -> drawdowns -> repayments -> loans that left the
# book (by how) -> closing, by product and by manager; the NPL and special-mention ratios
# split into rate and mix effects; the five-class migration of balances.

# %%
known, nobody = dated.close_reasons, page.rt("values.manager.none")
for base in risk.BASES:
    page.section(f"bridges_{base}")
    if bridge.empty:
        page.empty("no_loans")
        continue
    words = page.tr.label("common.bridge.bases", base)
    steps = ["opening", "new", "growth", "decline", *risk.exit_columns(bridge, known=known), "closing"]
    whole = risk.loans_total(bridge, base=base, known=known)
    page.waterfall_chart("bridge_loans", whole, steps=steps, names="risk.bridge", base=words,
                         opening=whole["opening"], closing=whole["closing"])
    money = dict.fromkeys(steps, "money")
    page.table(risk.loans_bridge(bridge, base=base, known=known),
               {"product": "label:risk.values.product", "loans": "int", **money},
               headers="loan_bridge_columns", index=True, total=True, caption=page.rt("captions.loans_product"))
    if not known:
        page.note("risk.notes.exits_unknown")
    npl = risk.ratio_total(bridge, base=base)
    if npl["change"] == npl["change"]:  # no chart of effects without a book at the opening
        page.rate_mix_chart("bridge_npl", risk.ratio_split(bridge, base=base), labels="product", base=words,
                            opening=npl["opening"], closing=npl["closing"])
    for key, caption in (("npl_ratio", "npl_product"), ("special_mention_ratio", "sm_product")):
        page.table(risk.ratio_split(bridge, base=base, ratio_key=key),
                   {"product": "label:risk.values.product", "rate_opening": "pct", "rate_closing": "pct",
                    "weight_opening": "pct", "weight_closing": "pct", "rate_effect": "delta_pct",
                    "mix_effect": "delta_pct", "contribution": "delta_pct"},
                   headers="ratio_bridge_columns", index=True, caption=page.rt(f"captions.{caption}"),
                   total=risk.ratio_total_row(bridge, base=base, ratio_key=key))
    page.table(risk.migration(bridge, base=base, known=known),
               {"from": "label:risk.values.migration", **dict.fromkeys(risk.FIVE_CLASSES, "money"),
                **dict.fromkeys(["repaid", *risk.exit_columns(bridge, known=known)], "money"), "total": "money"},
               headers="migration_columns", index=True, total=True, caption=page.rt("captions.migration"))
    page.table(risk.loans_bridge(bridge, base=base, by="manager", known=known, unassigned=nobody),
               {"manager": "text", "loans": "int", **money}, headers="loan_bridge_columns", index=True,
               total=True, max_rows=40, caption=page.rt("captions.loans_manager"))
    page.table(risk.manager_ratios(bridge, base=base, unassigned=nobody),
               {"manager": "text", "npl_ratio_opening": "pct", "npl_ratio_closing": "pct",
                "npl_ratio_contribution": "delta_pct", "special_mention_ratio_opening": "pct",
                "special_mention_ratio_closing": "pct", "special_mention_ratio_contribution": "delta_pct"},
               headers="manager_ratio_columns", index=True, max_rows=40, caption=page.rt("captions.ratios_manager"),
               total=risk.manager_ratios_total(bridge, base=base))

# %% [markdown]
# Days-past-due buckets and the month-on-month roll rates between them.

# %%
page.section("dpd")
if book.empty:
    page.empty("no_loans")
else:
    dpd = risk.dpd_mix(history, month=d.period)
    page.note("risk.notes.past_due", share=risk.past_due_share(dpd))
    page.table(dpd, {"dpd_bucket": "label:risk.values.dpd_bucket", "loans": "int", "outstanding": "money",
                     "share": "pct"}, total=True)

# %% [markdown]
# NPL against 90+ days past due (偏离度): the loans past due more than 90 days that are
# not classed substandard or worse.

# %%
page.section("npl_dpd")
if book.empty:
    page.empty("no_loans")
else:
    page.note("risk.notes.npl_dpd", dpd90=npl_gap["dpd90_outstanding"], npl=npl_gap["npl_outstanding"],
              ratio=npl_gap["dpd90_to_npl"])
    gap_loans = risk.npl_dpd_gap_loans(book)
    if gap_loans.empty:
        page.empty("no_npl_gap")
    else:
        page.note("risk.notes.npl_dpd_gap", loans=npl_gap["gap_loans"], gap=npl_gap["gap_outstanding"])
        page.table(gap_loans, {"loan_id": "text", "customer_id": "text", "name": "text",
                               "product": "label:risk.values.product", "outstanding": "money", "dpd": "int",
                               "five_class": "label:risk.values.five_class"}, max_rows=cfg.list_rows)

# %% [markdown]
# Roll rates, with loans that left the book split by how (repaid, written off,
# restructured) where the warehouse records it.

# %%
page.section("rolls")
exits = risk.CLOSE_REASONS if dated.close_reasons else (risk.CLOSED,)
rolls = risk.roll_rates(d.table("risk_rolls"), month=d.period, exits=exits)
if rolls.isna().all().all():
    page.empty("no_rolls")
else:
    page.heat_table("rolls", rolls, rows="dpd_bucket", cols="dpd_bucket", number="{:.0%}",
                       rate=risk.roll_forward_rate(rolls))
    if not dated.close_reasons:
        page.note("risk.notes.exits_unknown")

# %% [markdown]
# The branch's performing loans by the bank's score bands: a mix comparison with the bank
# (not drift), then the PSI against the scorecard's development sample (drift).

# %%
page.section("scores")
if sc is None:
    page.empty("no_scorecard")
elif book.empty:
    page.empty("no_loans")
else:
    page.bar_chart("scores", dist.set_index("bin"), ["share", "bank_share"], percent=True, psi=mix_psi)
    bands = {"watch": cfg.scorecard.psi_watch, "shift": cfg.scorecard.psi_shift}
    key, values = risk.psi_note(mix_psi, **bands)
    page.note(key, **values)
    key, values = risk.psi_note(drift_psi, against="development", **bands)
    page.note(key, **values)
    with page.methods():
        page.table(dist, {"bin": "int", "lower": "num", "upper": "num", "loans": "int", "share": "pct",
                          "bank_share": "pct"})

# %% [markdown]
# Expected loss = PD x LGD x EAD, by product and by collateral type (LGD from params; EAD
# the balance plus the credit conversion factor of any undrawn commitment).

# %%
page.section("expected_loss")
if sc is None:
    page.empty("no_scorecard")
elif book.empty:
    page.empty("no_loans")
else:
    key, values = risk.ead_note(book, ccf=cfg.ccf)
    page.note(key, **values)
    by_product = risk.expected_loss(book, by="product")
    page.bar_chart("expected_loss", by_product.set_index("product")[["el_rate"]] * 100, ["el_rate"], labels="product",
                   el_rate=k["expected_loss_rate"])
    page.table(by_product, {"product": "label:risk.values.product", "loans": "int", "ead": "money", "pd": "pct",
                            "lgd": "pct", "el": "money", "el_rate": "pct"}, total=risk.expected_loss_total(book))
    page.table(risk.expected_loss(book, by="collateral_type"),
               {"collateral_type": "label:risk.values.collateral_type", "loans": "int", "ead": "money",
                "pd": "pct", "lgd": "pct", "el": "money", "el_rate": "pct"}, total=risk.expected_loss_total(book))

# %% [markdown]
# Stress: EL, the NPL ratio expected in 12 months and standardised RWA with PDs multiplied
# and collateral values lowered by the shocks in params (the first row unshocked); then
# the loss distribution simulated once per period in prepare (one-factor Vasicek).

# %%
page.section("stress")
if sc is None:
    page.empty("no_scorecard")
elif book.empty:
    page.empty("no_loans")
else:
    today = risk.rwa_today(book, settings=cfg.stress)
    page.note("risk.notes.stress_today", npl_ratio=k["npl_ratio"], rwa=today["rwa"], density=today["density"])
    secured = d.coverage.shows("risk.collateral")
    page.table(risk.stress_table(book, settings=cfg.stress, collateral=secured),
               {"scenario": "label:risk.values.scenario", "pd_multiplier": "num", "collateral_shock": "pct",
                "el": "money", "el_change": "money", "el_rate": "pct", "npl_ratio": "pct", "rwa": "money",
                "rwa_density": "pct"}, headers="stress_columns")
    if not secured:
        page.note("risk.notes.stress_no_collateral")
    page.note("risk.notes.stress_method", **cfg.stress.haircuts, **cfg.stress.risk_weights)

# %%
page.section("loss_distribution")
loss = risk.loss_at_scope(d.table("risk_loss"), d.bench("bench_risk_loss"), scope=scope)
if sc is None:
    page.empty("no_scorecard")
elif book.empty or loss.empty:
    page.empty("no_loans")
else:
    page.table(loss, {"measure": "label:risk.values.loss_measure", "value": "money", "low": "money",
                      "high": "money"}, headers="loss_columns")
    page.note("risk.notes.loss_method", rho=loss["rho"].iloc[0], draws=loss["draws"].iloc[0],
              confidence=loss["confidence"].iloc[0])

# %% [markdown]
# Early-warning signals for corporate borrowers (thresholds from params), then the list
# of borrowers tripping a rule, largest exposure first, names masked, each with its manager
# and next step; every row is in the workbook beside the report.

# %%
page.section("early_warning")
page.note("risk.notes.ew_thresholds", **cfg.early_warning.model_dump())
watchlist = risk.warning_list(flags, rule_names=page.labels(risk.EW_RULES, "ew_rule"),
                              sep=page.rt("list_separator"), customers=d.table("customers"),
                              staff=d.table("staff"))
if watchlist.empty:
    page.empty("no_warnings")
else:
    page.table(risk.warning_rules(flags), {"rule": "label:risk.values.ew_rule", "borrowers": "int",
                                           "exposure": "money", "exposure_share": "pct"})
    page.action_table("borrowers_to_review", watchlist,
                      {"customer_id": "text", "name": "text", "manager_name": "text",
                       "industry": "label:risk.values.industry", "exposure": "money", "max_dpd": "int",
                       "rules": "text", "next_step": "label:risk.values.next_step"}, shown=cfg.list_rows)

# %% [markdown]
# Collateral: loans by loan-to-value band, each collateral type against its own limit
# (from params), the loans above their limit with the day their value is as of, and the
# loans whose collateral revaluation is overdue at the period's end (intervals from
# params); every overdue loan is in the workbook beside the report.

# %%
page.section("collateral")
if book.empty:
    page.empty("no_loans")
else:
    breach_share = risk.ltv_breach_share(book, limit=cfg.ltv_limit, limits=cfg.ltv_limits)
    ltv = risk.ltv_distribution(book, bands=cfg.ltv_bands)
    page.bar_chart("ltv", ltv.set_index("band"), ["share"], labels="ltv_band", percent=True,
                   share=breach_share, limit=cfg.ltv_limit)
    page.table(ltv, {"band": "label:risk.values.ltv_band", "loans": "int", "outstanding": "money", "share": "pct"},
               total=True)
    page.table(risk.ltv_by_collateral(book, limit=cfg.ltv_limit, limits=cfg.ltv_limits),
               {"collateral_type": "label:risk.values.collateral_type", "ltv_limit": "pct", "loans": "int",
                "outstanding": "money", "above": "int", "above_outstanding": "money", "above_share": "pct"})
    page.note("risk.notes.ltv_limit", loans=len(breaches), limit=cfg.ltv_limit, share=breach_share)
    if breaches.empty:
        page.empty("no_breaches")
    else:
        page.table(breaches, {"loan_id": "text", "customer_id": "text", "name": "text",
                              "product": "label:risk.values.product",
                              "collateral_type": "label:risk.values.collateral_type", "outstanding": "money",
                              "collateral_value": "money", "collateral_valued_on": "date", "ltv": "pct",
                              "ltv_limit": "pct"},
                   max_rows=cfg.list_rows)
    if not d.coverage.shows("risk.revaluation"):
        page.note("risk.notes.revaluation_not_recorded")
    else:
        reval = risk.revaluation_status(book, as_of=d.meta["period_end"], months=cfg.revaluation_months)
        n = risk.revaluation_counts(reval)
        page.note("risk.notes.revaluation", overdue=n["overdue"], dated=n["overdue"] + n["not_due"],
                  as_of=d.meta["period_end"], **cfg.revaluation_months)
        for key in ("no_date", "after_end"):
            if n[key]:
                page.note(f"risk.notes.revaluation_{key}", loans=n[key])
        overdue = risk.overdue_revaluations(reval, staff=d.table("staff"))
        if overdue.empty:
            page.empty("no_overdue_revaluations")
        else:
            page.action_table("revaluations_overdue", overdue,
                              {"loan_id": "text", "customer_id": "text", "name": "text", "manager_name": "text",
                               "collateral_type": "label:risk.values.collateral_type",
                               "collateral_value": "money", "collateral_valued_on": "date",
                               "months_since": "int", "due_on": "date"}, shown=cfg.list_rows)

# %% [markdown]
# Industry concentration of the corporate book against the bank, with the HHI.

# %%
page.section("concentration")
if industries.empty:
    page.empty("no_industry")
else:
    page.bar_chart("industry", industries.set_index("industry"), ["share", "bank_share"], labels="industry",
                   percent=True, horizontal=True, share=industries["share"].iloc[0])
    page.table(industries, {"industry": "label:risk.values.industry", "loans": "int", "outstanding": "money",
                            "share": "pct", "bank_share": "pct"}, total=True)
    page.note("risk.notes.hhi", hhi=risk.hhi(industries["share"]))

# %% [markdown]
# The largest borrowers and the top-10 share of the branch's book.

# %%
page.section("top_borrowers")
if book.empty:
    page.empty("no_loans")
else:
    page.note("risk.notes.top_share", share=k["top10_share"])
    page.table(risk.top_borrowers(book, n=cfg.top_borrowers),
               {"rank": "int", "customer_id": "text", "name": "text",
                "customer_type": "label:risk.values.customer_type", "loans": "int", "outstanding": "money",
                "share": "pct"}, max_rows=cfg.top_borrowers)

# %% [markdown]
# Compliance classification from KYC status and AML alerts as they were at the period's
# end (today's status where the warehouse keeps no dated history, said in a note), and
# the ageing of the alerts open then.

# %%
page.section("compliance")
if status.empty:
    page.empty("no_customers")
else:
    for key in risk.status_notes(d.bench("bench_risk_history"), report="risk"):
        page.note(key)
    page.table(risk.compliance_table(status), {"status": "label:risk.values.compliance", "customers": "int",
                                               "share": "pct"}, total=True, suppress=["customers"])
    reasons = risk.compliance_reasons(status)
    if reasons.empty:
        page.empty("no_risk_customers")
    else:
        page.table(reasons, {"status": "label:risk.values.compliance", "reason": "label:risk.values.reason",
                             "customers": "int", "share": "pct"}, suppress=["customers"])

# %%
page.section("alerts")
ageing = risk.alert_ageing(d.table("aml_alerts"), as_of=d.meta["period_end"],
                           ageing_days=cfg.compliance.ageing_days)
if ageing["alerts"].sum() == 0:
    page.empty("no_alerts")
else:
    page.table(ageing, {"bucket": "text", "alerts": "int", "share": "pct"}, total=True)

# %% [markdown]
# Risk matrix: borrowers by PD band (probability) and exposure band (impact), both from
# params; the borrowers in the riskiest cells below.

# %%
page.section("matrix")
borrowers = risk.borrower_risk(book, pd_bands=cfg.pd_bands, exposure_bands=cfg.exposure_bands)
if borrowers.empty:
    page.empty("no_loans")
else:
    page.heat_table("matrix", risk.risk_matrix(borrowers), **risk.matrix_summary(borrowers))
    page.note("risk.notes.matrix_exposure", **risk.matrix_summary(borrowers))
    page.table(risk.matrix_list(borrowers, n=cfg.top_borrowers),
               {"customer_id": "text", "name": "text", "exposure": "money", "pd": "pct", "probability": "int",
                "impact": "int", "rating": "int"}, max_rows=cfg.top_borrowers)
    with page.methods():
        page.table(risk.matrix_bands(cfg.pd_bands, cfg.exposure_bands),
                   {"matrix_band": "int", "pd_from": "pct", "pd_to": "pct", "exposure_from": "money",
                    "exposure_to": "money"})

# %% [markdown]
# Methods appendix. The bank's scorecard: characteristics by information value, then the
# points table of the characteristics in the model (WoE, IV and points per bin).

# %%
page.section("scorecard", methods=True)
if sc is None:
    page.empty("no_scorecard")
else:
    key, values = risk.scorecard_note(sc)
    page.note(key, **values)
    features = risk.scorecard_features(sc)
    page.bar_chart("iv", features.set_index("feature"), ["iv"], labels="feature", horizontal=True,
                   features=len(sc.features), total=len(features))
    page.table(features, {"feature": "label:risk.values.feature", "bins": "int", "iv": "num",
                          "in_model": "label:risk.values.in_model", "coefficient": "num"})
    page.note("risk.notes.woe_sign")
    page.table(risk.scorecard_bins(sc, names=page.labels, sep=page.rt("list_separator")),
               {"feature": "label:risk.values.feature", "label": "label:risk.values", "count": "int",
                "event_rate": "pct", "woe": "num", "iv": "num", "points": "num"}, max_rows=60)

# %% [markdown]
# Out-of-time validation: fitted on the development window, measured on the loans
# performing a year before the period over the following year. AUC with its DeLong
# interval, KS and Gini only with at least `scorecard.min_defaults` defaults (else the
# report says so); calibration by score band; stability against the development sample.

# %%
page.section("validation", methods=True)
if sc is None:
    page.empty("no_scorecard")
else:
    key, values = risk.bank_validation_note(bank_val, scorecard=sc, minimum=cfg.scorecard.min_defaults)
    page.note(key, **values)
    measures = {"loans": "int", "defaults": "int", "default_rate": "pct", "predicted_rate": "pct",
                "auc": "num", "auc_low": "num", "auc_high": "num", "ks": "num", "gini": "num"}
    if bank_val["sufficient"]:
        page.table(risk.validation_table(bank_val), measures)
        key, values = risk.calibration_note(bank_val)
        page.note(key, **values)
        page.table(d.bench("bench_risk_calibration"),
                   {"bin": "int", "lower": "num", "upper": "num", "loans": "int", "defaults": "int",
                    "predicted": "pct", "corrected": "pct", "observed": "pct", "p_value": "num",
                    "off": "label:risk.values.off"})
    page.note("risk.notes.stability", watch=cfg.scorecard.psi_watch, shift=cfg.scorecard.psi_shift)
    page.table(d.bench("bench_risk_stability"), {"feature": "label:risk.values.feature", "psi": "num"})
    key, values = risk.validation_note(val, min_defaults=cfg.scorecard.min_defaults,
                                       month=sc.meta_.get("validation_month", ""))
    page.note(key, **values)
    if val["sufficient"]:
        page.table(risk.validation_table(val), measures)

# %% [markdown]
# The brief, made from the cards, the summary and the action lists above; the
# published report shows it first (page 1 of the PDF).

# %%
page.brief()

# %% [markdown]
# Definitions and provenance.

# %%
page.definitions(risk.DEFINITIONS)
page.provenance()
