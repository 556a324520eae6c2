"""What code a report depends on, hashed: reruns follow the package's seams.

A report is redone when its own package, its notebook, its text catalogues, the shared
modules it imports (followed through the imports, statically) or the page templates
change; a label fixed in the risk catalogue redoes the risk reports and nothing else.
Prepare likewise redoes a report's bank-wide models only when that report's code (or
its data or parameters) changed.

A report may read another report's prepared tables as data (never by import): the
segmentation report's lifetime value reads the satisfaction report's churn scores. The
reading package declares them in a module-level :data:`READS_PREPARED` (the other
report's name -> its tables), and the code that makes them (that report's ``prepare``
module and what it reaches) joins the reader's prepare and report keys; prepare makes
them first (:func:`prepare_order`).

The import graph is read from the source with :mod:`ast`, never by importing, so the
key is the same in the runner, in a worker and in a test.
"""

from __future__ import annotations

import ast
import hashlib
import json
from collections.abc import Iterable
from pathlib import Path

from .reports import REPORTS

PACKAGE = "branchbook"
PACKAGE_DIR = Path(__file__).resolve().parent
#: Modules whose code shapes every published page besides the report's own imports:
#: the renderers (HTML and PDF) and their templates.
RENDERING = ("branchbook.output",)
#: The branch pack's own files (relative to the package): they shape the pack, made after
#: the reports from their published files, and no report's page, so they are in the
#: pack's key (:func:`pack_code`) and not in the reports'.
PACK_FILES = ("output/pack.py", "templates/pack.html.j2", "templates/pack.css")
#: What cuts the extracts every report reads (prepare's own code, without the reports).
EXTRACTS = (
    "branchbook.prepare",
    "branchbook.contract",
    "branchbook.warehouse",
    "branchbook.completeness",
)
#: What builds the tables every report's prepare reads (customer-month, loan-month,
#: scored surveys, churn): an edit there redoes every report's models.
SHARED_STEP = ("branchbook.metrics.shared",)
#: The module-level name a report package declares the other reports' prepared tables it
#: reads under: ``{"satisfaction": ("satisfaction_churn_risk", ...)}``.
READS_PREPARED = "READS_PREPARED"


def _files_of(module: str, root: Path) -> list[Path]:
    """The source files of ``branchbook.x.y`` (a package: all its modules)."""
    parts = module.split(".")[1:]
    if not parts:  # the package itself: its __init__ only, not every module in it
        return [root / "__init__.py"]
    base = root.joinpath(*parts)
    if base.is_dir():
        return sorted(base.rglob("*.py"))
    file = base.with_suffix(".py")
    return [file] if file.is_file() else []


def _imports(source: str, module: str, is_package: bool) -> set[str]:
    """The ``branchbook`` modules ``source`` imports (relative imports resolved)."""
    out: set[str] = set()
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return out
    here = module.split(".") if is_package else module.split(".")[:-1]
    for node in _module_level(tree.body):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.split(".")[0] == PACKAGE}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - node.level + 1] if node.level > 1 else here
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            if prefix.split(".")[0] != PACKAGE:
                continue
            out.add(prefix)
            out |= {f"{prefix}.{a.name}" for a in node.names}
    return out


def _module_level(body: list[ast.stmt]):
    """The statements run when a module is imported: its body, and the bodies of its
    ``if``/``try``/``with`` blocks; not function or class bodies (an import there runs
    only when that function is called: a lazy convenience, not a dependency of the page)."""
    for node in body:
        yield node
        for field in ("body", "orelse", "finalbody", "handlers"):
            inner = getattr(node, field, None)
            if isinstance(inner, list) and not isinstance(
                node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
            ):
                yield from _module_level(
                    [n for n in inner if isinstance(n, ast.stmt | ast.ExceptHandler)]
                )


def _module_of(file: Path, root: Path) -> tuple[str, bool]:
    rel = file.relative_to(root).with_suffix("")
    parts = [PACKAGE, *rel.parts]
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


def closure(modules: Iterable[str], root: Path | None = None) -> list[Path]:
    """Every source file reached from ``modules`` through ``branchbook`` imports."""
    root = root or PACKAGE_DIR
    seen: set[Path] = set()
    todo = [m for m in modules]
    while todo:
        name = todo.pop()
        for file in _files_of(name, root):
            if file in seen:
                continue
            seen.add(file)
            mod, is_pkg = _module_of(file, root)
            todo += sorted(_file_imports(file, mod, is_pkg))
    return sorted(seen)


# Per process, by each file's metadata: a run asks for the closures of every report and
# prepare step, which share most of their files (266 parses became one per file).
_PARSED: dict[tuple, frozenset[str]] = {}
_HASHED: dict[tuple, bytes] = {}


def _stat_key(file: Path) -> tuple:
    st = file.stat()
    return (str(file), st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def _file_imports(file: Path, module: str, is_package: bool) -> frozenset[str]:
    key = (*_stat_key(file), module, is_package)
    found = _PARSED.get(key)
    if found is None:
        source = file.read_text(encoding="utf-8")
        found = _PARSED[key] = frozenset(_imports(source, module, is_package))
    return found


def _file_hash(file: Path) -> bytes:
    key = _stat_key(file)
    found = _HASHED.get(key)
    if found is None:
        found = _HASHED[key] = hashlib.sha256(file.read_bytes()).digest()
    return found


_READS: dict[tuple, dict] = {}


def _declared_reads(file: Path) -> dict[str, tuple[str, ...]]:
    """The literal :data:`READS_PREPARED` assigned at module level in ``file``, if any."""
    key = _stat_key(file)
    found = _READS.get(key)
    if found is None:
        found = {}
        try:
            tree = ast.parse(file.read_text(encoding="utf-8"))
        except SyntaxError:
            tree = ast.Module(body=[], type_ignores=[])
        for node in tree.body:
            targets = (
                node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
            )
            if isinstance(node, ast.Assign | ast.AnnAssign) and any(
                isinstance(t, ast.Name) and t.id == READS_PREPARED for t in targets
            ):
                found = {str(k): tuple(v) for k, v in ast.literal_eval(node.value).items()}
        _READS[key] = found
    return found


def prepared_reads(module: str, root: Path | None = None) -> dict[str, tuple[str, ...]]:
    """The other reports' prepared tables ``module`` (a report package) declares it reads
    (:data:`READS_PREPARED`, read from the source): report name -> table names."""
    root = root or PACKAGE_DIR
    out: dict[str, tuple[str, ...]] = {}
    for file in _files_of(module, root):
        out.update(_declared_reads(file))
    unknown = sorted(set(out) - set(REPORTS))
    if unknown:
        raise ValueError(
            f"{module}: {READS_PREPARED} names unknown report(s) {', '.join(unknown)}; "
            f"reports: {', '.join(REPORTS)}"
        )
    return out


def producers(module: str, root: Path | None = None) -> list[str]:
    """The modules that make the prepared tables ``module`` reads from other reports: each
    such report's ``prepare`` module (its closure is the code behind those tables)."""
    return [f"{REPORTS[r]}.prepare" for r in sorted(prepared_reads(module, root))]


def prepare_order(names: Iterable[str], root: Path | None = None) -> list[str]:
    """``names`` (reports) in the order prepare makes their models: a report after the
    reports whose prepared tables it reads, otherwise in the given order.

    A cycle is an error naming the reports in it."""
    names = list(names)
    needs = {n: [r for r in prepared_reads(REPORTS[n], root) if r in names] for n in names}
    out: list[str] = []
    while len(out) < len(names):
        ready = [n for n in names if n not in out and all(r in out for r in needs[n])]
        if not ready:
            left = [n for n in names if n not in out]
            raise ValueError(f"reports reading each other's prepared tables: {', '.join(left)}")
        out.append(ready[0])
    return out


def notebook_imports(notebook: Path) -> list[str]:
    """The ``branchbook`` modules a notebook's code cells import."""
    nb = json.loads(Path(notebook).read_text(encoding="utf-8"))
    source = "\n".join(
        "".join(c.get("source", "")) if isinstance(c.get("source"), list) else c.get("source", "")
        for c in nb.get("cells", [])
        if c.get("cell_type") == "code"
    )
    return sorted(_imports(source, "__notebook__", False))


def _digest(files: Iterable[Path], root: Path) -> str:
    """A hash of ``files`` by their names relative to ``root`` (a file outside it, the
    notebook, by its own name), in the order of those names: the same code hashes the
    same wherever the package lies."""
    labelled = {}
    for file in set(files):
        try:
            label = str(file.relative_to(root))
        except ValueError:
            label = f"~{file.name}"
        labelled[label] = file
    h = hashlib.sha256()
    for label in sorted(labelled):
        h.update(label.encode())
        h.update(_file_hash(labelled[label]))
    return h.hexdigest()[:16]


def report_code(report: str, module: str, notebook: Path, root: Path | None = None) -> str:
    """The hash of everything that shapes ``report``'s published page except its data
    and parameters: its notebook, the modules it reaches, its catalogues and common's,
    the renderers and the page templates, and the code that makes the other reports'
    prepared tables it reads (:func:`producers`); not the branch pack's own files
    (:data:`PACK_FILES`)."""
    root = root or PACKAGE_DIR
    modules = [module, *notebook_imports(notebook), *RENDERING, *producers(module, root)]
    files = [*closure(modules, root), Path(notebook)]
    for locale in sorted((root / "locales").iterdir()) if (root / "locales").is_dir() else []:
        files += [p for p in (locale / f"{report}.yaml", locale / "common.yaml") if p.is_file()]
    files += sorted((root / "templates").glob("*")) if (root / "templates").is_dir() else []
    pack = {root / f for f in PACK_FILES}
    return _digest([f for f in files if f not in pack], root)


def pack_code(root: Path | None = None) -> str:
    """The hash of the code that makes a branch pack around its reports: the pack's
    module and what it reaches, the common catalogues and the page templates (its own,
    :data:`PACK_FILES`, among them)."""
    root = root or PACKAGE_DIR
    files = closure(["branchbook.output.pack"], root)
    for locale in sorted((root / "locales").iterdir()) if (root / "locales").is_dir() else []:
        files += [p for p in (locale / "common.yaml",) if p.is_file()]
    files += sorted((root / "templates").glob("*")) if (root / "templates").is_dir() else []
    return _digest(files, root)


def prepare_code(module: str, root: Path | None = None) -> str:
    """The hash of the code behind one report's bank-wide models in prepare: its
    package, the shared step whose tables it reads (:data:`SHARED_STEP`) and the code
    that makes the other reports' prepared tables it reads (:func:`producers`)."""
    root = root or PACKAGE_DIR
    return _digest(closure([module, *SHARED_STEP, *producers(module, root)], root), root)


def extracts_code(root: Path | None = None) -> str:
    """The hash of the code that cuts the extracts (without the report packages: a
    change in one report does not cut every extract again)."""
    root = root or PACKAGE_DIR
    files = [f for f in closure(EXTRACTS, root) if _is_shared(f, root)]
    return _digest(files, root)


def _is_shared(file: Path, root: Path) -> bool:
    """Not a file of a report package, nor the registry that names them all."""
    rel = file.relative_to(root)
    report_dirs = {m.split(".", 1)[1].split(".")[0] for m in REPORTS.values()}
    return rel.parts[0] not in report_dirs and rel.name != "reports.py"
