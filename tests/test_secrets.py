"""A warehouse password appears in no report, notebook, manifest, prepare.json or log.

The demo data is copied into a SQLite file and read through a SQLAlchemy URL that
carries a unique password (``?password=...``: SQLite ignores the URI parameter, so
the URL works and the secret is really in it). The real ``branchbook`` command runs
once with the URL in ``BRANCHBOOK_WAREHOUSE_URL`` and once with ``--warehouse``;
every file under the run's folders (PDF as text too) and the command's output are
searched for the secret, raw and URL-decoded. URLs that cannot be read must fail
with a message that masks it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import quote, unquote

import duckdb
import pytest

from branchbook import demo

sqlalchemy = pytest.importorskip("sqlalchemy")
pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]
PERIOD = "2026-10"


@pytest.fixture(scope="module")
def secret_bank(tmp_path_factory):
    base = tmp_path_factory.mktemp("secrets")
    wh = demo.build(base / "wh.duckdb", branches=2, customers=1_000, months=13, seed=17)
    db = base / "bank.sqlite"
    engine = sqlalchemy.create_engine(f"sqlite:///{db}")
    with duckdb.connect(str(wh), read_only=True) as con, engine.begin() as sql:
        names = [
            r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
        ]
        for name in names:
            con.execute(f'SELECT * FROM "{name}"').df().to_sql(name, sql, index=False)
    engine.dispose()
    Path(wh).unlink()
    params = base / "params"
    (params / "branches").mkdir(parents=True)
    shutil.copy(ROOT / "params" / "bank.yaml", params / "bank.yaml")
    # unique, with characters that are URL-encoded in the URL ("!" and "/")
    plain = f"pw!{uuid.uuid4().hex[:12]}/S3cr3t"
    url = f"sqlite:///file:{db}?password={quote(plain, safe='')}&uri=true"
    return {"base": base, "db": db, "params": params, "plain": plain, "url": url}


def branchbook_cli(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k != "BRANCHBOOK_WAREHOUSE_URL"}
    return subprocess.run(
        [sys.executable, "-m", "branchbook.cli", *args],
        cwd=cwd,
        env={**environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=600,
    )


def forms(secret_bank) -> list[str]:
    """The secret as it is in the URL, decoded, and as the URL holds it."""
    plain = secret_bank["plain"]
    return sorted({plain, quote(plain, safe=""), unquote(quote(plain, safe=""))})


def leaks(folder: Path, secret_bank, skip: tuple[Path, ...] = ()) -> list[str]:
    """Every file under ``folder`` (PDFs also as their text) holding the secret."""
    found = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p not in skip):
        texts = [path.read_bytes().decode("utf-8", "replace")]
        if path.suffix == ".pdf":
            texts.append(
                subprocess.run(
                    ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
                ).stdout
            )
        if any(s in text for s in forms(secret_bank) for text in texts):
            found.append(str(path.relative_to(folder)))
    return found


@pytest.mark.parametrize("how", ["environment", "--warehouse"])
def test_the_password_appears_in_no_output(secret_bank, how, tmp_path):
    url = secret_bank["url"]
    assert all(s in url or s == secret_bank["plain"] for s in forms(secret_bank))
    common = [
        "--params",
        str(secret_bank["params"]),
        "--build",
        str(tmp_path / "build"),
        "--out",
        str(tmp_path / "reports"),
        "--no-progress",
        "--branches",
        "0101",
        "--reports",
        "segmentation",
        "--scopes",
        "branch",  # the one report searched (the run's default adds its region's and the bank's)
    ]
    if how == "environment":
        proc = branchbook_cli(
            "run",
            *common,
            "--formats",
            "html,pdf",
            cwd=tmp_path,
            env={"BRANCHBOOK_WAREHOUSE_URL": url},
        )
    else:  # with debug logging, so every library's log lines are there too
        proc = branchbook_cli(
            "-v", "run", *common, "--formats", "html", "--warehouse", url, cwd=tmp_path
        )
    assert proc.returncode == 0, proc.stderr[-3000:]
    (tmp_path / "stdout.txt").write_text(proc.stdout)
    (tmp_path / "stderr.txt").write_text(proc.stderr)
    # the search finds the secret where it is (so it can fail) ...
    control = tmp_path / "control.txt"
    control.write_text(f"--warehouse {url}")
    assert leaks(tmp_path, secret_bank) == ["control.txt"]
    control.unlink()
    # ... and the run really went through the URL and produced what is searched
    published = tmp_path / "reports" / PERIOD / "0101"
    expected = {"segmentation.html", "segmentation.xlsx"} | (
        {"segmentation.pdf"} if how == "environment" else set()
    )
    assert {p.name for p in published.iterdir()} == expected
    assert (tmp_path / "build" / PERIOD / "executed" / "0101" / "segmentation.ipynb").is_file()
    assert (tmp_path / "reports" / PERIOD / "manifest.json").is_file()
    prepared = (tmp_path / "build" / PERIOD / "prepared" / "prepare.json").read_text()
    masked = f"database sqlite:///file:{secret_bank['db']}?password=***&uri=***"
    assert masked in prepared
    assert "1 of 1 reports published" in proc.stderr
    assert leaks(tmp_path, secret_bank) == []


@pytest.mark.parametrize(
    "template, says",
    [
        ("nosuchdb://ana:{pw}@db.example/bank", "NoSuchModuleError"),  # no such driver
        (
            "postgresql://ana:{pw}@nohost.invalid:5432/bank",
            "cannot read postgresql://ana:***@nohost.invalid:5432/bank",
        ),
        (
            "sqlite:///file:/nonexistent/folder/x.db?password={pw}&uri=true",
            "unable to open database file",
        ),
        ("sqlite://ana:{pw}@/x.db", "Invalid SQLite URL"),
    ],
)
def test_a_url_that_cannot_be_read_is_refused_without_the_password(
    secret_bank, template, says, tmp_path
):
    url = template.format(pw=quote(secret_bank["plain"], safe=""))
    common = [
        "--params",
        str(secret_bank["params"]),
        "--build",
        str(tmp_path / "build"),
        "--out",
        str(tmp_path / "reports"),
        "--no-progress",
    ]
    for proc in (
        branchbook_cli("run", *common, "--warehouse", url, cwd=tmp_path),
        branchbook_cli("run", *common, cwd=tmp_path, env={"BRANCHBOOK_WAREHOUSE_URL": url}),
        branchbook_cli("validate", "--warehouse", url, cwd=tmp_path),
    ):
        assert proc.returncode == 2, proc.stderr[-2000:]
        assert "branchbook: refused: cannot read " in proc.stderr
        assert says in proc.stderr
        assert "***" in proc.stderr
        assert not any(s in proc.stderr + proc.stdout for s in forms(secret_bank))
    assert not (tmp_path / "reports").exists()


SNOOP = """
import os
print("ENV", dict(os.environ))
print("PROC", open("/proc/self/environ", "rb").read())
"""


@pytest.mark.parametrize("warm", [True, False], ids=["forked-kernel", "new-python-kernel"])
def test_a_notebook_cannot_read_the_password_from_its_environment(secret_bank, tmp_path, warm):
    """A report that prints its environment (and the process's initial environment)
    publishes no password: kernels get neither the warehouse URL nor variables named
    like secrets."""
    import nbformat

    from branchbook.reports import NOTEBOOK_DIR

    nbdir = tmp_path / "notebooks"
    nbdir.mkdir()
    nb = nbformat.read(str(NOTEBOOK_DIR / "segmentation.ipynb"), as_version=4)
    at = next(i for i, c in enumerate(nb.cells) if "open_report(" in c.source) + 1
    nb.cells.insert(at, nbformat.v4.new_code_cell(SNOOP))
    nbformat.write(nb, str(nbdir / "segmentation.ipynb"))
    env = {
        "BRANCHBOOK_WAREHOUSE_URL": secret_bank["url"],
        "BANK_DB_PASSWORD": secret_bank["plain"],
        "BRANCHBOOK_WARM": "1" if warm else "0",
    }
    script = (
        "import branchbook, sys; r = branchbook.run(branches=['0101'], reports=['segmentation'], "
        f"formats=('html',), params_dir={str(secret_bank['params'])!r}, "
        f"build_dir={str(tmp_path / 'build')!r}, out={str(tmp_path / 'reports')!r}, "
        f"notebooks={str(nbdir)!r}, progress=False); sys.exit(r.exit_code)"
    )
    environ = {k: v for k, v in os.environ.items() if k != "BRANCHBOOK_WAREHOUSE_URL"}
    proc = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env={**environ, **env},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    executed = (
        tmp_path / "build" / PERIOD / "executed" / "0101" / "segmentation.ipynb"
    ).read_text()
    assert "ENV" in executed and "PROC" in executed  # the snooping cell ran
    assert "BRANCHBOOK_WARM" in executed  # and saw the rest of the environment
    (tmp_path / "stderr.txt").write_text(proc.stderr)
    assert leaks(tmp_path, secret_bank, skip=(nbdir / "segmentation.ipynb",)) == []
