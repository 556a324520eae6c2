"""Where things live: the project root, the build and report folders, the code version."""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path

from .about import __version__

PACKAGE_DIR = Path(__file__).resolve().parent


def project_root(start: Path | None = None) -> Path:
    """The nearest folder at or above ``start`` (default: the current folder) holding
    ``params/bank.yaml``; the current folder if there is none. ``BRANCHBOOK_ROOT`` wins."""
    env = os.environ.get("BRANCHBOOK_ROOT")
    if env:
        return Path(env).resolve()
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "params" / "bank.yaml").is_file():
            return folder
    return here


def period_build_dir(build_dir: Path, period: str) -> Path:
    return Path(build_dir) / period


@lru_cache(maxsize=1)
def code_version() -> str:
    """The package version plus a short hash of the library's code, texts and templates."""
    h = hashlib.sha256()
    for path in sorted(PACKAGE_DIR.rglob("*")):
        if path.is_file() and path.suffix in {".py", ".yaml", ".j2", ".css", ".html"}:
            h.update(str(path.relative_to(PACKAGE_DIR)).encode())
            h.update(path.read_bytes())
    return f"{__version__}+{h.hexdigest()[:10]}"


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
