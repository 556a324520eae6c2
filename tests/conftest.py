"""Helpers shared by the test modules."""

from __future__ import annotations

import asyncio
import io
import json
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from nbformat import NotebookNode

    from branchbook.page import Page


@pytest.fixture
def with_forked_kernel(tmp_path):
    """``run(modules, body)``: a report kernel forked (as the runner starts one) from a
    fork server warmed with ``modules``; ``await body(client)`` once the client is
    ready, then the kernel and the server are stopped. Returns what ``body`` returns."""
    from branchbook.runner import forkclient, kernels

    def run(modules, body):
        srv = forkclient.ForkServer(tmp_path, modules)
        km = kernels.kernel_manager_class(srv)(kernel_name="python3")

        async def go():
            await km.start_kernel()
            kc = km.client()
            kc.start_channels()
            try:
                await kc.wait_for_ready(timeout=60)
                return await body(kc)
            finally:
                kc.stop_channels()
                await km.shutdown_kernel(now=True)

        try:
            return asyncio.run(go())
        finally:
            srv.close()

    return run


@pytest.fixture(scope="session")
def small_bank(tmp_path_factory):
    """One small demo bank for the whole session, built and prepared once: a folder with
    ``warehouse.duckdb`` (2 branches, 1,500 customers, 13 months to 2026-10),
    ``params/bank.yaml`` (the project's, no branch files) and ``build/`` with the latest
    period prepared. Read it; copy what a test changes."""
    import shutil
    from pathlib import Path

    from branchbook import demo
    from branchbook.prepare import prepare

    root = tmp_path_factory.mktemp("small_bank")
    (root / "params" / "branches").mkdir(parents=True)
    shutil.copy(Path(__file__).resolve().parents[1] / "params" / "bank.yaml", root / "params")
    warehouse = root / "build" / "demo" / "warehouse.duckdb"
    demo.build(warehouse, branches=2, customers=1_500, months=13, seed=3)
    prepare(None, source=warehouse, params_dir=root / "params", build_dir=root / "build")
    return root


# -- a synthetic report page, as the output tests use it --------------------------------

REPORT = "segmentation"


BRANCH = {
    "branch_id": "0101",
    "name": "Riverside",
    "name_zh": "滨江支行",
    "region": "East",
    "city": "Hangzhou",
}


# Texts the synthetic report needs; the real catalogue wins where it has the key.
TEST_TEXTS = {
    "en": {
        f"{REPORT}.title": "Customer segmentation",
        f"{REPORT}.sections.tiers.title": "Asset tiers",
        f"{REPORT}.sections.tiers.intro": "Customers by assets under management.",
        f"{REPORT}.sections.trend.title": "Trend",
        f"{REPORT}.kpis.customers": "Customers",
        f"{REPORT}.kpis.aum": "AUM",
        f"{REPORT}.kpis.dormant_share": "Dormant share",
        f"{REPORT}.columns.tier": "Tier",
        f"{REPORT}.columns.customers": "Customers",
        f"{REPORT}.columns.aum": "AUM",
        f"{REPORT}.columns.change": "Change",
        f"{REPORT}.test.fact": "The branch serves {n:int} customers.",
        f"{REPORT}.test.def_customers": "Customers with an open account at month end.",
    },
    "zh-CN": {
        f"{REPORT}.title": "客户分类与分级",
        f"{REPORT}.sections.tiers.title": "资产分层",
        f"{REPORT}.sections.tiers.intro": "按管理资产规模划分的客户。",
        f"{REPORT}.sections.trend.title": "趋势",
        f"{REPORT}.kpis.customers": "客户数",
        f"{REPORT}.kpis.aum": "管理资产",
        f"{REPORT}.kpis.dormant_share": "沉睡客户占比",
        f"{REPORT}.columns.tier": "层级",
        f"{REPORT}.columns.customers": "客户数",
        f"{REPORT}.columns.aum": "管理资产",
        f"{REPORT}.columns.change": "变化",
        f"{REPORT}.test.fact": "本网点服务客户 {n:int} 户。",
        f"{REPORT}.test.def_customers": "月末持有有效账户的客户。",
    },
}


@pytest.fixture
def texts(monkeypatch):
    """The texts the synthetic report needs, in the catalogue (the real one wins)."""
    from branchbook import i18n

    real = i18n.catalogue

    def catalogue(locale):
        return {**TEST_TEXTS[locale], **real(locale)}

    monkeypatch.setattr(i18n, "catalogue", catalogue)


def _chart(title: str):
    from branchbook import charts

    fig, ax = charts.new(width=5, height=2.4)
    ax.bar(["大众客户", "富裕客户", "私行客户"], [120, 40, 6], color=charts.BRANCH_COLOR)
    ax.set_title(title)
    return fig


def _build_page(locale: str = "zh-CN", *, branch=None, charts_n: int = 1, rows: int = 4) -> Page:
    import pandas as pd

    from branchbook import page

    p = page.Page(
        report=REPORT,
        locale=locale,
        bank_name="示例银行" if locale == "zh-CN" else "Example Bank",
        branch=branch or BRANCH,
        period="2026-10",
        data_as_of="2026-10-31",
        classification="内部资料" if locale == "zh-CN" else "Internal",
        provenance_info={"run_id": "r1", "fingerprint": "abc123", "code_version": "0.1.0"},
        live=False,
    )
    p.title()
    p.summary([(f"{REPORT}.test.fact", {"n": 1234})])
    kpis = page.cards(
        {"customers": 1234, "aum": 5.6e8, "dormant_share": 0.18},
        kinds={"customers": "int", "aum": "money", "dormant_share": "pct"},
        prev={"customers": 1200, "aum": 5.1e8, "dormant_share": 0.15},
        bank={"customers": 1500, "aum": 6e8, "dormant_share": 0.12},
        locale=locale,
    )
    kpis[0].status, kpis[1].status, kpis[2].status = "green", "amber", "red"
    p.kpi_cards(kpis, headline=("customers", "dormant_share"))
    p.section("tiers")
    frame = pd.DataFrame(
        {
            "tier": [f"T{i}" for i in range(rows)],
            "customers": [1000 + i for i in range(rows)],
            "aum": [1.5e6 * (i + 1) for i in range(rows)],
            "change": [(-1) ** i * 0.05 for i in range(rows)],
        }
    )
    p.table(
        frame,
        {"tier": "text", "customers": "int", "aum": "money_unit", "change": "delta"},
        total=True,
    )
    p.section("trend")
    for i in range(charts_n):
        p.chart(_chart(f"资产分层 {i + 1}"))
    p.definitions({"customers": f"{REPORT}.test.def_customers"})
    p.provenance()
    return p


def _notebook_from_page(p: Page, *, extra_cells=()) -> NotebookNode:
    """An executed notebook as papermill leaves it, with the page's fragments as outputs."""
    import nbformat

    from branchbook import page

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells.append(nbformat.v4.new_markdown_cell("# 客户分类与分级 MARKDOWN-NOT-SHOWN"))
    params = nbformat.v4.new_code_cell("branch_id = 'PARAMS-NOT-SHOWN'", execution_count=1)
    params.metadata["tags"] = ["parameters"]
    injected = nbformat.v4.new_code_cell("branch_id = '0101'  # INJECTED", execution_count=2)
    injected.metadata["tags"] = ["injected-parameters"]
    injected.outputs = [nbformat.v4.new_output("stream", name="stdout", text="INJECTED-OUTPUT\n")]
    nb.cells += [params, injected]
    for i, block in enumerate(p.blocks):
        cell = nbformat.v4.new_code_cell(
            f"page.step_{i}()  # CODE-NOT-SHOWN", execution_count=3 + i
        )
        cell.outputs = [
            nbformat.v4.new_output("stream", name="stdout", text="STREAM-NOT-SHOWN\n"),
            nbformat.v4.new_output("display_data", data={"text/html": block}),
        ]
        nb.cells.append(cell)
    nb.cells[-1].outputs.append(
        nbformat.v4.new_output("display_data", data={page.META_MIME: json.loads(p.meta_json())})
    )
    nb.cells += list(extra_cells)
    nbformat.validate(nb)
    return nb


@pytest.fixture
def build_page(texts):
    """``build_page(locale, *, branch, charts_n, rows)``: a synthetic report's :class:`Page`."""
    return _build_page


@pytest.fixture
def notebook_from_page():
    """``notebook_from_page(page, *, extra_cells)``: the executed notebook of a page."""
    return _notebook_from_page


@pytest.fixture
def zh_nb(texts):
    return _notebook_from_page(_build_page("zh-CN"))


@pytest.fixture
def png_of():
    """``png_of(mode, **save)``: a small PNG that Pillow writes in ``mode``."""

    def png(mode: str, **save) -> bytes:
        from PIL import Image

        img = Image.new(mode, (37, 11), *([128] if mode in ("L", "P") else []))
        if mode == "I;16":
            img = Image.new("I;16", (37, 11))
        buf = io.BytesIO()
        img.save(buf, format="png", **save)
        return buf.getvalue()

    return png


@pytest.fixture(autouse=True)
def _fresh_caches():
    """Each test starts from the code and catalogues on disk: the library caches the
    report registry, the catalogues, templates and its own code version per process, and
    a test that points the library at a copy of the package (or edits a copy's files)
    must not leave its view behind for the next test."""
    yield
    from branchbook import i18n, paths, reports
    from branchbook.output import html, publish

    for cached in (
        reports.registry,
        i18n.catalogue,
        paths.code_version,
        html._env,
        html.asset,
        publish._env,
    ):
        cached.cache_clear()
