"""``run --locales zh-CN,en``: each report in both languages, named by the rule, linked
from the index and listed in the manifest; reruns make only what is new, and a run
with fewer locales removes the others."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys

import pytest

from branchbook import i18n
from branchbook.runner.orchestrate import run

pytestmark = pytest.mark.slow


def _lang(path) -> str:
    return re.search(r"<html[^>]*\blang=\"([^\"]+)\"", path.read_text(encoding="utf-8")).group(1)


def _pdf_text(path) -> str:
    return subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def _cli(*args, cwd) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "branchbook.cli", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=600,
    )


def test_both_locales_on_request_and_reruns_that_make_only_what_is_new(small_bank, tmp_path):
    params = tmp_path / "params"
    shutil.copytree(small_bank / "params", params)
    (params / "branches" / "0101.yaml").write_text("locale: zh-CN\n")  # the branch's own
    shutil.copytree(small_bank / "build", tmp_path / "build")
    warehouse = small_bank / "build" / "demo" / "warehouse.duckdb"
    out = tmp_path / "reports"
    common = dict(
        period="2026-10",
        branches=["0101"],
        reports=["risk"],
        warehouse=warehouse,
        params_dir=params,
        build_dir=tmp_path / "build",
        out=out,
        progress=False,
    )
    period = out / "2026-10"

    def manifest() -> dict:
        return json.loads((period / "manifest.json").read_text(encoding="utf-8"))["reports"]

    # as today: the branch's own locale, the plain name; by the command, as the second
    # run is, so that both runs see the code and catalogues as a fresh process does
    first = _cli(
        "run",
        "--period", "2026-10",
        "--branches", "0101",
        "--reports", "risk",
        "--scopes", "branch",  # the branch's locales; its region's report is the bank's locale
        "--warehouse", warehouse,
        "--params", params,
        "--build", tmp_path / "build",
        "--out", out,
        "--no-progress",
        cwd=tmp_path,
    )  # fmt: skip
    assert first.returncode == 0, first.stderr
    assert sorted(manifest()) == ["0101/risk"]
    assert _lang(period / "0101" / "risk.html") == "zh-CN"
    own_run = manifest()["0101/risk"]["parameters"]["run_id"]

    # the command, with English added: only the English files are made
    done = _cli(
        "run",
        "--period", "2026-10",
        "--branches", "0101",
        "--reports", "risk",
        "--locales", "zh-CN,en",
        "--scopes", "branch",
        "--warehouse", warehouse,
        "--params", params,
        "--build", tmp_path / "build",
        "--out", out,
        "--no-progress",
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    entries = manifest()
    assert sorted(entries) == ["0101/risk", "0101/risk.en"]
    assert entries["0101/risk"]["parameters"]["run_id"] == own_run  # not made again
    assert entries["0101/risk.en"]["parameters"]["run_id"] != own_run
    for key, locale, stem in (("0101/risk", "zh-CN", "risk"), ("0101/risk.en", "en", "risk.en")):
        entry = entries[key]
        assert (entry["status"], entry["locale"], entry["stem"]) == ("ok", locale, stem)
        assert {f: o["path"] for f, o in entry["outputs"].items()} == {
            f: f"0101/{stem}.{f}" for f in entry["outputs"]
        }
        assert {o["locale"] for o in entry["outputs"].values()} == {locale}
        html = period / "0101" / f"{stem}.html"
        assert _lang(html) == locale
        title = i18n.t("risk.title", locale)
        assert title in html.read_text(encoding="utf-8")
        assert title in _pdf_text(period / "0101" / f"{stem}.pdf")
        assert (tmp_path / "build" / "2026-10" / "executed" / "0101" / f"{stem}.ipynb").is_file()
    assert set(entries["0101/risk"]["outputs"]) == set(entries["0101/risk.en"]["outputs"])
    assert {"html", "pdf"} <= set(entries["0101/risk.en"]["outputs"])
    assert i18n.t("risk.title", "en") not in (period / "0101" / "risk.html").read_text("utf-8")
    index = (period / "index.html").read_text(encoding="utf-8")
    for href in ("0101/risk.html", "0101/risk.pdf", "0101/risk.en.html", "0101/risk.en.pdf"):
        assert f'href="{href}"' in index, href
    assert ">English<" in index and ">Chinese<" in index  # the index's own language: en

    again = run(**common, locales=("zh-CN", "en"))  # nothing changed: nothing made
    assert sorted(again.entries) == ["0101/risk", "0101/risk.en"]
    assert all(e.get("skipped_unchanged") for e in again.entries.values()), again.entries

    fewer = run(**common)  # back to the branch's own: English is removed, not left stale
    assert fewer.exit_code == 0 and fewer.entries["0101/risk"].get("skipped_unchanged")
    assert sorted(manifest()) == ["0101/risk"]
    assert sorted(p.name for p in (period / "0101").iterdir() if ".en." in p.name) == []
    assert "risk.en.html" not in (period / "index.html").read_text(encoding="utf-8")
    assert (period / "0101" / "risk.html").is_file()

    # preview in another locale names its file by the same rule
    shown = _cli(
        "preview", "--branch", "0101", "--report", "risk", "--locale", "en",
        "--period", "2026-10", "--warehouse", warehouse, "--params", params,
        "--build", tmp_path / "build",
        cwd=tmp_path,
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    page = tmp_path / "build" / "preview" / "2026-10" / "0101" / "risk.en.html"
    assert shown.stdout.strip() == str(page) and _lang(page) == "en"
