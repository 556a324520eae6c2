"""One switch: ``BRANCHBOOK_SPEEDUPS=0`` turns every speed patch off, and the reports
are the same without them (the page byte for byte but its provenance line; the PDF's
pages and text)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from branchbook import speedups

ROOT = Path(__file__).resolve().parents[2]
PERIOD = "2026-10"
PROVENANCE = re.compile(r'<footer class="bb-provenance">.*?</footer>', re.S)
# what the provenance line says of one run: its id, its time, the code's version
RUN_FACTS = re.compile(r"\d{8}T\d{6}-[0-9a-f]{6}|\d{4}-\d{2}-\d{2} \d{2}:\d{2}|\+[0-9a-f]{7,}")


def _python(code: str, *, off: bool, cwd: Path | None = None) -> str:
    env = {**os.environ, speedups.SWITCH: "0" if off else "1"}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=cwd, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize(
    ("value", "on"), [(None, True), ("1", True), ("0", False), ("off", False), (" False ", False)]
)
def test_the_switch_reads_the_environment(monkeypatch, value, on):
    if value is None:
        monkeypatch.delenv(speedups.SWITCH, raising=False)
    else:
        monkeypatch.setenv(speedups.SWITCH, value)
    assert speedups.enabled() is on


def test_install_names_only_known_patches():
    with pytest.raises(ValueError, match="jsonschema, mpl, weasy, nbclient"):
        speedups.install("pandas")
    with pytest.raises(ValueError):
        speedups.install()


_PATCHED = """
import json, sys
from branchbook import speedups
from branchbook.runner import kernels
from branchbook.speedups import cpython
speedups.install("jsonschema")
from branchbook import charts
charts.setup()
import matplotlib.text as mtext
from matplotlib.backends import backend_agg
from matplotlib.backends.backend_agg import RendererAgg
import nbclient.client
from weasyprint import images
from branchbook.output import pdf
pdf.html_to_pdf("<p>x</p>")
from branchbook.runner import engine
engine.register_engine()
km = kernels.kernel_manager_class()(kernel_name="python3")
print(json.dumps({
    "installed": speedups.install("mpl", "weasy", "nbclient"),
    "metrics": hasattr(mtext._get_text_metrics_with_cache, "original"),
    "heights": hasattr(RendererAgg, "_get_font_height_metrics"),
    "fonts": hasattr(backend_agg.get_font, "original"),
    "png": images.RasterImage._get_png_data.__module__.startswith("branchbook"),
    "outputs": nbclient.client.output_from_msg.__module__.startswith("branchbook"),
    "client": km.client_factory.__module__.startswith("branchbook"),
    "streams": any("QuietOutStream" in a for a in kernels.kernel_arguments()),
    "stack": cpython.call_with_deep_stack(sys._getframe).f_code.co_stacksize > 1000,
    "rfc3987": "rfc3987_syntax" in sys.modules,
}))
"""


def test_off_installs_nothing_and_on_installs_everything():
    on = json.loads(_python(_PATCHED, off=False))
    off = json.loads(_python(_PATCHED, off=True))
    names = ["installed", "metrics", "heights", "fonts", "png", "outputs", "client", "streams"]
    assert {n: on[n] for n in names} == dict.fromkeys(names, True)
    assert {n: off[n] for n in names} == dict.fromkeys(names, False)
    assert on["stack"] and not off["stack"]
    assert not on["rfc3987"]  # nbformat imported without the grammar (speedups.jsonschema)


_PAGE = """
import sys
sys.path.insert(0, {tests!r})
from conftest import _build_page, _notebook_from_page, TEST_TEXTS
from branchbook import i18n
real = i18n.catalogue
i18n.catalogue = lambda locale: {{**TEST_TEXTS[locale], **real(locale)}}
from branchbook.output import html, pdf
page, _ = html.notebook_to_html(_notebook_from_page(_build_page("zh-CN", charts_n=2)))
open("page.html", "w", encoding="utf-8").write(page)
open("page.pdf", "wb").write(pdf.html_to_pdf(page))
"""


def _pdf_text(path: Path) -> str:
    """The PDF's text, page by page (form feeds kept), its spacing made uniform: a
    proportional font lays the provenance line's digits out a little differently per run."""
    done = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True)
    return "\f".join(" ".join(page.split()) for page in done.stdout.split("\f"))


needs_poppler = pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext) is not installed"
)


@needs_poppler
def test_a_page_and_its_pdf_are_the_same_with_the_speedups_off(tmp_path):
    code = _PAGE.format(tests=str(ROOT / "tests"))
    for name, off in (("on", False), ("off", True)):
        (tmp_path / name).mkdir()
        _python(code, off=off, cwd=tmp_path / name)
    on, off = tmp_path / "on", tmp_path / "off"
    # the same bytes but for the minute the page was made (the two runs may straddle one)
    pages = [RUN_FACTS.sub("", (x / "page.html").read_text(encoding="utf-8")) for x in (on, off)]
    assert pages[0] == pages[1]
    assert RUN_FACTS.sub("", _pdf_text(on / "page.pdf")) == RUN_FACTS.sub(
        "", _pdf_text(off / "page.pdf")
    )
    assert "滨江支行" in _pdf_text(on / "page.pdf")


@pytest.mark.slow
@needs_poppler
def test_a_run_publishes_the_same_reports_with_the_speedups_off(tmp_path):
    """Every report of one branch, made by the command with the speedups on and off."""
    from branchbook import demo

    params = tmp_path / "params"
    (params / "branches").mkdir(parents=True)
    (params / "bank.yaml").write_text((ROOT / "params" / "bank.yaml").read_text())
    wh = tmp_path / "wh.duckdb"
    demo.build(wh, branches=2, customers=1_000, months=13, seed=17)
    outs = {}
    for name, off in (("on", False), ("off", True)):
        outs[name] = tmp_path / name
        env = {**os.environ, speedups.SWITCH: "0" if off else "1"}
        done = subprocess.run(
            [sys.executable, "-m", "branchbook.cli", "run", "--warehouse", str(wh)]
            + ["--params", str(params), "--build", str(tmp_path / "build")]
            + ["--out", str(outs[name]), "--branches", "0101", "--force", "--no-progress"]
            + ["--scopes", "branch"],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert done.returncode == 0, done.stderr[-2000:]
    pages = sorted((outs["on"] / PERIOD / "0101").glob("*.html"))
    assert len(pages) == 4
    for page in pages:
        other = outs["off"] / PERIOD / "0101" / page.name
        on_text, off_text = page.read_text(encoding="utf-8"), other.read_text(encoding="utf-8")
        assert PROVENANCE.sub("", on_text) == PROVENANCE.sub("", off_text), page.name
        on_pdf, off_pdf = (_pdf_text(p.with_suffix(".pdf")) for p in (page, other))
        assert RUN_FACTS.sub("", on_pdf) == RUN_FACTS.sub("", off_pdf), page.name
