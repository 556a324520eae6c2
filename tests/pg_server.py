"""A throwaway PostgreSQL server for the tests: initdb and pg_ctl in a temporary folder,
on a free localhost port, as a user that is not root (PostgreSQL refuses root)."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
from pathlib import Path

import duckdb

USER = "branchbook"

_PG_TYPES = {
    "VARCHAR": "text",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "DOUBLE": "numeric",
    "BIGINT": "bigint",
    "INTEGER": "integer",
    "BOOLEAN": "boolean",
}


def binaries() -> Path | None:
    """The newest installed PostgreSQL's bin folder (Debian's layout), or one on PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=_version)
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("pg_ctl")
    return Path(on_path).parent if on_path else None


def _version(path: str) -> int:
    part = Path(path).parts[-3]
    return int(part) if part.isdigit() else 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A running server; :meth:`stop` ends it (the folder goes with the test's tmp)."""

    def __init__(self, folder: Path):
        self.bin = binaries()
        if self.bin is None:
            raise FileNotFoundError("PostgreSQL server binaries (pg_ctl, initdb)")
        self.folder = folder
        self.data = folder / "data"
        self.port = _free_port()
        self.prefix: list[str] = []
        if os.geteuid() == 0:  # PostgreSQL will not run as root: the package's user
            self.prefix = ["runuser", "-u", "postgres", "--"]
            shutil.chown(folder, "postgres")
        self._run("initdb", "-D", str(self.data), "-U", USER, "--auth=trust", "-E", "UTF8",
                  "--no-locale")  # fmt: skip
        options = (
            f"-p {self.port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off"
        )
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(folder / "log"),
                  "-w", "start")  # fmt: skip

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://{USER}@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run([*self.prefix, str(self.bin / tool), *args], check=True,
                       capture_output=True, timeout=120)  # fmt: skip

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def connect(self):
        import psycopg

        return psycopg.connect(host="127.0.0.1", port=self.port, user=USER, dbname="postgres",
                               autocommit=True)  # fmt: skip


def load(server: Server, duckdb_file: Path, schema: str, instants: tuple[str, ...] = ()) -> None:
    """Copy every table of ``schema`` in ``duckdb_file`` into the server's ``schema``;
    money as ``numeric``; the ``table.column`` names in ``instants`` as ``timestamptz``
    (their local times read in the Asia/Shanghai zone)."""
    src = duckdb.connect(str(duckdb_file), read_only=True)
    tables = [r[0] for r in src.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = ? ORDER BY 1",
        [schema],
    ).fetchall()]  # fmt: skip
    with server.connect() as pg:
        pg.execute(f"CREATE SCHEMA {schema}")
        pg.execute("SET TIME ZONE 'Asia/Shanghai'")
        for table in tables:
            cols = src.execute(f"DESCRIBE {schema}.{table}").fetchall()
            decl = ", ".join(
                f"{c} {'timestamptz' if f'{table}.{c}' in instants else _PG_TYPES[t]}"
                for c, t, *_ in cols
            )
            pg.execute(f"CREATE TABLE {schema}.{table} ({decl})")
            csv = server.folder / f"{table}.csv"
            src.execute(f"COPY {schema}.{table} TO '{csv}' (HEADER, FORMAT csv)")
            with pg.cursor().copy(
                f"COPY {schema}.{table} FROM STDIN (FORMAT csv, HEADER true)"
            ) as copy, open(csv, "rb") as fh:  # fmt: skip
                while block := fh.read(1 << 20):
                    copy.write(block)
            csv.unlink()
            pg.execute(f"ANALYZE {schema}.{table}")
    src.close()
