"""Where the warehouse is: a DuckDB file, a folder of Parquet/CSV, or a database URL.

Kept apart from :mod:`branchbook.warehouse` (which imports DuckDB) so that the quick
up-to-date check of a run (:mod:`branchbook.runner.quick`) can tell which files a
warehouse is made of without opening it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

DEFAULT_WAREHOUSE = Path("build/demo/warehouse.duckdb")
"""The demo warehouse, relative to the project folder."""

URL_VARIABLE = "BRANCHBOOK_WAREHOUSE_URL"
"""Environment variable holding a SQLAlchemy URL, used when no source is given."""

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")


def resolve(source: str | os.PathLike | None) -> tuple[str, str | Path]:
    """``("url", url)``, ``("path", path)`` or ``("default", DEFAULT_WAREHOUSE)``."""
    if source is None:
        url = os.environ.get(URL_VARIABLE, "").strip()
        if url:
            return "url", url
        from .paths import project_root

        return "default", project_root() / DEFAULT_WAREHOUSE
    if isinstance(source, str):
        if source.startswith("duckdb:///"):
            return "path", Path(source[len("duckdb:///") :])
        if _URL.match(source):
            return "url", source
    return "path", Path(source)
