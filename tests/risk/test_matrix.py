"""The probability x impact risk matrix."""

import math

import numpy as np
import pandas as pd

from branchbook import risk

from .helpers import S, approx


# -- risk matrix -----------------------------------------------------------------------
def test_risk_matrix_bands():
    book = pd.DataFrame(
        {
            "loan_id": ["L1", "L2", "L3", "L4", "L5"],
            "customer_id": ["A", "B", "C", "C", "D"],
            "name": ["甲", "乙", "丙", "丙", "丁"],
            "outstanding": [99_999.0, 100_000.0, 6_000_000.0, 4_000_000.0, 50.0],
            "ead": [99_999.0, 100_000.0, 6_000_000.0, 4_000_000.0, 50.0],
            "pd": [0.005, 0.01, 0.1, 0.4, np.nan],
        }
    )
    b = risk.borrower_risk(book, pd_bands=S.pd_bands, exposure_bands=S.exposure_bands)
    b = b.set_index("customer_id")
    assert "D" not in b.index  # no PD, no place in the matrix
    # PD 0.5% -> 1; 1% (at the cut) -> 2; C: (0.1*6m + 0.4*4m) / 10m = 0.22 -> 5
    assert b["probability"].tolist() == [1, 2, 5]
    assert b.loc["C", "pd"] == approx(0.22)
    # exposure 99,999 -> 1; 100,000 -> 2; 10,000,000 -> 5
    assert b["impact"].tolist() == [1, 2, 5]
    m = risk.risk_matrix(b)
    assert m.shape == (5, 5) and m.to_numpy().sum() == 3
    assert m.loc[5, 5] == 1 and m.loc[1, 1] == 1
    top = risk.matrix_list(b.reset_index(), n=2)
    assert top["customer_id"].tolist() == ["C", "B"]  # ratings 25 and 4
    assert top["rating"].tolist() == [25, 4]
    summary = risk.matrix_summary(b)
    assert summary == {"borrowers": 3, "high": 1, "exposure": 10_000_000.0}
    bands = risk.matrix_bands(S.pd_bands, S.exposure_bands).set_index("matrix_band")
    assert bands.index.tolist() == [1, 2, 3, 4, 5]
    assert math.isnan(bands.loc[1, "pd_from"]) and bands.loc[1, "pd_to"] == 0.01
    assert bands.loc[5, "exposure_from"] == 10_000_000.0 and math.isnan(bands.loc[5, "exposure_to"])
