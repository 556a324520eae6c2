"""Convert the German credit data (Statlog, UCI, CC BY 4.0) to the data contract's tables.

    python scripts/public_data/german_credit.py --out build/german_credit

writes ``<out>/warehouse/<table>.parquet`` (a folder warehouse) and ``<out>/params/``
(the project's ``bank.yaml`` with the data set's name, currency and time zone; no branch
files), then::

    branchbook validate --warehouse <out>/warehouse --params <out>/params
    branchbook run --warehouse <out>/warehouse --params <out>/params \\
        --build <out>/build --out <out>/reports

The data (``tests/data/german_credit/``, source and licence in its ``SOURCE.md``) is one
cross-section: 1,000 applicants, each with one credit, their checking and savings
accounts as ranges, and whether the credit turned out good or bad. What it has is
mapped; what the contract needs and the data lacks is synthesised here, and only this:

- one branch (``0001``) in one region: the data names no branch;
- one month, ``1994-11`` (the month the data set was donated; it carries no date): every
  credit originated, and every applicant became a customer, on its first day; a credit
  matures its ``duration_in_month`` months later;
- balances: deposits are the lower end of the checking account's range (an overdrawn
  account, "< 0 DM", and no account count 0), wealth the lower end of the savings and
  bonds range ("unknown/ no savings account" 0); loans outstanding is the credit amount
  (the data has no repayments); products held = the credits at this bank + a checking
  account + a savings account, where the applicant has one;
- the credit's state: a bad credit risk is ``substandard`` with 91 days past due (the
  first non-performing class), a good one ``pass`` with 0;
- the credit's product from its purpose (``business`` for business, ``consumer`` for
  the rest: cars, furniture, appliances, repairs, education, retraining, others).

Left out, as the data does not record them: staff and managers, surveys, complaints,
transactions, financial statements, AML alerts, KYC status, interest rates, collateral
values, names, ID numbers and phone numbers. Amounts are in Deutsche Mark (DEM).
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
from pathlib import Path

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[2]
CSV = ROOT / "tests" / "data" / "german_credit" / "germancredit.csv"
PERIOD = "1994-11"
DAY = dt.date(1994, 11, 1)
BRANCH = "0001"

#: The lower end of each range the data gives, in DEM (an overdraft and "none": 0).
CHECKING = {
    "... < 0 DM": 0.0,
    "0 <= ... < 200 DM": 0.0,
    "... >= 200 DM / salary assignments for at least 1 year": 200.0,
    "no checking account": 0.0,
}
SAVINGS = {
    "... < 100 DM": 0.0,
    "100 <= ... < 500 DM": 100.0,
    "500 <= ... < 1000 DM": 500.0,
    "... >= 1000 DM": 1000.0,
    "unknown/ no savings account": 0.0,
}


def tables(raw: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The contract's tables from the data set's rows (see the module docstring)."""
    n = len(raw)
    ids = pd.Series([f"G{i + 1:04d}" for i in range(n)])
    loan_ids = pd.Series([f"GL{i + 1:04d}" for i in range(n)])
    unknown = set(raw["status_of_existing_checking_account"]) - set(CHECKING)
    unknown |= set(raw["savings_account_and_bonds"]) - set(SAVINGS)
    if unknown:
        raise SystemExit(f"germancredit.csv: unknown account ranges {sorted(unknown)}")
    bad = raw["creditability"].eq("bad")
    amount = raw["credit_amount"].astype(float)
    maturity = [
        (pd.Timestamp(DAY) + pd.DateOffset(months=int(m))).date() for m in raw["duration_in_month"]
    ]
    has_checking = raw["status_of_existing_checking_account"].ne("no checking account")
    has_savings = raw["savings_account_and_bonds"].ne("unknown/ no savings account")
    return {
        "branches": pd.DataFrame(
            {
                "branch_id": [BRANCH],
                "name": ["German credit applicants (Statlog)"],
                "region": ["Germany"],
            }
        ),
        "customers": pd.DataFrame(
            {
                "customer_id": ids,
                "branch_id": BRANCH,
                "customer_type": "individual",
                "gender": raw["personal_status_and_sex"]
                .str.startswith("female")
                .map({True: "F", False: "M"}),
                "opened_on": DAY,
            }
        ),
        "balances": pd.DataFrame(
            {
                "customer_id": ids,
                "month": PERIOD,
                "deposits": raw["status_of_existing_checking_account"].map(CHECKING),
                "wealth": raw["savings_account_and_bonds"].map(SAVINGS),
                "loans_outstanding": amount,
                "products_held": (
                    raw["number_of_existing_credits_at_this_bank"]
                    + has_checking.astype(int)
                    + has_savings.astype(int)
                ).astype("int64"),
            }
        ),
        "loans": pd.DataFrame(
            {
                "loan_id": loan_ids,
                "customer_id": ids,
                "branch_id": BRANCH,
                "product": raw["purpose"].eq("business").map({True: "business", False: "consumer"}),
                "originated_on": DAY,
                "maturity_on": maturity,
                "principal": amount,
            }
        ),
        "loan_snapshots": pd.DataFrame(
            {
                "loan_id": loan_ids,
                "month": PERIOD,
                "outstanding": amount,
                "dpd": bad.map({True: 91, False: 0}).astype("int64"),
                "five_class": bad.map({True: "substandard", False: "pass"}),
            }
        ),
    }


def params(out: Path) -> None:
    """The project's ``bank.yaml`` with the data set's name, currency and time zone."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "branches").mkdir(exist_ok=True)
    text = (ROOT / "params" / "bank.yaml").read_text(encoding="utf-8")
    bank = yaml.safe_load(text)
    bank["bank_name"] = {"en": "German credit (Statlog)", "zh-CN": "德国信贷数据（Statlog）"}
    bank["currency"] = "DEM"
    bank["time_zone"] = "Europe/Berlin"
    (out / "bank.yaml").write_text(
        yaml.safe_dump(bank, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )


def convert(out: Path, csv: Path = CSV) -> Path:
    """Write ``<out>/warehouse`` and ``<out>/params``; returns ``out``."""
    raw = pd.read_csv(csv)
    wh = out / "warehouse"
    shutil.rmtree(wh, ignore_errors=True)
    wh.mkdir(parents=True)
    for name, frame in tables(raw).items():
        frame.to_parquet(wh / f"{name}.parquet", index=False)
    params(out / "params")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("build/german_credit"))
    ap.add_argument(
        "--csv", type=Path, default=CSV, help="germancredit.csv (default: the copy in tests/data)"
    )
    args = ap.parse_args(argv)
    convert(args.out, args.csv)
    print(f"written: {args.out / 'warehouse'} and {args.out / 'params'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
