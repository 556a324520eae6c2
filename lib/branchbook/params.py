"""Parameters: the bank's defaults, per-branch overrides, strict validation.

``params/bank.yaml`` holds the bank's defaults; ``params/branches/<branch_id>.yaml``
overrides what differs for one branch. Both are validated before any notebook starts:
unknown keys, wrong types, values out of range and weights that do not sum to 1 are
errors naming the file and the key. Each report module contributes the section of its
own name (``segmentation:``, ``risk:`` ...) through a ``Settings`` class built on
:class:`Section` below.

YAML is read with a loader that keeps every scalar that is not plainly a number,
a boolean or a date as a string, so a branch id ``0123`` stays ``"0123"`` and a
value ``NO`` stays ``"NO"`` (YAML 1.1 would read it as ``False``).
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, get_args

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from .errors import ParamsError

LOCALES = ("en", "zh-CN")
Locale = Literal["en", "zh-CN"]
BRANCH_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
PERIOD_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")

Share = Annotated[float, Field(ge=0.0, le=1.0)]
PositiveInt = Annotated[int, Field(gt=0)]


class Section(BaseModel):
    """Base of every parameter section: strict types, unknown keys refused, frozen."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    #: Top-level keys (of :data:`SHARED_KEYS`) this section reads: the parameter files
    #: set them once at the top, and :class:`ParamSet` hands the value to the section.
    SHARED: ClassVar[tuple[str, ...]] = ()


def check_weights(weights: Mapping[str, float], *, allowed: tuple[str, ...] | None = None) -> None:
    """Raise ``ValueError`` unless ``weights`` are non-negative and sum to 1 (±1e-6)."""
    if allowed is not None:
        unknown = sorted(set(weights) - set(allowed))
        if unknown:
            raise ValueError(
                f"unknown weight key(s) {', '.join(unknown)}; allowed: {', '.join(allowed)}"
            )
    if any(w < 0 for w in weights.values()):
        raise ValueError("weights must be >= 0")
    total = sum(weights.values())
    if not math.isclose(total, 1.0, abs_tol=1e-6):
        raise ValueError(f"weights must sum to 1, got {total:.6g}")


def check_increasing(values: list[float]) -> None:
    """Raise ``ValueError`` unless ``values`` strictly increase."""
    if any(b <= a for a, b in zip(values, values[1:], strict=False)):
        raise ValueError(f"values must strictly increase, got {values}")


class AssetTiers(Section):
    """Lower bounds of the asset tiers above ``mass``, in CNY of AUM (deposits + wealth),
    each inclusive: mass < affluent <= AUM < wealth <= AUM < private <= AUM.

    One key for the whole bank (``asset_tiers:`` at the top of ``bank.yaml``): every
    report that shows a tier reads it (:func:`branchbook.metrics.models.asset_tier`).
    """

    affluent: float = 50_000.0
    wealth: float = 500_000.0
    private: float = 6_000_000.0

    @model_validator(mode="after")
    def _check(self) -> AssetTiers:
        if self.affluent <= 0:
            raise ValueError(f"affluent must be > 0, got {self.affluent}")
        check_increasing([self.affluent, self.wealth, self.private])
        return self


def _csat_scale(v: list[float]) -> list[float]:
    if len(v) != 5 or not all(0 <= x <= 100 for x in v):
        raise ValueError(f"csat_scale needs 5 values between 0 and 100 (answers 1-5), got {v}")
    check_increasing([float(x) for x in v])
    return v


CsatScale = Annotated[list[float], AfterValidator(_csat_scale)]
"""The 0-100 value of the CSAT answers 1 to 5 (:func:`branchbook.metrics.models.csat_100`)."""
DEFAULT_CSAT_SCALE = [0.0, 30.0, 60.0, 85.0, 100.0]

#: Keys set once, at the top of ``bank.yaml``, and read by every report that declares them
#: in its ``SHARED``: a threshold has one key, so a number means one thing everywhere.
SHARED_KEYS = ("asset_tiers", "csat_scale", "balance_basis")

BalanceBasis = Literal["average_daily", "month_end"]
"""Which balance a customer's AUM is read from for tiers, AUM growth and the managers'
assessment: the month's average daily balance (日均, the default: what banks grade
customers and assess managers on) or the month-end balance (时点). A warehouse without
the average columns falls back to month end and the reports say so
(:mod:`branchbook.metrics.basis`)."""
DEFAULT_BALANCE_BASIS: BalanceBasis = "average_daily"


class Rag(Section):
    """Red/amber/green thresholds of one KPI.

    ``good="high"``: green when value >= ``green``, amber when >= ``amber``, else red.
    ``good="low"``: green when value <= ``green``, amber when <= ``amber``, else red.
    """

    good: Literal["high", "low"]
    green: float
    amber: float

    @model_validator(mode="after")
    def _order(self) -> Rag:
        if self.good == "high" and self.green < self.amber:
            raise ValueError(f"good=high needs green >= amber, got {self.green} < {self.amber}")
        if self.good == "low" and self.green > self.amber:
            raise ValueError(f"good=low needs green <= amber, got {self.green} > {self.amber}")
        return self

    def status(self, value: float | None) -> str:
        """``"green"``, ``"amber"``, ``"red"``, or ``"none"`` for a missing value: the one
        RAG rule (:func:`branchbook.metrics.cards.status` applies it)."""
        if not isinstance(value, numbers.Real) or not math.isfinite(value):
            return "none"
        if self.good == "high":
            return "green" if value >= self.green else "amber" if value >= self.amber else "red"
        return "green" if value <= self.green else "amber" if value <= self.amber else "red"


class Labels(Section):
    """A text in both locales."""

    en: str
    zh_CN: str = Field(alias="zh-CN")

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=True)

    def get(self, locale: str) -> str:
        return self.zh_CN if locale == "zh-CN" else self.en


class Completeness(Section):
    """When a month's data is complete enough to report (:mod:`branchbook.completeness`)."""

    stock_tolerance: Share = 0.1
    event_tolerance: Share = 0.5
    history_months: int = Field(default=3, ge=1, le=24)
    coverage: Share = 0.98


class Plausibility(Section):
    """What is plausible in the data (:class:`branchbook.contract.Bounds`): beyond it, a
    warning in validate and in the affected reports, never a silent drop."""

    max_amount: float = Field(default=1e10, gt=0)
    earliest_date: str = Field(default="1900-01-01", pattern=r"^\d{4}-\d{2}-\d{2}$")
    customer_jump: Share = 0.3


class Common(Section):
    """Keys every report uses; the rest of the file is one section per report."""

    bank_name: Labels
    locale: Locale = "en"
    currency: str = Field(default="CNY", pattern=r"^[A-Z]{3}$")
    classification: Labels = Labels(en="Internal", **{"zh-CN": "内部资料"})
    suppress_below: int = Field(default=5, ge=1, le=1000)
    report_timeout_s: int = Field(default=600, ge=10, le=86_400)
    retries: int = Field(default=1, ge=0, le=5)
    completeness: Completeness = Completeness()
    plausibility: Plausibility = Plausibility()
    time_zone: str = "Asia/Shanghai"
    asset_tiers: AssetTiers = AssetTiers()
    csat_scale: CsatScale = Field(default_factory=lambda: list(DEFAULT_CSAT_SCALE))
    balance_basis: BalanceBasis = DEFAULT_BALANCE_BASIS

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, v: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {v!r} (an IANA name such as Asia/Shanghai)"
            ) from None
        return v


class _Refused(yaml.YAMLError):
    """A YAML construct parameter files may not use (the message says which, and where)."""


class _Loader(yaml.SafeLoader):
    """SafeLoader whose booleans are only true/false (YAML 1.2 style), and that refuses
    what would let a file mean something other than it says: a key given twice (YAML
    keeps the last one silently), aliases and merge keys (``*name``, ``<<``: a value
    defined elsewhere, and the way to a memory bomb)."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise _Refused(
                f"line {event.start_mark.line + 1}: alias *{event.anchor} is not allowed in "
                "parameter files (write the value out)"
            )
        return super().compose_node(parent, index)

    def construct_mapping(self, node, deep=False):
        seen: dict[Any, int] = {}
        for key_node, _value in node.value:
            line = key_node.start_mark.line + 1
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise _Refused(f"line {line}: merge key << is not allowed in parameter files")
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, list | dict):
                raise _Refused(f"line {line}: a key must be a plain value")
            if key in seen:
                raise _Refused(
                    f"line {line}: key {key!r} is given twice (first on line {seen[key]}); "
                    "give each key once"
                )
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:bool"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.copy().items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
# An integer written with a leading zero ("0123") is a code, not a number.
_INT_RX = re.compile(r"^[-+]?(0|[1-9][0-9_]*)$")
_Loader.yaml_implicit_resolvers = {
    k: [(tag, (_INT_RX if tag == "tag:yaml.org,2002:int" else rx)) for tag, rx in v]
    for k, v in _Loader.yaml_implicit_resolvers.items()
}


def read_yaml(path: Path) -> dict[str, Any]:
    """Read one parameter file into a dict; errors name the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ParamsError(f"{path}: cannot read ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        line = exc.object[: exc.start].count(b"\n") + 1
        raise ParamsError(
            f"{path}: not UTF-8 (byte 0x{exc.object[exc.start]:02x} on line {line}); "
            "save the file as UTF-8"
        ) from None
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - SafeLoader subclass
    except _Refused as exc:
        raise ParamsError(f"{path}: {exc}") from None
    except yaml.YAMLError as exc:
        raise ParamsError(f"{path}: not valid YAML: {_one_line(exc)}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ParamsError(
            f"{path}: expected a mapping of keys to values, got {type(data).__name__}"
        )
    for key in data:
        if not isinstance(key, str):
            raise ParamsError(f"{path}: key {key!r} must be a string")
    for where, value in _leaves(data):
        if isinstance(value, float) and not math.isfinite(value):
            raise ParamsError(f"{path}: {where}: {value!r} is not allowed (numbers must be finite)")
    return _normalise(data)


def _one_line(exc: yaml.YAMLError) -> str:
    """A YAML error as one line: the problem and where it is."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return f"line {mark.line + 1}, column {mark.column + 1}: {problem}" if mark else problem


def _leaves(value: Any, where: str = ""):
    """``(dotted.key, value)`` of every scalar in a parsed file."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _leaves(v, f"{where}.{k}" if where else str(k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _leaves(v, f"{where}[{i}]")
    else:
        yield where, value


def _normalise(value: Any) -> Any:
    """YAML dates become ISO strings; everything else keeps its type."""
    import datetime as dt

    if isinstance(value, dict):
        return {str(k): _normalise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Merge ``override`` into ``base``: mappings merge key by key, other values replace."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _format_error(path: Path, exc: ValidationError) -> list[str]:
    lines = []
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"]) or "(file)"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        got = err.get("input")
        shown = "" if isinstance(got, (dict, list)) or got is None else f" (got {got!r})"
        lines.append(f"{path}: {key}: {msg}{shown}")
    return lines


class BranchParams(BaseModel):
    """The validated, merged parameters of one branch: common keys plus report sections."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    branch_id: str
    common: Common
    sections: dict[str, Section]
    source_files: tuple[str, ...]

    @field_validator("branch_id")
    @classmethod
    def _branch_id(cls, v: str) -> str:
        return validate_branch_id(v)

    def section(self, report: str) -> Section:
        return self.sections[report]

    def with_locale(self, locale: str) -> BranchParams:
        """These parameters with ``locale`` in place of the parameter file's (a report
        asked for in another language: ``branchbook run --locales``); itself when it
        is the same. Raises :class:`ParamsError` for a locale outside ``Locale``."""
        if locale == self.common.locale:
            return self
        try:
            common = Common.model_validate(
                {**self.common.model_dump(by_alias=True), "locale": locale}
            )
        except ValidationError:
            raise ParamsError(
                f"locale is expected to be one of ({', '.join(get_args(Locale))}). "
                f"Got {locale!r} instead."
            ) from None
        return self.model_copy(update={"common": common})

    def notebook_parameters(
        self, report: str, *, period: str, build_dir: str, run_id: str = ""
    ) -> dict[str, Any]:
        """The flat values papermill injects into ``report``'s parameters cell."""
        c = self.common
        return {
            "branch_id": self.branch_id,
            "period": period,
            "locale": c.locale,
            "scope": "branch",
            "build_dir": build_dir,
            "run_id": run_id,
            "settings": self.sections[report].model_dump(mode="json", by_alias=True),
            "common": c.model_dump(mode="json", by_alias=True),
        }


def validate_branch_id(value: Any) -> str:
    """A branch id is a short code of letters, digits, ``_`` or ``-``: never a path or pattern."""
    if not isinstance(value, str):
        raise ParamsError(f"branch id must be a string, got {type(value).__name__} {value!r}")
    if not BRANCH_ID_RE.match(value):
        raise ParamsError(
            f"branch id {value!r} is not allowed: use 1-32 letters, digits, '_' or '-', "
            "starting with a letter or digit"
        )
    return value


def validate_period(value: Any) -> str:
    """A period is a month ``YYYY-MM``."""
    if not isinstance(value, str) or not PERIOD_RE.match(value):
        raise ParamsError(f"period is expected as YYYY-MM (e.g. 2026-10). Got {value!r} instead.")
    return value


def _validate(data: Mapping[str, Any], path: Path, classes: Mapping[str, type[Section]]):
    errors: list[str] = []
    common_keys = set(Common.model_fields) | {"bank_name"}
    common_data = {k: v for k, v in data.items() if k in common_keys}
    unknown = [k for k in data if k not in common_keys and k not in classes]
    for key in unknown:
        allowed = ", ".join(sorted(common_keys | set(classes)))
        errors.append(f"{path}: {key}: unknown key (allowed: {allowed})")
    common = None
    try:
        common = Common.model_validate(common_data)
    except ValidationError as exc:
        errors += _format_error(path, exc)
    sections: dict[str, Section] = {}
    for name, cls in classes.items():
        raw = data.get(name, {})
        if not isinstance(raw, Mapping):
            errors.append(f"{path}: {name}: expected a mapping, got {type(raw).__name__}")
            continue
        try:
            sections[name] = cls.model_validate(dict(raw))
        except ValidationError as exc:
            errors += [
                line.replace(f"{path}: ", f"{path}: {name}.", 1)
                for line in _format_error(path, exc)
                # a shared key's error is named once, at the top, by the common keys
                if not any(line.startswith(f"{path}: {k}") for k in cls.SHARED)
            ]
    if errors:
        raise ParamsError("\n".join(errors))
    return common, sections


def _share(data: dict[str, Any], path: Path, classes: Mapping[str, type[Section]], top: Path):
    """``data`` with each top-level shared key handed to the report sections that read
    it; a shared key written inside a report section is refused (it has one key)."""
    for name, raw in data.items():
        if name in SHARED_KEYS or not isinstance(raw, Mapping):
            continue
        for key in SHARED_KEYS:
            if key in raw:
                raise ParamsError(
                    f"{path}: {name}.{key}: set it once, as the top-level {key}: of {top} "
                    "(every report and branch reads the same value)"
                )
    out = dict(data)
    for name, cls in classes.items():
        given = {k: data[k] for k in cls.SHARED if k in data}
        if given and isinstance(data.get(name, {}), Mapping):
            out[name] = {**dict(data.get(name, {})), **given}
    return out


def _no_branch_percentiles(path: Path, name: str, section: Any, bank_file: Path) -> None:
    """A branch file may set fixed ``kpi_status`` thresholds, never a percentile rule: its
    cut-offs are computed once per period for the whole bank, with the bank's percentiles."""
    rules = section.get("kpi_status") if isinstance(section, Mapping) else None
    for kpi, rule in rules.items() if isinstance(rules, Mapping) else ():
        if isinstance(rule, Mapping) and "rule" in rule:
            raise ParamsError(
                f"{path}: {name}.kpi_status.{kpi}.rule: can only be set in {bank_file} "
                "(a percentile rule compares the bank's branches, with the bank's percentiles); "
                "a branch file may set fixed thresholds (good, green, amber)"
            )


def _whole_rules(merged: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``merged`` with each ``kpi_status`` entry of a branch file taken whole: a branch's
    fixed thresholds replace the bank's rule for that KPI, never mix with it."""
    for name, section in override.items():
        rules = section.get("kpi_status") if isinstance(section, Mapping) else None
        if isinstance(rules, Mapping) and isinstance(merged.get(name), Mapping):
            merged[name] = {**merged[name], "kpi_status": {**merged[name]["kpi_status"], **rules}}
    return merged


class ParamSet:
    """All parameter files of a bank, read once and validated on demand.

    >>> ps = ParamSet("params")              # doctest: +SKIP
    >>> ps.for_branch("0101").common.locale  # doctest: +SKIP
    'en'
    """

    def __init__(
        self,
        params_dir: str | Path = "params",
        sections: Mapping[str, type[Section]] | None = None,
    ):
        """``sections``: each report's ``Settings`` class by report name
        (:func:`branchbook.reports.settings_classes`); without them only the common keys
        are known, and a report section in a file is an unknown key."""
        self.dir = Path(params_dir)
        self.bank_file = self.dir / "bank.yaml"
        if not self.bank_file.is_file():
            raise ParamsError(
                f"{self.bank_file}: file not found (the bank's defaults are required)"
            )
        self.classes = dict(sections or {})
        self.bank = _share(read_yaml(self.bank_file), self.bank_file, self.classes, self.bank_file)
        _validate(self.bank, self.bank_file, self.classes)

    def branch_file(self, branch_id: str) -> Path:
        return self.dir / "branches" / f"{validate_branch_id(branch_id)}.yaml"

    def branch_files(self) -> dict[str, Path]:
        """Branch override files present, by branch id (file stem)."""
        folder = self.dir / "branches"
        out = {}
        try:
            paths = sorted(folder.iterdir()) if folder.is_dir() else []
        except OSError as exc:
            raise ParamsError(f"{folder}: cannot read the folder ({exc.strerror})") from None
        for path in paths:
            if path.suffix != ".yaml" or not path.is_file():
                raise ParamsError(
                    f"{path}: not a branch parameter file: {folder} holds only "
                    "<branch_id>.yaml files (rename it, or move it elsewhere)"
                )
            try:
                out[validate_branch_id(path.stem)] = path
            except ParamsError as exc:
                raise ParamsError(f"{path}: file name is not a valid branch id: {exc}") from None
        return out

    def for_branch(self, branch_id: str) -> BranchParams:
        """Merged, validated parameters of one branch (bank defaults if it has no file)."""
        path = self.branch_file(branch_id)
        override = read_yaml(path) if path.is_file() else {}
        for key in ("bank_name", *SHARED_KEYS):
            if key in override:
                raise ParamsError(
                    f"{path}: {key}: can only be set in {self.bank_file}"
                    + (
                        ""
                        if key == "bank_name"
                        else " (every branch's tiers, scale and balance basis are the same)"
                    )
                )
        _share(override, path, {}, self.bank_file)
        for name, section in override.items():
            _no_branch_percentiles(path, name, section, self.bank_file)
            bank_only = getattr(self.classes.get(name), "BANK_ONLY", ())
            for key in section if isinstance(section, Mapping) else ():
                if key in bank_only:
                    raise ParamsError(
                        f"{path}: {name}.{key}: can only be set in {self.bank_file} "
                        "(it is used once for the whole bank, so every branch is measured the same way)"
                    )
        merged = _whole_rules(deep_merge(self.bank, override), override)
        try:
            common, sections = _validate(merged, path if override else self.bank_file, self.classes)
        except ParamsError as exc:
            raise ParamsError(str(exc)) from None
        files = (str(self.bank_file),) + ((str(path),) if override else ())
        return BranchParams(
            branch_id=branch_id, common=common, sections=sections, source_files=files
        )

    def for_scope(self, folder: str) -> BranchParams:
        """The bank's parameters (no branch's overrides) for a region's or the bank's
        reports, published under ``folder`` (``region-East``, ``bank``)."""
        merged = _whole_rules(deep_merge(self.bank, {}), {})
        common, sections = _validate(merged, self.bank_file, self.classes)
        return BranchParams(
            branch_id=folder, common=common, sections=sections, source_files=(str(self.bank_file),)
        )

    def check_all(self, branch_ids: list[str]) -> dict[str, BranchParams]:
        """Validate every override file and the given branches; all errors at once.

        A branch file whose branch is not in ``branch_ids`` (the warehouse's
        branches) is an error too: it would otherwise be silently ignored.
        """
        errors = []
        known = set(branch_ids)
        for bid, path in self.branch_files().items():
            if bid not in known:
                errors.append(f"{path}: branch {bid!r} is not in the warehouse's branches table")
        out = {}
        for bid in branch_ids:
            try:
                out[bid] = self.for_branch(bid)
            except ParamsError as exc:
                errors.append(str(exc))
        if errors:
            raise ParamsError("\n".join(errors))
        return out
