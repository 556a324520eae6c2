"""One time model: dates stored as timestamps with a time of day, or as time-zone-aware
instants, prepare exactly what the plain-date warehouse prepares."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from branchbook.contract import DATE, TABLES, TIMESTAMP
from branchbook.prepare import prepare

ROOT = Path(__file__).resolve().parents[1]


def _restyle(src: Path, dst: Path, style: str) -> None:
    """Copy the warehouse with every DATE/TIMESTAMP column stored another way.

    ``local``: dates become local timestamps late in the day (23:10-23:59);
    ``aware``: dates become instants at 00:30 Beijing time (16:30 UTC the day before)
    and timestamps become instants too: a naive cast would move every date back a day.
    """
    con = duckdb.connect(str(dst))
    con.execute(f"ATTACH '{src}' AS s (READ_ONLY)")
    for name, table in TABLES.items():
        cols = []
        for col, typ in table.types.items():
            q = f'"{col}"'
            if typ == DATE and style == "local":
                cols.append(
                    f"CAST({q} AS TIMESTAMP) + INTERVAL 23 HOUR + "
                    f"to_minutes(10 + CAST(hash({q}) % 49 AS BIGINT)) AS {q}"
                )
            elif typ == DATE and style == "aware":
                cols.append(
                    f"timezone('Asia/Shanghai', CAST({q} AS TIMESTAMP) + INTERVAL 30 MINUTE) AS {q}"
                )
            elif typ == TIMESTAMP and style == "aware":
                cols.append(f"timezone('Asia/Shanghai', {q}) AS {q}")
            else:
                cols.append(q)
        con.execute(f'CREATE TABLE "{name}" AS SELECT {", ".join(cols)} FROM s.main."{name}"')
    con.close()


def _frames(root: Path) -> dict[str, pd.DataFrame]:
    return {
        str(p.relative_to(root)): pd.read_parquet(p)
        for p in sorted(root.rglob("*.parquet"))
        if "_schema" not in p.parts
    }


@pytest.fixture(scope="module")
def plain(small_bank):
    from branchbook.prepare import load_prepared

    shutil.copy(small_bank / "build" / "demo" / "warehouse.duckdb", small_bank / "w.duckdb")
    return small_bank, load_prepared(small_bank / "build", "2026-10")


@pytest.mark.slow
@pytest.mark.parametrize("style", ["local", "aware"])
def test_same_extracts_whatever_the_storage(plain, tmp_path, style):
    d, base = plain
    _restyle(d / "w.duckdb", tmp_path / "w.duckdb", style)
    prep = prepare(
        None, source=tmp_path / "w.duckdb", params_dir=d / "params", build_dir=tmp_path / "b"
    )
    assert prep.period == base.period
    assert prep.meta["fingerprint"] == base.meta["fingerprint"]
    want, got = _frames(base.root), _frames(prep.root)
    assert set(got) == set(want)
    for name, frame in want.items():  # artifacts of grouped SQL come in any row order
        pd.testing.assert_frame_equal(_sorted(got[name]), _sorted(frame), obj=name)


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    keys = [c for c in frame.columns if frame[c].map(type).isin([str, int, float]).all()] or list(
        frame.columns[:1]
    )
    return frame.sort_values(keys, kind="stable").reset_index(drop=True)
