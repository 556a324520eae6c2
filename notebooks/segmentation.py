# ---
# jupyter:
#   branchbook:
#     module: branchbook.segmentation
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
# # Customer segmentation (客户分类与分级)
#
# Analyst notes (not rendered into the report; every visible text comes from
# `lib/branchbook/locales/*/segmentation.yaml`). Run top to bottom with the defaults
# below against the demo warehouse; `branchbook run` injects the validated parameters
# of each branch in the cell after the parameters cell.

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
from branchbook import segmentation as seg
from branchbook.context import open_report
from branchbook.metrics import cards, league

rc = open_report("segmentation", branch_id=branch_id, period=period, locale=locale, scope=scope,
                 settings=settings, common=common, build_dir=build_dir, run_id=run_id)
d, cfg, page = rc.data, rc.settings, rc.page

# %% [markdown]
# Classify the branch's customers with the branch's thresholds, now and as of last month.

# %%
rows = d.table("segmentation_customers")
bench = d.bench("bench_segmentation")
clusters = d.bench("bench_segmentation_clusters")
measured = d.bench("bench_segmentation_scopes")  # the top 20%'s share of the bank and each region
cur = seg.classify(rows, cfg)
prev = seg.classify(seg.previous(rows), cfg)
leagues, level = league.scope_leagues(seg.league_values, {"bench": bench}, region=d.org.region, members=d.members,
                                      scope=scope, period=d.period, key="customers")
names = page.unit_names(d.table("branches")) if leagues else {}

# %% [markdown]
# Title, KPI cards and the summary sentences chosen from the numbers.

# %%
page.title()
page.kpi_frame(cards.at_scope(seg.kpi_table(seg.kpis(cur), seg.kpis(prev), bench=bench, branch_id=d.branch_id,
                                             period=d.period, settings=cfg),
                              level=page.level, previous=seg.kpis(prev),
                              year_start=seg.scope_year_start(bench, members=d.members, period=d.period,
                                                              measured=measured, scope=scope),
                              bank=seg.scope_values(bench, members=d.meta["branches"], period=d.period,
                                                    measured=measured)),
               metrics=seg.METRICS, rag=cfg.kpi_status)
moves = d.table("segmentation_bridge")
page.summary([*league.facts(leagues, label=page.t("segmentation.kpis.customers"), names=names),
              *seg.summary_facts(cur, prev, bench=bench, period=d.period, settings=cfg)],
             moves=seg.bridge_facts(moves, cfg, label=page.tr.label))
page.league("customers", leagues, p0=level, names=names)

# %% [markdown]
# Customer type split.

# %%
page.section("type_split")
types = seg.type_split(cur)
page.table(types, {"customer_type": "label:segmentation.values.customer_type", "customers": "int",
                   "customer_share": "pct", "aum": "money", "aum_share": "pct"},
           index=True, suppress=["customers"],
           total=seg.tier_total(cur, "customer_type", suppress_below=page.suppress_below))
page.bar_chart("type_split", types, ["customer_share", "aum_share"], labels="customer_type", percent=True)

# %% [markdown]
# Asset tiers by AUM (thresholds from params).

# %%
page.section("asset_tiers")
tiers = seg.tier_summary(cur, "asset_tier")
page.table(tiers, {"asset_tier": "label:segmentation.values.asset_tier", "customers": "int",
                   "customer_share": "pct", "aum": "money", "aum_share": "pct", "avg_aum": "money"},
           index=True, suppress=["customers"],
           total=seg.tier_total(cur, "asset_tier", suppress_below=page.suppress_below))
page.bar_chart("asset_tiers", tiers, ["customer_share", "aum_share"], labels="asset_tier", percent=True)

# %% [markdown]
# What changed since last month and since the start of the year (比上月, 比年初), and why:
# customers, AUM and deposits bridges, by asset tier.

# %%
for base in seg.BASES:
    page.section(f"bridges_{base}")
    for measure, key, kind in (("customers", "bridge_customers", "int"), ("aum_total", "bridge_aum", "money"),
                               ("deposits", "bridge_deposits", "money")):
        whole = seg.bridge_total(moves, cfg, base=base, measure=measure)
        page.waterfall_chart(key, whole, kind=kind, base=page.tr.label("common.bridge.bases", base),
                             opening=whole["opening"], closing=whole["closing"])
    for measure in ("aum_total", "deposits"):
        page.table(seg.bridge_table(moves, cfg, base=base, measure=measure),
                   {"asset_tier": "label:segmentation.values.asset_tier", "customers": "int", "opening": "money",
                    "new": "money", "growth": "money", "decline": "money", "lost": "money", "moved_in": "money",
                    "moved_out": "money", "closing": "money"},
                   headers="bridge_columns", index=True, suppress=["customers"],
                   total=seg.bridge_table_total(moves, cfg, base=base, suppress_below=page.suppress_below,
                                                measure=measure),
                   caption=page.rt(f"bridge_captions.{measure}"))

# %% [markdown]
# Activity tiers from the 90-day transaction count.

# %%
page.section("activity_tiers")
activity = seg.tier_summary(cur, "activity_tier")
page.table(activity, {"activity_tier": "label:segmentation.values.activity_tier", "customers": "int",
                      "customer_share": "pct", "aum": "money", "aum_share": "pct"},
           index=True, suppress=["customers"],
           total=seg.tier_total(cur, "activity_tier", suppress_below=page.suppress_below))
page.bar_chart("activity_tiers", activity, ["customers"], labels="activity_tier")

# %% [markdown]
# Credit grades from the worst five-class category of each customer's loans.

# %%
page.section("credit_grades")
grades = seg.tier_summary(cur, "credit_grade")
page.table(grades, {"credit_grade": "label:segmentation.values.credit_grade", "customers": "int",
                    "customer_share": "pct", "aum": "money", "aum_share": "pct"},
           index=True, suppress=["customers"],
           total=seg.tier_total(cur, "credit_grade", suppress_below=page.suppress_below))

# %% [markdown]
# Composite score (bank-wide percentile ranks, weights from params) and levels.

# %%
page.section("composite")
levels = seg.tier_summary(cur, "level")
page.table(levels, {"level": "label:segmentation.values.level", "customers": "int",
                    "customer_share": "pct", "aum": "money", "aum_share": "pct", "avg_aum": "money"},
           index=True, suppress=["customers"],
           total=seg.tier_total(cur, "level", suppress_below=page.suppress_below))
page.histogram_chart("composite", {"composite": seg.open_customers(cur)["composite"]},
                     bins=list(range(0, 101, 5)))

# %% [markdown]
# Lifecycle stage from tenure and the AUM trend.

# %%
page.section("lifecycle")
stages = seg.tier_summary(cur, "lifecycle")
page.table(stages, {"lifecycle": "label:segmentation.values.lifecycle", "customers": "int",
                    "customer_share": "pct", "aum": "money", "aum_share": "pct"},
           index=True, suppress=["customers"],
           total=seg.tier_total(cur, "lifecycle", suppress_below=page.suppress_below))
page.bar_chart("lifecycle", stages, ["customers"], labels="lifecycle")

# %% [markdown]
# RFM quintile scores (bank-wide quintiles).

# %%
page.section("rfm")
page.table(seg.rfm_distribution(cur), {"score": "int", "r": "int", "f": "int", "m": "int"}, index=True)
page.heat_table("rfm_grid", seg.rfm_grid(cur))

# %% [markdown]
# Clusters fitted once over the whole bank.

# %%
page.section("clusters")
profile = seg.cluster_profile(cur, clusters)
page.table(profile, {"label": "label:segmentation.values.cluster", "trait": "label:segmentation.values.cluster_trait",
                     "customers": "int", "customer_share": "pct", "bank_share": "pct",
                     "median_aum": "money", "mean_txn_90d": "num", "mean_products": "num"},
           suppress=["customers"])
page.bar_chart("clusters", profile.set_index("label"), ["customer_share", "bank_share"], labels="cluster",
               percent=True, horizontal=True)

# %% [markdown]
# Customer lifetime value: each open customer's yearly margin, kept with the churn early warning's
# retention and discounted (method and parameters in the note and the definitions).

# %%
page.section("clv", years=cfg.clv.years)
churn_check = (d.bench("bench_satisfaction_churn_validation")
               if "satisfaction_churn_risk" in d.meta.get("artifacts", {}).get("satisfaction", []) else None)
if seg.retention_usable(churn_check):
    months = int(churn_check["horizon_months"].iloc[0])
    values = seg.customer_clv(cur, d.table("satisfaction_churn_risk"), mix=d.table("segmentation_clv_mix"),
                              **cfg.clv.model_dump(), horizon_months=months)
    clv_columns = {"customers": "int", "scored": "int", "clv": "money", "clv_mean": "money", "clv_share": "pct",
                   "retention": "pct"}
    page.table(seg.clv_by(values, by="asset_tier", order=seg.ASSET_TIERS),
               {"asset_tier": "label:segmentation.values.asset_tier", **clv_columns}, index=True, suppress=["customers"])
    page.table(seg.clv_by(values, by="customer_type"),
               {"customer_type": "label:segmentation.values.customer_type", **clv_columns}, index=True,
               suppress=["customers"])
    page.note("segmentation.notes.clv_method", **cfg.clv.model_dump(), months=months)
    page.note("segmentation.notes.clv_margins_products" if seg.margins_by_product(d.coverage)
              else "segmentation.notes.clv_margins_classes")
else:
    page.note("segmentation.notes.clv_not_shown")

# %% [markdown]
# AUM concentration: Lorenz curve, top-20% share, Gini.

# %%
page.section("concentration")
aum = seg.open_customers(cur)["aum"]
page.note("segmentation.notes.concentration", top20_share=seg.top_share(aum), gini=seg.gini(aum),
          bank_median=seg.bank_median(bench, "top20_share", d.period))
page.lorenz_chart("lorenz", {"branch": seg.lorenz(aum)})

# %% [markdown]
# Tier migration against last period.

# %%
page.section("migration")
page.note("segmentation.notes.migration", **seg.migration_counts(cur))
page.heat_table("migration", seg.migration_matrix(cur), rows="asset_tier", cols="asset_tier")

# %% [markdown]
# Branch against the bank's median branch.

# %%
page.section("benchmark")
versus = seg.branch_vs_bank(cur, bench, period=d.period, by="asset_tier")
page.table(versus, {"asset_tier": "label:segmentation.values.asset_tier", "branch_share": "pct",
                    "bank_median": "pct", "gap": "delta_pct", "branch_aum_share": "pct",
                    "bank_median_aum_share": "pct"}, index=True)
page.bar_chart("benchmark", versus, ["branch_share", "bank_median"], labels="asset_tier", percent=True)

# %% [markdown]
# Action list: customers slipping a tier and dormant high-value customers (names masked), each
# with its manager and next step; every row is in the workbook beside the report.

# %%
page.section("actions")
page.action_table("customers_to_contact", seg.action_list(cur, staff=d.table("staff"),
                                                         activity=d.coverage.shows("segmentation.activity")),
                  {"customer_id": "text", "name": "text", "manager_name": "text",
                   "reason": "label:segmentation.values.reason", "next_step": "label:segmentation.values.next_step",
                   "asset_tier": "label:segmentation.values.asset_tier",
                   "asset_tier_prev": "label:segmentation.values.asset_tier", "aum": "money", "aum_prev": "money",
                   "recency_days": "int"}, shown=cfg.action_rows)

# %% [markdown]
# Customer profile (客户画像) of each asset tier's individuals: age band and gender, then occupation and
# income band where the warehouse records them (tiers below the suppression limit shown as *).

# %%
for part, dims in (("profile", ("age_band", "gender")), ("profile_occupation", ("occupation",)),
                   ("profile_income", ("income_band",))):
    page.section(part)
    for dim in dims:
        page.table(seg.profile(cur, dim), {"asset_tier": "label:segmentation.values.asset_tier", "individuals": "int",
                                           **dict.fromkeys(seg.share_columns(dim), "pct")},
                   index=True, suppress=["individuals"],
                   total=seg.profile_total(cur, dim, suppress_below=page.suppress_below))

# %% [markdown]
# Suitability (适当性管理): products held above the customer's risk appetite, by manager, and every
# such holding to review (names masked; every row in the workbook).

# %%
page.section("suitability")
nobody = page.rt("values.manager.unassigned")
page.table(seg.suitability_by_manager(cur, staff=d.table("staff"), unassigned=nobody),
           {"manager_name": "text", "holders": "int", "mismatched": "int", "mismatch_share": "pct",
            "mismatches": "int", "mismatch_balance": "money"}, total=seg.suitability_total(cur))
page.action_table("unsuitable_holdings",
                  seg.suitability_list(d.table("segmentation_suitability"), staff=d.table("staff"), unassigned=nobody),
                  {"manager_name": "text", "customer_id": "text", "name": "text",
                   "risk_appetite": "text", "product_id": "text",
                   "product_type": "label:segmentation.values.product_type", "risk_level": "text",
                   "levels_above": "int", "balance": "money"}, shown=cfg.action_rows)

# %% [markdown]
# Cross-sell (关联分析): product penetration by asset tier, the bank's lift table (the types a tier
# holds often and more than customers generally are usual for it), and who lacks them.

# %%
page.section("cross_sell")
page.table(seg.penetration(cur), {"asset_tier": "label:segmentation.values.asset_tier", "customers": "int",
                                  **dict.fromkeys(seg.SHARE_COLUMNS, "pct")}, index=True, suppress=["customers"],
           total=seg.penetration_total(cur, suppress_below=page.suppress_below))
bank_mix = d.bench("bench_segmentation_penetration")
page.note("segmentation.notes.cross_sell", confidence=seg.MIN_CONFIDENCE, lift=seg.MIN_LIFT)
page.table(bank_mix, {"asset_tier": "label:segmentation.values.asset_tier", **dict.fromkeys(seg.LIFT_COLUMNS, "num")})
page.action_table("cross_sell_gaps", seg.gaps(cur, seg.usual_products(bank_mix), staff=d.table("staff"),
                                              unassigned=nobody),
                  {"manager_name": "text", "customer_id": "text", "name": "text",
                   "asset_tier": "label:segmentation.values.asset_tier",
                   "product_type": "label:segmentation.values.product_type", "aum": "money"}, shown=cfg.action_rows)

# %% [markdown]
# The brief, made from the cards, the summary and the action lists above; the
# published report shows it first (page 1 of the PDF).

# %%
page.brief()

# %% [markdown]
# Definitions and provenance.

# %%
page.definitions(seg.DEFINITIONS)
page.provenance()
