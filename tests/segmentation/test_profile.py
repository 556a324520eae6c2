"""Customer profile (客户画像): each asset tier's individuals by age, gender, occupation, income."""

import math

import pandas as pd
import pytest

from branchbook import coverage, privacy
from branchbook import segmentation as sg

from .rows import CLOSED, S, frame


def test_age_bands_include_their_lower_bound():
    got = sg.age_band(pd.Series([18.0, 29.0, 30.0, 44.0, 45.0, 59.0, 60.0, None]))
    assert got.tolist()[:7] == [
        "under_30",
        "under_30",
        "30_44",
        "30_44",
        "45_59",
        "45_59",
        "60_plus",
    ]
    assert pd.isna(got.iloc[7])


def rows() -> pd.DataFrame:
    return sg.classify(
        frame(
            {"aum": 10_000.0, "age": 25.0, "gender": "F", "occupation": "student"},
            {"aum": 20_000.0, "age": 65.0, "gender": "M", "occupation": "retired"},
            {"aum": 30_000.0, "age": 35.0, "gender": "F", "occupation": None, "income_band": None},
            {"aum": 100_000.0, "age": None, "gender": "M"},
            {"aum": 200_000.0, "customer_type": "corporate", "age": None, "gender": None},
            {**CLOSED, "age": 30.0},
        ),
        S,
    )


def test_profile_shares_are_of_the_tier_s_individuals_with_the_value_recorded():
    age = sg.profile(rows(), "age_band")
    assert age["individuals"].tolist() == [3, 0, 0, 0]  # affluent C4 has no age; C5 corporate
    assert age.loc["mass", ["age_under_30", "age_30_44", "age_60_plus"]].tolist() == pytest.approx(
        [1 / 3, 1 / 3, 1 / 3]
    )
    assert math.isnan(age.loc["affluent", "age_under_30"])
    gender = sg.profile(rows(), "gender")
    assert gender["individuals"].tolist() == [3, 1, 0, 0]
    assert gender.loc["mass", "gender_F"] == pytest.approx(2 / 3)
    assert gender.loc["affluent", "gender_M"] == 1.0
    job = sg.profile(rows(), "occupation")
    assert job.loc["mass", "individuals"] == 2  # C3's occupation is not recorded
    assert job.loc["mass", ["occupation_student", "occupation_retired"]].tolist() == [0.5, 0.5]
    assert sg.profile(rows(), "income_band").loc["mass", "income_5k_10k"] == 1.0  # 2 of 2


def test_the_totals_row_pools_the_tiers_and_hides_a_small_total():
    total = sg.profile_total(rows(), "gender")
    assert total["individuals"] == 4.0
    assert total["gender_F"] == 0.5 and total["gender_M"] == 0.5
    assert set(sg.profile_total(rows(), "gender", suppress_below=5).values()) == {
        privacy.SUPPRESSED
    }


def test_occupation_and_income_tables_need_their_columns():
    from branchbook.contract import TABLES

    found = {name: set(t.names) for name, t in TABLES.items()}
    found["customers"] -= {"occupation", "income_band"}
    hidden = coverage.verdict(found, ("segmentation",)).hidden_sections("segmentation")
    assert {"profile_occupation", "profile_income"} <= hidden and "profile" not in hidden


def test_profile_matches_the_warehouse(small_bank):
    """Each tier's individuals by gender, occupation and income band, recomputed from the
    warehouse's customers by a separate query (the tier as the report classifies it);
    ages by a separate age calculation in Python."""
    import duckdb

    period = max(p.name for p in (small_bank / "build").iterdir() if p.name[0] == "2")
    prepared = small_bank / "build" / period / "prepared"
    con = duckdb.connect(str(small_bank / "build" / "demo" / "warehouse.duckdb"), read_only=True)
    end = pd.Period(period, "M").end_time.date()
    for branch in ("0101", "0102"):
        cur = sg.classify(
            pd.read_parquet(prepared / "extracts" / branch / "segmentation_customers.parquet"), S
        )
        tiers = sg.open_customers(cur)[["customer_id", "asset_tier"]].astype({"asset_tier": str})
        con.register("tiers_df", tiers)
        for dim, col in (
            ("gender", "gender"),
            ("occupation", "occupation"),
            ("income_band", "income_band"),
        ):
            truth = con.execute(
                f"""SELECT t.asset_tier, c.{col} AS v, count(*) AS n
                    FROM tiers_df t JOIN customers c USING (customer_id)
                    WHERE c.customer_type = 'individual' AND c.{col} IS NOT NULL GROUP BY ALL"""
            ).df()
            got = sg.profile(cur, dim)
            prefix = {"income_band": "income"}.get(dim, dim)
            for tier, g in truth.groupby("asset_tier"):
                assert got.loc[tier, "individuals"] == g["n"].sum()
                for _, r in g.iterrows():
                    assert got.loc[tier, f"{prefix}_{r['v']}"] == pytest.approx(
                        r["n"] / g["n"].sum()
                    )
        births = con.execute(
            "SELECT customer_id, birth_date FROM tiers_df JOIN customers USING (customer_id) "
            "WHERE birth_date IS NOT NULL AND customer_type = 'individual'"
        ).df()
        con.unregister("tiers_df")
        ages = {
            r.customer_id: end.year
            - r.birth_date.year
            - ((end.month, end.day) < (r.birth_date.month, r.birth_date.day))
            for r in births.itertuples()
        }
        mine = cur.set_index("customer_id").loc[list(ages), "age"]
        assert mine.tolist() == [float(ages[c]) for c in mine.index]
