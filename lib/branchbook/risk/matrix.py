"""The probability x impact risk matrix: borrowers by PD band and exposure band."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..privacy import mask_name


def borrower_risk(
    book: pd.DataFrame, *, pd_bands: list[float], exposure_bands: list[float]
) -> pd.DataFrame:
    """One row per borrower: ``exposure`` (outstanding), EAD-weighted ``pd``, and its
    ``probability`` and ``impact`` band (1..5: below the first cut point is 1, at or above
    the last is 5). Borrowers without a PD are left out."""
    b = book.dropna(subset=["pd"]).assign(pd_ead=lambda d: d["pd"] * d["ead"])
    g = b.groupby("customer_id", as_index=False).agg(
        name=("name", "first"),
        exposure=("outstanding", "sum"),
        ead=("ead", "sum"),
        pd_ead=("pd_ead", "sum"),
    )
    p = g["pd_ead"] / g["ead"].where(g["ead"] > 0)
    return g.assign(
        pd=p,
        name=g["name"].map(mask_name),
        probability=1 + np.searchsorted(np.array(pd_bands), p.fillna(0).to_numpy(), side="right"),
        impact=1
        + np.searchsorted(np.array(exposure_bands), g["exposure"].to_numpy(), side="right"),
    )[["customer_id", "name", "exposure", "pd", "probability", "impact"]]


def matrix_bands(pd_bands: list[float], exposure_bands: list[float]) -> pd.DataFrame:
    """The five probability and impact bands of the risk matrix: ``matrix_band`` (1..5),
    ``pd_from`` / ``pd_to`` and ``exposure_from`` / ``exposure_to`` (each band holds its
    lower bound; NaN for the open ends)."""
    lo = [np.nan, *pd_bands]
    hi = [*pd_bands, np.nan]
    elo = [np.nan, *exposure_bands]
    ehi = [*exposure_bands, np.nan]
    return pd.DataFrame(
        {
            "matrix_band": range(1, 6),
            "pd_from": lo,
            "pd_to": hi,
            "exposure_from": elo,
            "exposure_to": ehi,
        }
    )


def matrix_list(borrowers: pd.DataFrame, *, n: int = 10) -> pd.DataFrame:
    """The ``n`` borrowers in the riskiest cells of the matrix: highest ``rating``
    (probability x impact, 1..25) first, then largest exposure."""
    b = borrowers.assign(rating=borrowers["probability"] * borrowers["impact"])
    return b.sort_values(
        ["rating", "exposure", "customer_id"], ascending=[False, False, True], ignore_index=True
    ).head(n)


def matrix_summary(borrowers: pd.DataFrame) -> dict[str, float]:
    """``borrowers`` placed on the matrix, how many are in the two highest probability
    bands (``high``) and their ``exposure`` (money)."""
    high = borrowers[borrowers["probability"] >= 4]
    return {
        "borrowers": len(borrowers),
        "high": len(high),
        "exposure": float(high["exposure"].sum()),
    }


def risk_matrix(borrowers: pd.DataFrame) -> pd.DataFrame:
    """Borrowers per cell of the 5 x 5 grid (rows probability 5..1, columns impact 1..5)."""
    m = pd.crosstab(borrowers["probability"], borrowers["impact"])
    return m.reindex(index=[5, 4, 3, 2, 1], columns=[1, 2, 3, 4, 5], fill_value=0).rename_axis(
        index="probability", columns="impact"
    )
