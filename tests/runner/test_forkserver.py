"""The fast path makes the same reports as the plain one, and leaves nothing running.

Three runs of the same small bank, all four reports, HTML + PDF:

- **plain**: a new Python for every kernel (``warm=False``), one report at a time,
  rendered in the runner's own process;
- **warm**: the default, kernels and renderers forked from a warm parent, two at once;
- **dask**: the same work on a real ``dask.distributed`` LocalCluster with two worker
  processes, published by the runner.

Outputs must be the same files with the same content; only the provenance line (run id
and time) may differ. Timings are never checked here: see ``benchmarks/``.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from pathlib import Path

import psutil
import pytest

import branchbook
from branchbook import demo
from branchbook.errors import ParamsError, RenderError
from branchbook.runner import forkclient, forkserver, kernels

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not forkserver.available(), reason="the fork server needs Linux"),
]
ROOT = Path(__file__).resolve().parents[2]
PERIOD = "2026-10"
BRANCHES = ["0101", "0102"]
PROVENANCE = re.compile(r'<footer class="bb-provenance">.*?</footer>', re.S)
OUR_NAMES = {"bb-kernel", "bb-render", "bb-forkserver", "bb-renderserver"}


def ours() -> list[psutil.Process]:
    """Kernels, renderers and fork servers descended from this test process."""
    found = []
    for p in psutil.Process().children(recursive=True):
        try:
            if p.name() in OUR_NAMES or "ipykernel" in " ".join(p.cmdline()):
                found.append(p)
        except psutil.NoSuchProcess:
            pass
    return found


@pytest.fixture(scope="module")
def bank(tmp_path_factory):
    base = tmp_path_factory.mktemp("fastpath")
    wh = base / "wh.duckdb"
    demo.build(wh, branches=3, customers=1_500, months=13, seed=3)
    params = base / "params"
    (params / "branches").mkdir(parents=True)
    shutil.copy(ROOT / "params" / "bank.yaml", params / "bank.yaml")
    # one zh-CN and one en branch, as in the demo
    (params / "branches" / "0101.yaml").write_text("locale: zh-CN\n")
    (params / "branches" / "0102.yaml").write_text("locale: en\n")
    return {"base": base, "warehouse": wh, "params_dir": params, "build_dir": base / "build"}


def run(bank: dict, name: str, **kw):
    out = bank["base"] / name
    result = branchbook.run(
        warehouse=bank["warehouse"],
        params_dir=bank["params_dir"],
        build_dir=bank["build_dir"],
        out=out,
        branches=BRANCHES,
        progress=False,
        **kw,
    )
    assert result.exit_code == 0, [e["error"] for e in result.failed]
    return result, out / PERIOD


@pytest.fixture(scope="module")
def plain(bank):
    return run(bank, "plain", warm=False, workers=1)


@pytest.fixture(scope="module")
def warm(bank):
    return run(bank, "warm", workers=2)


def pdf_text(path: Path) -> str:
    """The PDF's text without white space, run id and generation time (provenance)."""
    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    text = "".join(text.split())
    text = re.sub(r"\d{8}T\d{6}-[0-9a-f]{6}", "<run>", text)
    return re.sub(r"\d{4}-\d{2}-\d{2}\d{2}:\d{2}UTC", "<time>", text)


def assert_same_reports(a: Path, b: Path) -> None:
    files_a = sorted(p.relative_to(a) for p in a.rglob("*") if p.suffix in (".html", ".pdf"))
    files_b = sorted(p.relative_to(b) for p in b.rglob("*") if p.suffix in (".html", ".pdf"))
    assert files_a == files_b
    reports = [f for f in files_a if f.parent != Path(".") and f.name != "pack.pdf"]
    assert len(reports) == len(BRANCHES) * 4 * 2
    packs = [f for f in files_a if f.name == "pack.pdf"]  # a branch's four reports, joined
    for rel in reports + packs:
        if rel.suffix == ".html":
            left, right = (PROVENANCE.sub("", (x / rel).read_text()) for x in (a, b))
            assert left == right, rel
            assert "bb-kpi" in left  # a real page, not an empty one
        else:
            assert pdf_text(a / rel) == pdf_text(b / rel), rel
    ma, mb = (json.loads((x / "manifest.json").read_text())["reports"] for x in (a, b))
    assert ma.keys() == mb.keys()
    for key in ma:
        assert ma[key]["status"] == mb[key]["status"] == "ok"
        assert ma[key]["headline"] == mb[key]["headline"], key
        assert ma[key]["input_fingerprint"] == mb[key]["input_fingerprint"], key


def test_warm_run_makes_the_same_reports_as_a_plain_one(plain, warm):
    assert_same_reports(plain[1], warm[1])


def test_warm_run_forks_its_kernels_and_leaves_nothing_running(bank, warm, caplog):
    assert ours() == []
    caplog.set_level("INFO", logger="branchbook.run")
    result, out = run(bank, "warm-again", workers=2, reports=["segmentation"], formats=("html",))
    assert any(
        "fork server" in r.getMessage() and "ready" in r.getMessage() for r in caplog.records
    )
    # the import cell of a forked kernel finds everything imported already
    nb = json.loads(
        (bank["build_dir"] / PERIOD / "executed" / "0101" / "segmentation.ipynb").read_text()
    )
    first_code = next(
        c
        for c in nb["cells"]
        if c["cell_type"] == "code" and "open_report(" in "".join(c["source"])
    )
    assert first_code["metadata"]["papermill"]["duration"] < 1.0
    assert ours() == []


def test_the_server_started_ahead_is_stopped_when_the_run_stops_early(bank, warm):
    """The fork server starts before the data check; a refused run or one with nothing to
    do must not leave it behind."""
    with pytest.raises(ParamsError, match="9999"):
        branchbook.run(
            warehouse=bank["warehouse"],
            params_dir=bank["params_dir"],
            build_dir=bank["build_dir"],
            out=bank["base"] / "refused",
            branches=["9999"],
            progress=False,
        )
    assert ours() == []
    result = branchbook.run(
        warehouse=bank["warehouse"],
        params_dir=bank["params_dir"],
        build_dir=bank["build_dir"],
        out=bank["base"] / "warm",
        branches=BRANCHES,
        progress=False,
        workers=2,
    )
    assert result.exit_code == 0
    assert result.entries and all(e.get("skipped_unchanged") for e in result.entries.values())
    assert ours() == []


def test_dask_cluster_makes_the_same_reports_as_a_local_run(bank, warm):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        result, out = run(bank, "dask", executor="dask", scheduler=cluster.scheduler_address)
        workers = list(cluster.scheduler.workers)
    assert len(workers) == 2
    assert_same_reports(warm[1], out)
    assert {e["status"] for e in result.entries.values()} == {"ok"}


def test_dask_without_a_scheduler_is_refused(bank):
    with pytest.raises(ParamsError, match="--scheduler"):
        branchbook.run(
            warehouse=bank["warehouse"],
            params_dir=bank["params_dir"],
            build_dir=bank["build_dir"],
            out=bank["base"] / "x",
            executor="dask",
        )


# -- the fork server itself -----------------------------------------------------------


@pytest.fixture
def server(tmp_path):
    srv = forkclient.ForkServer(tmp_path, ["branchbook.output.pdf"])
    yield srv
    srv.close()


def test_the_server_asks_malloc_for_huge_pages(server):
    environ = Path(f"/proc/{server.process.pid}/environ").read_bytes().split(b"\0")
    assert b"GLIBC_TUNABLES=glibc.malloc.hugetlb=1" in environ


def test_a_failed_cell_is_a_render_error_naming_the_cell(server, tmp_path):
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook, new_output

    cell = new_code_cell(
        "1/0",
        execution_count=3,
        outputs=[
            new_output("error", ename="ZeroDivisionError", evalue="division by zero", traceback=[])
        ],
    )
    path = tmp_path / "bad.ipynb"
    nbformat.write(new_notebook(cells=[cell]), str(path))
    with pytest.raises(RenderError, match="ZeroDivisionError"):
        server.render(path, ("html", "pdf"))


def test_a_killed_renderer_is_an_error_not_a_hang(server, bank, warm):
    executed = bank["build_dir"] / PERIOD / "executed" / "0101" / "risk.ipynb"
    with pytest.raises(RenderError, match="died"):
        server.render(executed, ("html", "pdf"), on_start=lambda process: process.kill())


def test_a_renderer_serves_a_thread_report_after_report_and_is_replaced_when_it_fails(
    server, bank, warm, tmp_path
):
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook, new_output

    executed = bank["build_dir"] / PERIOD / "executed" / "0101" / "risk.ipynb"
    pids = []

    def one(path=executed):
        return server.render(path, ("html", "pdf"), on_start=lambda p: pids.append(p.pid))

    first, second = one(), one()
    assert pids[0] == pids[1]  # kept warm for the thread's next report
    assert first[0] == second[0] and first[2] == second[2]  # the same page again
    # a page that cannot be made: an error, and the next report has a new renderer
    cell = new_code_cell(
        "1/0",
        execution_count=1,
        outputs=[new_output("error", ename="ZeroDivisionError", evalue="boom", traceback=[])],
    )
    bad = tmp_path / "bad.ipynb"
    nbformat.write(new_notebook(cells=[cell]), str(bad))
    with pytest.raises(RenderError, match="ZeroDivisionError"):
        one(bad)
    one()
    assert pids[2] == pids[1] != pids[3]  # the failing one was the kept renderer
    # killed by a time limit between two reports: the next one is made by a new renderer
    psutil.Process(pids[3]).kill()
    psutil.Process(pids[3]).wait(5)
    assert one()[1].startswith(b"%PDF")
    assert len(set(pids)) == 3 and pids[4] != pids[3]
    # another thread has a renderer of its own
    import threading

    other = []
    t = threading.Thread(
        target=lambda: server.render(executed, ("html",), on_start=lambda p: other.append(p.pid))
    )
    t.start()
    t.join()
    assert other and other[0] not in pids


def test_a_renderer_is_replaced_after_its_share_of_reports(server, bank, warm, monkeypatch):
    monkeypatch.setattr(forkclient, "RENDERS_PER_RENDERER", 2)
    executed = bank["build_dir"] / PERIOD / "executed" / "0101" / "staff_kpi.ipynb"
    pids = []
    for _ in range(3):
        server.render(executed, ("html",), on_start=lambda p: pids.append(p.pid))
    assert pids[0] == pids[1] != pids[2]


def test_the_server_takes_its_children_with_it(tmp_path):
    import asyncio

    srv = forkclient.ForkServer(tmp_path, ["ipykernel.kernelapp"])
    km = kernels.kernel_manager_class(srv)(kernel_name="python3")
    asyncio.run(km.start_kernel())
    kernel = psutil.Process(km.provisioner.process.pid)
    assert kernel.name() == "bb-kernel"
    assert kernel.ppid() == srv.process.pid
    srv.close()
    gone, alive = psutil.wait_procs([kernel], timeout=10)
    assert alive == []
    assert srv.process.poll() is not None


def test_renderers_come_from_the_render_server_and_go_with_it(tmp_path, bank, warm):
    srv = forkclient.ForkServer(tmp_path, ["ipykernel.kernelapp", "branchbook.output.pdf"])
    try:
        main = psutil.Process(srv.process.pid)
        helpers = main.children()
        assert len(helpers) == 1  # forked right after the common imports
        deadline = time.monotonic() + 10  # it names itself just after the fork
        while helpers[0].name() != "bb-renderserver" and time.monotonic() < deadline:
            time.sleep(0.01)
        assert helpers[0].name() == "bb-renderserver"
        executed = bank["build_dir"] / PERIOD / "executed" / "0101" / "risk.ipynb"
        parents = []
        html, pdf, meta = srv.render(
            executed,
            ("html", "pdf"),
            on_start=lambda p: parents.append(psutil.Process(p.pid).ppid()),
        )
        assert parents == [helpers[0].pid]
        assert pdf.startswith(b"%PDF") and b"bb-kpi" in html
        assert meta["report"] == "risk"
    finally:
        srv.close()
    gone, alive = psutil.wait_procs([main, *helpers], timeout=10)
    assert alive == []


def test_a_ready_kernel_has_nothing_of_the_ready_check_left_on_iopub(with_forked_kernel):
    import zmq

    async def body(kc):
        # retries every 10 ms, not ZeroMQ's 100 ms, while the kernel binds its sockets
        assert kc.shell_channel.socket.getsockopt(zmq.RECONNECT_IVL) == 10
        msg_id = kc.execute("40 + 2")
        seen = []
        while True:
            msg = await kc.iopub_channel.get_msg(timeout=30)
            seen.append((msg["parent_header"].get("msg_id"), msg["msg_type"]))
            if msg["msg_type"] == "execute_result":
                assert msg["content"]["data"]["text/plain"] == "42"
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                break
        # the first IOPub message after ready is this request's, none of kernel_info's
        assert seen[0] == (msg_id, "status")
        assert {parent for parent, _ in seen} == {msg_id}
        assert (msg_id, "execute_result") in seen

    with_forked_kernel(["ipykernel.kernelapp"], body)


_KERNEL_START_IMPORTS = """
import json, os, sys
from branchbook.runner import forkserver
forkserver.warm(list(forkserver.WARM_MODULES))
before = set(sys.modules)
from ipykernel.kernelapp import IPKernelApp
app = IPKernelApp.instance()
app.initialize(["-f", sys.argv[1], "--IPKernelApp.transport=ipc", "--ip=" + sys.argv[2],
                *sys.argv[4:]])
with open(sys.argv[3], "w") as f:
    json.dump(sorted(set(sys.modules) - before), f)
os._exit(0)
"""


def test_a_kernel_starts_without_importing_anything_the_server_lacks(tmp_path):
    # what a kernel imports while it starts costs every report again (the fork server
    # imported it for nobody): the warm list must cover the kernel's start
    import sys

    from branchbook.runner.kernels import kernel_arguments

    found = tmp_path / "imported.json"
    subprocess.run(
        [sys.executable, "-c", _KERNEL_START_IMPORTS, tmp_path / "k.json", tmp_path / "k", found]
        + list(kernel_arguments()),
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert json.loads(found.read_text()) == []


def test_every_warm_module_imports():
    import importlib.util

    missing = [m for m in forkserver.WARM_MODULES if importlib.util.find_spec(m) is None]
    assert missing == []


def test_the_render_server_sets_a_pdf_after_warming_typst(tmp_path, zh_nb):
    """The render server reads Typst's fonts ahead but compiles nothing: Typst's
    compiler starts threads, and a server that forks must have one (it refused to
    serve, and every report failed with "the fork server is not running")."""
    import nbformat

    notebook = tmp_path / "r.ipynb"
    nbformat.write(nbformat.from_dict(zh_nb), str(notebook))
    srv = forkclient.ForkServer(tmp_path, list(forkserver.RENDER_MODULES))
    try:
        html, pdf, _meta = srv.render(notebook, ("html", "pdf"))
    finally:
        srv.close()
    assert html and pdf.startswith(b"%PDF") and b"/Creator(Typst" in pdf


def test_a_pack_a_renderer_cannot_make_is_a_render_error_naming_the_file(tmp_path):
    """A pack is made by a renderer forked from the warm render server; what it cannot
    read comes back as the renderer's error, as a report's render does."""
    from branchbook.reports import REPORTS

    folder = tmp_path / "out" / "0101"
    folder.mkdir(parents=True)
    entries = {}
    for report in REPORTS:
        for kind in ("html", "pdf"):
            (folder / f"{report}.{kind}").write_bytes(b"not a PDF")
        entries[f"0101/{report}"] = {
            "branch_id": "0101",
            "report": report,
            "status": "ok",
            "outputs": {k: {"path": f"0101/{report}.{k}"} for k in ("html", "pdf")},
            "brief": {"title": report},
        }
    job = {
        "fingerprint": "x",
        "entries": entries,
        "branch": {
            "locale": "en",
            "bank_name": "Demo Bank",
            "classification": "Internal",
            "info": {"branch_id": "0101", "name": "Pudong"},
        },  # fmt: skip
        "period": "2026-10",
    }
    srv = forkclient.ForkServer(tmp_path, list(forkserver.RENDER_MODULES))
    try:
        with pytest.raises(RenderError, match=r"0101/segmentation\.pdf: not the PDF the manifest"):
            srv.pack(tmp_path / "out", "0101", job)
    finally:
        srv.close()
