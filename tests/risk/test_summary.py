"""The summary sentences and the texts every shown key needs, in both locales."""

import pandas as pd
import pytest

from branchbook import risk
from branchbook.risk import Lgd

from .helpers import S, approx, flags_none, notebook_calls


# -- texts -------------------------------------------------------------------------------
@pytest.mark.parametrize("locale", ["en", "zh-CN"])
def test_every_shown_key_has_a_text(locale, tiny, fitted):
    from branchbook import i18n

    cat = i18n.catalogue(locale)
    assert set(risk.DEFINITIONS.values()) <= set(cat)
    assert {f"risk.terms.{m}" for m in risk.DEFINITIONS} <= set(cat)
    assert {f"risk.kpis.{k}" for k in risk.KPI_KEYS} <= set(cat)
    coded = {
        "five_class": risk.FIVE_CLASSES,
        "dpd_bucket": (*risk.DPD_BUCKETS, risk.CLOSED, *risk.CLOSE_REASONS),
        "ew_rule": risk.EW_RULES,
        "compliance": risk.COMPLIANCE_CLASSES,
        "feature": risk.SCORE_FEATURES,
        "psi_band": ("stable", "watch", "shift", "none"),
        "collateral_type": tuple(Lgd.model_fields),
    }
    for prefix, codes in coded.items():
        assert {f"risk.values.{prefix}.{c}" for c in codes} <= set(cat), prefix
    assert {f"risk.columns.{c}" for c in risk.EW_RULES} <= set(cat)
    # every summary fact renders, with the values it is given
    facts = notebook_calls(tiny, "0101")["facts"] + notebook_calls(tiny, "0102")["facts"]
    s, out = fitted
    for b in ("0101", "0102", "0103"):
        facts += notebook_calls(out, b, s=s)["facts"]
    for key, values in facts:
        assert i18n.t(key, locale, **values)
    # and every summary sentence renders with the values summary_facts gives it
    samples = {
        "npl_level": {"npl_ratio": 0.02, "bank_median": 0.015},
        "npl_up": {"npl_ratio": 0.02, "bank_median": 0.015, "change": 0.006},
        "npl_down": {"npl_ratio": 0.02, "bank_median": 0.015, "change": -0.006},
        "npl_trend": {"npl_ratio": 0.04, "start": 0.004, "months": 11},
        "npl_dpd_gap": {"loans": 2, "outstanding": 70.0, "ratio": 1.31},
        "early_warning": {"borrowers": 3, "exposure": 1.2e7, "share": 0.1},
        "ltv": {"loans": 4, "outstanding": 3.5e6},
        "mix_watch": {"psi": 0.12},
        "mix_shift": {"psi": 0.3},
        "drift_watch": {"psi": 0.12},
        "drift_shift": {"psi": 0.3},
        "concentration": {"top10_share": 0.5, "bank_median": 0.3, "industry_share": 0.4},
        "discrimination": {
            "auc": 0.78,
            "low": 0.7,
            "high": 0.86,
            "ks": 0.41,
            "loans": 900,
            "defaults": 40,
        },
        "bank_discrimination": {
            "defaults": 3,
            "minimum": 10,
            "auc": 0.7,
            "low": 0.63,
            "high": 0.77,
            "loans": 4000,
            "bank_defaults": 80,
        },
        "few_defaults": {"defaults": 3, "minimum": 10},
        "expected_loss": {"el_rate": 0.012, "bank_median": 0.01},
        "no_scorecard": {},
        "compliance": {"risk_share": 0.03, "bank_median": 0.02},
        "no_loans": {},
        "bridge_npl_ratio": {"base": "x", "change": 0.004, "product": "x", "part": "x",
                             "amount": 0.003},
        "bridge_special_mention_ratio": {"base": "x", "change": -0.004, "product": "x",
                                         "part": "x", "amount": -0.003},
        "bridge_loans": {"base": "x", "change": 1e6, "change_rel": 0.02, "product": "x",
                         "part": "x", "amount": 8e5},
    }  # fmt: skip
    assert {f"risk.summary.{k}" for k in samples} == {
        k for k in cat if k.startswith("risk.summary.")
    }
    for key, values in samples.items():
        assert "{" not in i18n.t(f"risk.summary.{key}", locale, **values)


def test_summary_facts_pick_what_changed():
    k = {
        "npl_ratio": 0.031,
        "special_mention_ratio": 0.04,
        "expected_loss_rate": 0.012,
        "warning_exposure_share": 0.2,
        "top10_share": 0.6,
        "risk_customer_share": 0.02,
    }
    prev = {**k, "npl_ratio": 0.025}
    bank = {**k, "npl_ratio": 0.02, "top10_share": 0.3}
    warn = pd.DataFrame({"exposure": [100.0, 50.0, 10.0], "n_rules": [2, 1, 0]})
    breaches = pd.DataFrame({"outstanding": [70.0]})
    ind = pd.DataFrame({"industry": ["construction"], "share": [0.4]})
    val = {"defaults": 3.0, "sufficient": 0.0}
    facts = dict(
        risk.summary_facts(
            kpis=k,
            prev=prev,
            bank=bank,
            warnings=warn,
            breaches=breaches,
            validation=val,
            mix_psi=0.3,
            industries=ind,
            settings=S,
        )
    )
    keys = list(facts)
    # NPL up 0.6 pp (>= 0.5 pp), then at most three findings, then EL and compliance
    assert keys == [
        "risk.summary.npl_up",
        "risk.summary.early_warning",
        "risk.summary.ltv",
        "risk.summary.mix_shift",
        "risk.summary.expected_loss",
        "risk.summary.compliance",
    ]
    assert facts["risk.summary.npl_up"]["change"] == approx(0.006)
    assert facts["risk.summary.early_warning"] == {"borrowers": 2, "exposure": 150.0, "share": 0.2}
    down = risk.summary_facts(
        kpis=k,
        prev={**k, "npl_ratio": 0.04},
        bank=bank,
        warnings=warn.iloc[0:0],
        breaches=breaches.iloc[0:0],
        validation=val,
        mix_psi=0.05,
        industries=ind,
        settings=S,
    )
    assert [key for key, _ in down] == [
        "risk.summary.npl_down",
        "risk.summary.concentration",
        "risk.summary.few_defaults",
        "risk.summary.expected_loss",
        "risk.summary.compliance",
    ]
    # the branch has too few defaults, the bank enough: the bank's out-of-time AUC is said
    bank_val = {"sufficient": 1.0, "auc": 0.7, "auc_low": 0.63, "auc_high": 0.77}
    bank_val.update(loans=4000.0, defaults=80.0)
    down = dict(
        risk.summary_facts(
            kpis=k,
            prev={**k, "npl_ratio": 0.04},
            bank=bank,
            warnings=warn.iloc[0:0],
            breaches=breaches.iloc[0:0],
            validation=val,
            mix_psi=0.05,
            drift_psi=0.3,
            industries=ind,
            settings=S,
            bank_validation=bank_val,
        )
    )
    assert list(down)[1:4] == [
        "risk.summary.drift_shift",
        "risk.summary.concentration",
        "risk.summary.bank_discrimination",
    ]
    assert down["risk.summary.bank_discrimination"] == {
        "defaults": 3,
        "minimum": 10,
        "auc": 0.7,
        "low": 0.63,
        "high": 0.77,
        "loans": 4000,
        "bank_defaults": 80,
    }


def test_summary_names_loans_past_due_90_days_not_classed_npl():
    book = pd.DataFrame(
        {
            "outstanding": [100.0, 50.0, 30.0, 820.0],
            "dpd": [120, 95, 0, 0],
            "five_class": ["substandard", "special_mention", "doubtful", "pass"],
        }
    )
    gap = risk.npl_dpd_gap(book)
    k = {
        "npl_ratio": 0.13,
        "special_mention_ratio": 0.05,
        "expected_loss_rate": 0.01,
        "warning_exposure_share": 0.0,
        "top10_share": 0.2,
        "risk_customer_share": 0.0,
    }
    facts = risk.summary_facts(
        kpis=k,
        prev=k,
        bank=k,
        warnings=flags_none(),
        breaches=pd.DataFrame(),
        validation={},
        mix_psi=float("nan"),
        industries=pd.DataFrame(),
        settings=S,
        has_scorecard=False,
        npl_gap=gap,
    )
    assert facts[1] == (
        "risk.summary.npl_dpd_gap",
        {"loans": 1, "outstanding": 50.0, "ratio": 150 / 130},
    )
    none = risk.summary_facts(
        kpis=k,
        prev=k,
        bank=k,
        warnings=flags_none(),
        breaches=pd.DataFrame(),
        validation={},
        mix_psi=float("nan"),
        industries=pd.DataFrame(),
        settings=S,
        has_scorecard=False,
        npl_gap=risk.npl_dpd_gap(book.assign(dpd=0)),
    )
    assert "risk.summary.npl_dpd_gap" not in [key for key, _ in none]
