"""The churn early warning: features, reasons and validation by hand; planted churners on
a small synthetic bank; pure noise; the figures recomputed from the warehouse."""

from __future__ import annotations

import math
import types
from datetime import date

import duckdb
import numpy as np
import pandas as pd
import pytest
from shared_tables import add_shared

from branchbook import satisfaction as sat
from branchbook.period import shift_month
from branchbook.satisfaction.churn_lists import validation_note, watch_list
from branchbook.satisfaction.churn_model import (
    ChurnModel,
    churned_within,
    features,
    fit,
    reasons,
    usable,
    validation,
)
from branchbook.satisfaction.churn_risk import (
    churn_risk_frames,
    sample_months,
    transaction_months,
    transactions_from,
)
from branchbook.satisfaction.prepare import _steps_sql
from branchbook.stats.measures import calibration_bands


def _raw(**over):
    base = {
        "aum": [9_000.0],
        "aum_before": [29_000.0],
        "dig_recent": [0],
        "dig_prior": [5],
        "phys_recent": [3],
        "phys_prior": [1],
        "products_held": [2],
        "tenure_years": [3.5],
        "complaints_12m": [1],
        "csat_100": [30.0],
        "loans_outstanding": [None],
    }
    return pd.DataFrame({**base, **{k: [v] for k, v in over.items()}})


def test_features_by_hand():
    f = features(_raw(), dissatisfied_below=60).iloc[0]
    assert f["aum_log"] == pytest.approx(math.log10(9_001))
    assert f["aum_trend"] == pytest.approx(math.log(10_000 / 30_000))
    assert f["txn_recent"] == pytest.approx(math.log(1 + 3))
    assert f["digital_trend"] == pytest.approx(math.log(1 / 6))
    assert f["branch_trend"] == pytest.approx(math.log(4 / 2))
    assert (f["products_held"], f["tenure_years"], f["complaints_12m"]) == (2, 3.5, 1)
    assert f["dissatisfied"] == 1.0
    # neutral (60) is not dissatisfied; not surveyed counts 0
    assert features(_raw(csat_100=60.0), dissatisfied_below=60)["dissatisfied"].iloc[0] == 0
    assert features(_raw(csat_100=np.nan), dissatisfied_below=60)["dissatisfied"].iloc[0] == 0
    # no loan (NULL), AUM 9,000 above the floor of 1,000
    assert (f["has_loan"], f["below_floor"]) == (0.0, 0.0)
    g = features(_raw(aum=800.0, loans_outstanding=5e4), dissatisfied_below=60).iloc[0]
    assert (g["has_loan"], g["below_floor"]) == (1.0, 1.0)
    # the splines: trend ln(1/3) = -1.0986 is below every knot; log10(9,001) = 3.954 is
    # 0.954 above the knot at 3 and 0.454 above the one at 3.5, below 4 and 5
    assert [f[f"aum_trend_k{i}"] for i in range(1, 6)] == [0.0] * 5
    assert [f[f"aum_log_k{i}"] for i in range(1, 5)] == pytest.approx(
        [math.log10(9_001) - 3, math.log10(9_001) - 3.5, 0.0, 0.0]
    )


def test_spline_columns_give_reasons_under_their_feature():
    m = ChurnModel(
        ["aum_trend", "aum_trend_k1", "complaints_12m"],
        np.array([0.0, 0.1, 0.0]),
        np.ones(3),
        np.array([-1.0, -2.0, 0.5]),
        -3.0,
    )
    x = pd.DataFrame({"aum_trend": [-0.8], "aum_trend_k1": [0.0], "complaints_12m": [1.0]})
    # aum_trend: -1 x (-0.8 - 0) + -2 x (0 - 0.1) = 0.8 + 0.2 = 1.0 > 0.5 (complaints)
    assert reasons(m, x).iloc[0].tolist() == ["aum_trend.low", "complaints_12m.high", ""]
    # a rising balance whose spline raises the risk is not named: assets rising is not
    # a reason to leave (aum_trend is expected to lower the risk)
    m.coef = np.array([1.0, 0.0, 0.5])
    up = pd.DataFrame({"aum_trend": [0.8], "aum_trend_k1": [0.9], "complaints_12m": [1.0]})
    assert m.contributions(up).iloc[0].tolist() == pytest.approx([0.8, 0.0, 0.5])
    assert reasons(m, up).iloc[0].tolist() == ["complaints_12m.high", "", ""]


def test_churned_within_the_horizon_only():
    month = pd.Series(["2026-07"] * 5)
    churn = pd.Series(["2026-08", "2026-10", "2026-11", None, "2026-07"])
    assert churned_within(month, churn, 3).tolist() == [1, 1, 0, 0, 0]


def test_sample_months_keep_the_history_the_features_read():
    assert sample_months("2026-10", "2024-11", horizon=3, dev_months=3) == (
        ["2026-01", "2026-02", "2026-03"],
        ["2026-04"],
        "2026-07",
    )
    # a warehouse starting 2025-08: 2026-01 reads 2025-08, 2025-12 would read 2025-07
    assert sample_months("2026-10", "2025-08", horizon=3, dev_months=3)[0] == [
        "2026-01",
        "2026-02",
        "2026-03",
    ]
    assert sample_months("2026-10", "2025-10", horizon=3, dev_months=3)[0] == ["2026-03"]


def _model():
    return ChurnModel(
        ["aum_trend", "txn_recent", "complaints_12m"],
        mean=np.array([0.0, 2.0, 0.1]),
        sd=np.array([0.5, 1.0, 0.3]),
        coef=np.array([-2.0, -0.5, 1.0]),
        intercept=-3.0,
    )


def test_contributions_reasons_and_probability_by_hand():
    m = _model()
    x = pd.DataFrame(
        {"aum_trend": [-1.0, 0.5], "txn_recent": [0.0, 2.0], "complaints_12m": [1.0, 0.1]}
    )
    c = m.contributions(x)
    # row 0: -2 x (-1 - 0) = 2; -0.5 x (0 - 2) = 1; 1 x (1 - 0.1) = 0.9
    assert c.iloc[0].tolist() == pytest.approx([2.0, 1.0, 0.9])
    assert m.predict(x)[0] == pytest.approx(1 / (1 + math.exp(-(-3.0 + 3.9))))
    r = reasons(m, x)
    assert r.iloc[0].tolist() == ["aum_trend.low", "txn_recent.low", "complaints_12m.high"]
    # row 1: only negative or zero contributions: no reason
    assert r.iloc[1].tolist() == ["", "", ""]
    back = ChurnModel.from_table(m.table())
    assert back.features == m.features and back.intercept == -3.0
    assert back.predict(x) == pytest.approx(m.predict(x))


def test_a_feature_fitted_against_its_expected_direction_gives_no_reason():
    # fitted so that dissatisfaction lowers the risk (coef -0.2), as on the demo: a
    # satisfied customer's "not dissatisfied" would have been a reason to leave
    m = ChurnModel(
        ["dissatisfied", "complaints_12m"],
        np.array([0.5, 0.1]),
        np.ones(2),
        np.array([-0.2, 1.0]),
        -3.0,
    )
    x = pd.DataFrame({"dissatisfied": [0.0, 1.0], "complaints_12m": [1.0, 0.0]})
    assert m.contributions(x).iloc[0].tolist() == pytest.approx([0.1, 0.9])
    r = reasons(m, x)
    assert r.iloc[0].tolist() == ["complaints_12m.high", "", ""]
    assert r.iloc[1].tolist() == ["", "", ""]
    # fitted the expected way, dissatisfaction is a reason
    m.coef = np.array([0.8, 1.0])
    assert reasons(m, x).iloc[1].tolist() == ["dissatisfied.high", "", ""]


def test_calibration_bands_by_hand():
    y = [0, 0, 0, 1, 0, 1]
    p = [0.1, 0.1, 0.2, 0.2, 0.5, 0.7]
    t = calibration_bands(y, p, bands=3)
    assert t["n"].tolist() == [2, 2, 2]
    assert t["events"].tolist() == [0, 1, 1]
    assert t["predicted"].tolist() == pytest.approx([0.1, 0.2, 0.6])
    assert t["observed"].tolist() == pytest.approx([0.0, 0.5, 0.5])
    # exact two-sided binomial, the outcomes no more likely than the one seen summed:
    # 0 of 2 at 0.1: P(0) = 0.81 is the likeliest, so all count: 1
    assert t["p_value"].iloc[0] == pytest.approx(1.0)
    # 1 of 2 at 0.2: P(1) = 0.32, P(2) = 0.04 (P(0) = 0.64 is likelier): 0.36
    assert t["p_value"].iloc[1] == pytest.approx(0.36)
    assert calibration_bands([], []).empty


def test_too_few_events_gives_no_figure():
    y = [1] * 5 + [0] * 500
    v = validation(y, np.linspace(0, 1, 505), min_events=20)
    assert v["events"] == 5 and v["sufficient"] == 0.0
    assert math.isnan(v["auc"]) and math.isnan(v["ks"]) and not usable(v)
    key, values = validation_note({**v, "status": "fitted", "min_events": 20})
    assert key.endswith("few_validation") and values["events"] == 5
    assert validation_note({"status": "few_events", "dev_events": 3, "min_events": 20})[0].endswith(
        "few_events"
    )


def test_a_model_on_pure_noise_has_an_auc_interval_covering_one_half():
    rng = np.random.default_rng(29)
    n = 4_000
    x_dev = pd.DataFrame(rng.normal(size=(n, 5)), columns=[f"f{i}" for i in range(5)])
    y_dev = (rng.random(n) < 0.05).astype(int)
    x_val = pd.DataFrame(rng.normal(size=(n, 5)), columns=[f"f{i}" for i in range(5)])
    y_val = (rng.random(n) < 0.05).astype(int)
    v = validation(y_val, fit(x_dev, y_dev).predict(x_val), min_events=20)
    assert v["sufficient"] == 1.0
    assert v["auc_low"] < 0.5 < v["auc_high"]
    assert not usable(v)
    assert validation_note({**v, "status": "fitted"})[0].endswith("not_better")


# -- a small synthetic bank with planted churners ------------------------------------

PERIOD = "2026-10"
MONTHS = [shift_month("2025-09", k) for k in range(14)]  # 2025-09 .. 2026-10


def _month_index(m: str) -> int:
    return MONTHS.index(m) if m in MONTHS else (int(m[:4]) * 12 + int(m[5:7])) - (2025 * 12 + 9)


def _synthetic_bank(seed=11, n=800):
    """``n`` customers; a third are planted churners: closed on the 10th of their churn
    month (Dec 2025 .. Mar 2027), their assets halving and their transactions stopped over
    the three months before. The others: steady assets and transactions, with noise."""
    rng = np.random.default_rng(seed)
    ids = [f"C{i:04d}" for i in range(n)]
    churner = rng.random(n) < 1 / 3
    churn_at = np.where(churner, rng.integers(3, 19, n), 10**6)  # month index of closing
    base = rng.lognormal(math.log(100_000), 0.6, n) + 20_000
    closed = [
        date(int(shift_month("2025-09", int(k))[:4]), int(shift_month("2025-09", int(k))[5:]), 10)
        if k < len(MONTHS)
        else None
        for k in churn_at
    ]
    customers = pd.DataFrame(
        {
            "customer_id": ids,
            "branch_id": np.where(np.arange(n) % 2 == 0, "A", "B"),
            "manager_id": [f"S{i % 5}" for i in range(n)],
            "name": [f"客户{i}" for i in range(n)],
            "opened_on": date(2020, 1, 1),
            "closed_on": closed,
        }
    )
    bal, txn = [], []
    for t, m in enumerate(MONTHS):
        for i in range(n):
            if t >= churn_at[i]:
                continue
            left = churn_at[i] - t  # months to closing
            drain = 0.5 ** max(0, 4 - left) if left <= 3 else 1.0
            aum = base[i] * drain * math.exp(0.05 * rng.standard_normal())
            bal.append((ids[i], m, aum, 0.0, 2))
            k = 0 if left <= 3 else rng.poisson(6)
            for j in range(k):
                ch = ("mobile", "online", "counter", "atm")[rng.integers(0, 4)]
                txn.append((f"T{len(txn)}", ids[i], date(int(m[:4]), int(m[5:]), 1 + j % 28), ch))
    balances = pd.DataFrame(
        bal, columns=["customer_id", "month", "deposits", "wealth", "products_held"]
    )
    balances = balances.assign(loans_outstanding=0.0)
    transactions = pd.DataFrame(txn, columns=["txn_id", "customer_id", "txn_date", "channel"])
    transactions = transactions.assign(amount=100.0, direction="in")
    con = duckdb.connect()
    for name, frame in {"customers": customers, "balances": balances,
                        "transactions": transactions}.items():  # fmt: skip
        con.register(f"{name}_df", frame)
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM {name}_df")
    con.execute(
        "CREATE TABLE complaints (complaint_id VARCHAR, customer_id VARCHAR, received_at TIMESTAMP)"
    )
    return con, customers, churn_at


@pytest.fixture(scope="module")
def synthetic():
    con, customers, churn_at = _synthetic_bank()
    add_shared(con, PERIOD)
    ctx = types.SimpleNamespace(
        sql=lambda q, **p: con.execute(q, p).df(), period=PERIOD, period_end=date(2026, 10, 31)
    )
    out = churn_risk_frames(
        ctx,
        _steps_sql(3),
        floor=1_000.0,
        floor_months=3,
        horizon=3,
        dev_months=3,
        min_events=20,
        dissatisfied_below=60.0,
    )
    return out, customers, churn_at


def test_planted_churners_are_the_events_of_the_validation_sample(synthetic):
    out, customers, churn_at = synthetic
    v = out["bench_satisfaction_churn_validation"].iloc[0]
    july = _month_index("2026-07")
    active = churn_at > july  # open with a balance row at the end of July
    events = active & (churn_at <= july + 3)
    assert v["validation_month"] == "2026-07" and v["status"] == "fitted"
    assert (v["customers"], v["events"]) == (active.sum(), events.sum())
    assert v["auc_low"] > 0.9 and usable(v.to_dict())


def test_the_synthetic_bank_is_recalibrated_between_development_and_validation(synthetic):
    out, _, churn_at = synthetic
    v = out["bench_satisfaction_churn_validation"].iloc[0]
    assert (v["dev_last"], v["calibration_first"], v["calibration_last"]) == (
        "2026-03",
        "2026-04",
        "2026-04",
    )
    april = _month_index("2026-04")
    active = churn_at > april
    assert v["cal_customers"] == active.sum()
    assert v["cal_events"] == (active & (churn_at <= april + 3)).sum()
    assert math.isfinite(v["calibration_intercept"]) and v["calibration_slope"] > 0
    s = out["satisfaction_churn_risk"]
    assert s["score"].between(0, 1).all() and s["score"].max() == 1.0
    # probabilities only where the validation sample's calibration holds
    assert s["probability"].notna().all() == bool(v["calibrated"])


def test_planted_churners_rank_at_the_top(synthetic):
    out, customers, churn_at = synthetic
    s = out["satisfaction_churn_risk"].set_index("customer_id")
    oct_ = _month_index(PERIOD)
    ids = customers["customer_id"].to_numpy()
    draining = ids[(churn_at > oct_) & (churn_at <= oct_ + 2)]  # two months or more drained
    staying = ids[churn_at > oct_ + 3]
    assert len(draining) >= 10
    assert s.loc[draining, "score"].min() > s.loc[staying, "score"].max()
    # and the reasons say why: assets falling, transactions stopped
    top = s.loc[draining, ["reason_1", "reason_2", "reason_3"]].to_numpy().ravel().tolist()
    assert "aum_trend.low" in top and ("txn_recent.low" in top or "branch_trend.low" in top)


def test_the_watch_list_keeps_the_valuable_above_the_threshold_by_manager():
    scores = pd.DataFrame(
        {
            "customer_id": ["C1", "C2", "C3", "C4", "C5"],
            "asset_tier": ["wealth", "mass", "affluent", "private", "affluent"],
            "aum": [600_000.0, 2_000.0, 60_000.0, 7_000_000.0, 80_000.0],
            "probability": [0.30, 0.90, 0.06, 0.04, 0.20],
            "reason_1": ["aum_trend.low", "", "txn_recent.low", "", "aum_trend.low"],
            "reason_2": ["", "", "", "", "tenure_years.low"],
            "reason_3": ["", "", "", "", ""],
        }
    )
    customers = pd.DataFrame(
        {
            "customer_id": ["C1", "C2", "C3", "C4", "C5"],
            "manager_id": ["S1", "S1", "S2", "S2", None],
            "name": ["张三", "李四", "王五", "赵六", "钱七"],
        }
    )
    staff = pd.DataFrame({"staff_id": ["S1", "S2"], "name": ["经理甲", "经理乙"]})
    w = watch_list(
        scores,
        customers,
        staff,
        tiers=["affluent", "wealth", "private"],
        min_probability=0.05,
        label=lambda prefix, code: f"<{code}>",
    )
    # C2 is mass, C4 below 5%; the manager with the most assets at risk first, no manager last
    assert w["customer_id"].tolist() == ["C1", "C3", "C5"]
    assert w["manager_name"].tolist() == ["经理甲", "经理乙", ""]
    assert w.loc[2, "reasons"] == "<aum_trend.low>; <tenure_years.low>"
    m = sat.churn_by_manager(w)
    assert m["expected_lost"].tolist() == pytest.approx(
        [0.3 * 600_000, 0.06 * 60_000, 0.2 * 80_000]
    )


def test_without_calibrated_probabilities_the_list_ranks_by_score():
    scores = pd.DataFrame(
        {
            "customer_id": ["C1", "C2", "C3", "C4", "C5"],
            "asset_tier": ["wealth", "mass", "affluent", "affluent", "private"],
            "aum": [600_000.0, 2_000.0, 60_000.0, 80_000.0, 900_000.0],
            "score": [0.85, 0.99, 0.95, 0.80, 0.79],
            "probability": [np.nan] * 5,
            "reason_1": ["aum_trend.low", "", "", "", ""],
            "reason_2": [""] * 5,
            "reason_3": [""] * 5,
        }
    )
    customers = pd.DataFrame(
        {
            "customer_id": ["C1", "C2", "C3", "C4", "C5"],
            "manager_id": ["S1", "S1", "S2", "S2", "S1"],
            "name": ["张三", "李四", "王五", "赵六", "钱七"],
        }
    )
    staff = pd.DataFrame({"staff_id": ["S1", "S2"], "name": ["经理甲", "经理乙"]})
    w = watch_list(
        scores, customers, staff, tiers=["affluent", "wealth", "private"], min_probability=None
    )
    # the bank's riskiest fifth (score >= 0.8): C2 is mass, C5 below; by manager then score
    assert w["customer_id"].tolist() == ["C1", "C3", "C4"]
    assert w["probability"].isna().all()
    m = sat.churn_by_manager(w)
    assert m["customers"].tolist() == [1, 2] and m["expected_lost"].isna().all()


def test_the_probabilities_are_shown_only_when_calibrated():
    from branchbook.satisfaction.churn_lists import calibration_note, probabilities_shown

    v = {"status": "fitted", "sufficient": 1.0, "auc_low": 0.7, "calibrated": 1.0}
    assert probabilities_shown(v)
    assert calibration_note(v)[0].endswith("probabilities_calibrated")
    assert not probabilities_shown({**v, "calibrated": 0.0})
    assert calibration_note({**v, "calibrated": 0.0})[0].endswith("not_calibrated")
    assert not probabilities_shown({**v, "auc_low": 0.4})  # no ranking, no list at all
    assert calibration_note({**v, "auc_low": 0.4}) is None


# -- recomputed from the warehouse ----------------------------------------------------


def _prepared(small_bank, name):
    root = small_bank / "build" / "2026-10" / "prepared"
    if name.startswith("bench_"):
        return pd.read_parquet(root / "bench" / f"{name}.parquet")
    return pd.concat(
        [pd.read_parquet(p) for p in sorted(root.glob(f"extracts/*/{name}.parquet"))],
        ignore_index=True,
    )


_ACTIVE_EVENTS = """
WITH b AS (
    SELECT customer_id, month,
           deposits + wealth AS aum_end,
           greatest(coalesce(deposits_avg, deposits), 0) + coalesce(wealth_avg, wealth) AS aum
    FROM balances
),
low AS (  -- assets below the floor in three balance months in a row ending at month
    SELECT b0.customer_id, b0.month FROM b b0
    JOIN b b1 ON b1.customer_id = b0.customer_id
        AND b1.month = strftime(CAST(b0.month || '-01' AS DATE) - INTERVAL 1 MONTH, '%Y-%m')
    JOIN b b2 ON b2.customer_id = b0.customer_id
        AND b2.month = strftime(CAST(b0.month || '-01' AS DATE) - INTERVAL 2 MONTH, '%Y-%m')
    WHERE b0.aum_end < 1000 AND b1.aum_end < 1000 AND b2.aum_end < 1000
),
active AS (
    SELECT c.customer_id, b.aum FROM customers c JOIN b ON b.customer_id = c.customer_id
    WHERE b.month = $month
      AND (c.closed_on IS NULL OR c.closed_on > last_day(CAST($month || '-01' AS DATE)))
      AND c.customer_id NOT IN (SELECT customer_id FROM low WHERE month = $month)
)
SELECT a.customer_id, a.aum,
       (c.closed_on IS NOT NULL
            AND c.closed_on <= last_day(CAST($month || '-01' AS DATE) + INTERVAL 3 MONTH))
       OR EXISTS (SELECT 1 FROM low l WHERE l.customer_id = a.customer_id AND l.month > $month
                  AND l.month <= strftime(CAST($month || '-01' AS DATE) + INTERVAL 3 MONTH, '%Y-%m'))
           AS churned
FROM active a JOIN customers c USING (customer_id)
"""


def test_validation_sample_and_scores_recomputed_from_the_warehouse(small_bank):
    con = duckdb.connect(str(small_bank / "build" / "demo" / "warehouse.duckdb"), read_only=True)
    try:
        val = con.execute(_ACTIVE_EVENTS, {"month": "2026-07"}).df()
        now = con.execute(_ACTIVE_EVENTS, {"month": PERIOD}).df()
    finally:
        con.close()
    v = _prepared(small_bank, "bench_satisfaction_churn_validation").iloc[0]
    assert v["customers"] == len(val)
    assert v["events"] == int(val["churned"].sum())
    scores = _prepared(small_bank, "satisfaction_churn_risk").set_index("customer_id")
    assert set(scores.index) == set(now["customer_id"])
    aum = now.set_index("customer_id")["aum"]
    assert scores["aum"].to_numpy() == pytest.approx(aum.loc[scores.index].to_numpy())
    # what the report shows: the bank's figures and the list read these frames
    assert sat.churn_bank_validation(_prepared(small_bank, "bench_satisfaction_churn_validation"))[
        "events"
    ] == int(val["churned"].sum())


# -- win-back -------------------------------------------------------------------------


def test_winback_lists_the_valuable_lost_by_manager():
    from branchbook.satisfaction.churn_lists import winback_list

    lost = pd.DataFrame(
        {
            "customer_id": ["C1", "C2", "C3", "C4"],
            "churn_month": ["2026-09", "2026-10", "2026-08", "2026-10"],
            "closed": [True, False, True, True],
            "peak_aum": [80_000.0, 700_000.0, 3_000.0, 90_000.0],
            "peak_tier": ["affluent", "wealth", "mass", "affluent"],
        }
    )
    customers = pd.DataFrame(
        {
            "customer_id": ["C1", "C2", "C3", "C4"],
            "manager_id": ["S1", "S2", "S1", "S1"],
            "name": ["张三", "李四", "王五", "赵六"],
        }
    )
    staff = pd.DataFrame({"staff_id": ["S1", "S2"], "name": ["经理甲", "经理乙"]})
    w = winback_list(lost, customers, staff, tiers=["affluent", "wealth", "private"])
    # C3 was mass: not worth the call; 经理乙 lost 700k, 经理甲 170k
    assert w["customer_id"].tolist() == ["C2", "C4", "C1"]
    assert w["how"].tolist() == ["drained", "closed", "closed"]
    assert w["manager_name"].tolist() == ["经理乙", "经理甲", "经理甲"]


def test_winback_finds_the_planted_leavers_of_the_last_three_months(synthetic_lost):
    lost, customers, churn_at = synthetic_lost
    oct_ = _month_index(PERIOD)
    ids = customers["customer_id"].to_numpy()
    planted = set(ids[(churn_at > oct_ - 3) & (churn_at <= oct_)])
    assert set(lost["customer_id"]) == planted
    assert lost["closed"].all()
    # the highest AUM before leaving is the one before the assets drained
    assert (lost["peak_tier"] != "mass").all()


@pytest.fixture(scope="module")
def synthetic_lost():
    from branchbook.params import AssetTiers
    from branchbook.satisfaction.churn_risk import lost_customers

    con, customers, churn_at = _synthetic_bank()
    add_shared(con, PERIOD)
    ctx = types.SimpleNamespace(sql=lambda q, **p: con.execute(q, p).df(), period=PERIOD)
    lost = lost_customers(
        ctx, _steps_sql(3), floor=1_000.0, floor_months=3, months=3, tiers=AssetTiers()
    )
    return lost, customers, churn_at


_CLOSED_LATELY = """
SELECT c.customer_id, strftime(c.closed_on, '%Y-%m') AS churn_month,
       max(greatest(coalesce(b.deposits_avg, b.deposits), 0) + coalesce(b.wealth_avg, b.wealth))
           AS peak_aum
FROM customers c
JOIN balances b ON b.customer_id = c.customer_id
    AND b.month < strftime(c.closed_on, '%Y-%m')
    AND b.month >= strftime(c.closed_on - INTERVAL 6 MONTH, '%Y-%m')
WHERE c.closed_on BETWEEN DATE '2026-08-01' AND DATE '2026-10-31'
  AND EXISTS (SELECT 1 FROM balances p WHERE p.customer_id = c.customer_id
              AND p.month = strftime(c.closed_on - INTERVAL 1 MONTH, '%Y-%m')
              AND p.deposits + p.wealth >= 1000)
GROUP BY ALL
"""


def test_lost_customers_recomputed_from_the_warehouse(small_bank):
    con = duckdb.connect(str(small_bank / "build" / "demo" / "warehouse.duckdb"), read_only=True)
    try:
        closed = con.execute(_CLOSED_LATELY).df().set_index("customer_id")
    finally:
        con.close()
    lost = _prepared(small_bank, "satisfaction_lost").set_index("customer_id")
    shown = lost[lost["closed"]]
    assert len(closed) > 0
    assert set(closed.index) <= set(shown.index)
    both = closed.index
    assert shown.loc[both, "churn_month"].tolist() == closed["churn_month"].tolist()
    assert shown.loc[both, "peak_aum"].to_numpy() == pytest.approx(closed["peak_aum"].to_numpy())


def test_list_tiers_are_checked_with_the_allowed_values():
    from branchbook.satisfaction import Settings

    with pytest.raises(ValueError, match="mass, affluent, wealth, private"):
        Settings(churn_list_tiers=["gold"])
    with pytest.raises(ValueError, match="expected to be some of"):
        Settings(winback_tiers=[])
    assert Settings().churn_list_tiers == ["affluent", "wealth", "private"]


@pytest.mark.parametrize("horizon", [1, 3, 12])
@pytest.mark.parametrize("dev_months", [1, 3, 12])
@pytest.mark.parametrize("calibration_months", [1, 2])
def test_transaction_months_reach_the_first_month_the_features_read(
    horizon, dev_months, calibration_months
):
    """Whatever the warehouse's history, the samples' features read no transaction
    before the month :func:`transaction_months` counts back (a server stages from it),
    and with a long history they read that month."""
    kw = {"horizon": horizon, "dev_months": dev_months, "calibration_months": calibration_months}
    first = shift_month("2026-10", -transaction_months(**kw))
    for history in ("2000-01", "2024-11", "2025-10"):
        dev, cal, val = sample_months("2026-10", history, **kw)
        reads = transactions_from([*dev, *cal, val, "2026-10"])
        assert reads >= first
        if history == "2000-01":
            assert reads == first
