"""Frames shaped for the page: the branch's rows of a bank-wide frame, shares put on the
same 0-100 scale as the scores, the importance x performance chart's points."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .drivers import Drivers
from .scores import SCORE_METRICS


def branch_vs_bank(tests: pd.DataFrame, *, branch_id: str) -> pd.DataFrame:
    """The branch's rows of ``bench_satisfaction_tests`` in metric order (empty if none)."""
    own = tests[tests["branch_id"].astype(str) == branch_id]
    order = {m: i for i, m in enumerate(SCORE_METRICS)}
    return own.sort_values("metric", key=lambda s: s.map(order)).reset_index(drop=True)


def in_points(tests: pd.DataFrame) -> pd.DataFrame:
    """Rows of :func:`branch_tests` with the share (top-2-box) put on 0-100, so one
    number format fits every row of a table: its values, intervals and ``diff`` are
    multiplied by 100 (percent; ``diff`` in percentage points). CSAT and NPS rows are
    already in points and are returned as they are; p- and q-values are untouched.
    """
    cols = [c for c in ("value", "ci_low", "ci_high", "rest_value", "rest_ci_low", "rest_ci_high",
                        "bank_value", "diff") if c in tests.columns]  # fmt: skip
    out = tests.copy()
    share = out["metric"] == "csat_top2"
    out.loc[share, cols] = out.loc[share, cols].astype(float) * 100
    return out


def ipa_points(result: Drivers) -> pd.DataFrame:
    """The importance x performance chart's points: one row per fitted attribute.

    Columns: ``attribute``, ``performance`` (mean rating 1-5), ``coef`` (importance),
    ``quadrant`` and ``action`` (True in the ``improve`` quadrant: rated below the
    average and more important than the average). Empty when nothing was fitted.
    """
    t = result.table
    t = t[t["coef"].notna()]
    return (
        t[["attribute", "performance", "coef", "quadrant"]]
        .assign(action=t["quadrant"].eq("improve").astype(bool))
        .reset_index(drop=True)
    )


def scores_vs_bank(scores: pd.DataFrame, groups: pd.DataFrame, *, dimension: str) -> pd.DataFrame:
    """The branch's scores per group (:func:`scores_by`) beside the whole bank's.

    ``groups`` is ``bench_satisfaction_groups`` (the bank's :func:`scores_by` per
    ``dimension``, same window). Adds ``bank_all_csat_mean``, ``bank_all_csat_top2`` and
    ``bank_all_nps``: the scores of every response of the bank in that group (NaN for
    a group the bank has no responses in).
    """
    metrics = list(SCORE_METRICS)
    bank = groups[groups["dimension"] == dimension].set_index("group")[metrics]
    bank = bank.rename(columns={m: f"bank_all_{m}" for m in metrics})
    return scores.merge(bank, left_on="group", right_index=True, how="left")


def repeat_actions(
    repeat: pd.DataFrame, customers: pd.DataFrame, staff: pd.DataFrame | None = None
) -> pd.DataFrame:
    """The repeat complainants (:func:`repeat_complainants`) as an action list, in the
    same order: ``manager_name``, the customer's manager (``customers``: customer_id,
    manager_id) by name (``staff``: staff_id, name), the id where the name is not
    known, empty without a manager; ``next_step``: ``call_back`` while a complaint is
    open (``open`` > 0), else ``review`` (go over the complaints with the customer).
    """
    managers = dict(zip(customers["customer_id"], customers["manager_id"], strict=True))
    names = {} if staff is None else dict(zip(staff["staff_id"], staff["name"], strict=True))
    ids = [managers.get(c) for c in repeat["customer_id"]]
    return repeat.assign(
        manager_name=[names.get(m, m) if isinstance(m, str) else "" for m in ids],
        next_step=np.where(repeat["open"].fillna(0) > 0, "call_back", "review"),
    )
