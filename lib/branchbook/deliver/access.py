"""Who is who: the access list, ``params/access.yaml``.

The access list is a parameter file, not a warehouse table: who may read which branch is
a decision of the bank's security owners, reviewed and versioned like every other
parameter, and it must hold even when the warehouse is being reloaded. It is read with
the same strict loader (:func:`branchbook.params.read_yaml`) and validated before
anything is sent or served: an unknown unit, report or key, a duplicate id, a malformed
address is an error naming the file and the entry.

Each person has an id, a name, an email address, a locale, the units they may see
(``branch:0101``, ``region:North`` from the warehouse's ``branches.region``, or
``bank``), the reports they receive, the formats attached, and whether they get alerts.
Passwords for the portal's built-in login are stored only as hashes
(:mod:`branchbook.serve.passwords`); mail server credentials never appear here (they
come from the environment, see :mod:`branchbook.deliver.smtp`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator

from .. import orgtree
from ..errors import ParamsError
from ..params import Locale, Section, read_yaml
from ..reports import ORDER

ACCESS_FILE = "access.yaml"
ID_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
# a plain address: local part, @, a dotted domain; no display names, no spaces, no commas
EMAIL_RE = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
HASH_RE = re.compile(r"^scrypt\$(\d{1,8})\$\d{1,2}\$\d{1,2}\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$")
UNIT_RE = re.compile(r"^(bank|branch:[A-Za-z0-9_-]+|region:[^\s:]+)$")


class Threshold(Section):
    """An alert line for one headline KPI, beside its red status: ``above`` or ``below``."""

    above: float | None = None
    below: float | None = None


class Smtp(Section):
    """The mail server. Login (user and password) comes from the environment only."""

    host: str = "localhost"
    port: int = Field(default=587, ge=1, le=65535)
    sender: str = "branchbook@localhost"
    ca_file: str | None = None
    timeout_s: float = Field(default=30.0, gt=0, le=600)
    attempts: int = Field(default=3, ge=1, le=10)
    backoff_s: float = Field(default=2.0, ge=0, le=300)

    @field_validator("sender")
    @classmethod
    def _sender(cls, v: str) -> str:
        return _email(v)


class Delivery(Section):
    """How messages are made: the portal's address (links), the attachment size limit."""

    portal_url: str = Field(default="http://localhost:8080/", pattern=r"^https?://\S+/$")
    attach_limit_mb: float = Field(default=10.0, gt=0, le=100)
    thresholds: dict[str, Threshold] = {}

    @field_validator("thresholds")
    @classmethod
    def _keys(cls, v: dict[str, Threshold]) -> dict[str, Threshold]:
        for key in v:
            report, _, kpi = key.partition(".")
            if report not in ORDER or not kpi:
                raise ValueError(
                    f"threshold key {key!r} is expected as <report>.<kpi> with a report "
                    f"among ({', '.join(ORDER)})"
                )
        return v


class Portal(Section):
    """What the portal trusts: a front server's identity header, from these addresses
    only; or its own login against the password hashes below."""

    identity_header: str | None = Field(default=None, pattern=r"^[A-Za-z0-9-]+$")
    trusted_proxies: tuple[str, ...] = ()
    login: bool = True


class Person(Section):
    id: str
    name: str = Field(min_length=1)
    email: str
    locale: Locale = "en"
    units: tuple[str, ...] = Field(min_length=1)
    reports: tuple[str, ...] = ORDER
    formats: tuple[Literal["pdf", "html"], ...] = ("pdf",)
    alerts: bool = False
    password_hash: str | None = None

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not ID_RE.match(v):
            raise ValueError(
                f"id {v!r} is not allowed: 1-64 lower-case letters, digits, '.', '_' or '-'"
            )
        return v

    @field_validator("email")
    @classmethod
    def _email(cls, v: str) -> str:
        return _email(v)

    @field_validator("units")
    @classmethod
    def _units(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for unit in v:
            if not UNIT_RE.match(unit):
                raise ValueError(f"unit {unit!r} is expected as bank, branch:<id> or region:<name>")
        return v

    @field_validator("password_hash")
    @classmethod
    def _hash(cls, v: str | None) -> str | None:
        m = HASH_RE.match(v or "")
        if v is not None and not (m and 2 <= int(m.group(1)) <= 2**20):
            raise ValueError(
                "password_hash is expected as made by `branchbook hash-password` "
                "(scrypt$<n>$<r>$<p>$<salt>$<key>), never a password"
            )
        return v

    @field_validator("reports")
    @classmethod
    def _reports(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [r for r in v if r not in ORDER]
        if unknown:
            raise ValueError(f"report {unknown[0]!r} is expected to be one of ({', '.join(ORDER)})")
        return v


def _email(v: str) -> str:
    if not EMAIL_RE.match(v):
        raise ValueError(f"{v!r} is not an email address (name@domain)")
    return v


@dataclass(frozen=True)
class Org:
    """The organisation tree: each branch's region (``branches.region``) and, for a
    sub-branch, its parent branch (``branches.parent_id``)."""

    regions: Mapping[str, str]  # branch id -> region
    parents: Mapping[str, str | None] = field(default_factory=dict)  # branch -> parent

    @cached_property
    def tree(self) -> orgtree.OrgTree:
        return orgtree.OrgTree.of((b, r, self.parents.get(b)) for b, r in self.regions.items())

    def branches(self, unit: str) -> frozenset[str]:
        """The branches a unit covers (a branch its sub-branches too); empty for a unit
        the tree does not know."""
        if unit == "bank":
            return frozenset(self.regions)
        kind, _, name = unit.partition(":")
        if kind == "branch":
            return frozenset(self.tree.branches(unit)) if name in self.regions else frozenset()
        return frozenset(b for b, r in self.regions.items() if r == name)

    @cached_property
    def scopes(self) -> dict[str, frozenset[str]]:
        """Each region's and the bank's report folder (``region-<name>``, ``bank``)
        -> the branches its reports pool."""
        out = {
            orgtree.folder(f"region:{r}"): self.branches(f"region:{r}")
            for r in sorted(set(self.regions.values()))
            if r
        }
        return out | {"bank": frozenset(self.regions)}


def org_from_warehouse(source=None, *, time_zone: str = "Asia/Shanghai") -> Org:
    """The tree as the warehouse's ``branches`` table has it (``parent_id`` when the
    table records sub-branches)."""
    from ..warehouse import open_warehouse

    con = open_warehouse(source, time_zone=time_zone)
    try:
        columns = {c[0] for c in con.execute("SELECT * FROM branches LIMIT 0").description}
        parent = "parent_id" if "parent_id" in columns else "NULL"
        rows = con.execute(f"SELECT branch_id, region, {parent} FROM branches").fetchall()
    finally:
        con.close()
    return Org(
        {str(b): str(r) for b, r, _ in rows},
        {str(b): (None if p is None or str(p) == "" else str(p)) for b, _, p in rows},
    )


@dataclass(frozen=True)
class AccessList:
    """The validated access list; :meth:`branches` resolves what a person may see."""

    path: Path
    people: Mapping[str, Person]
    org: Org
    smtp: Smtp
    delivery: Delivery
    portal: Portal

    def branches(self, person_id: str) -> frozenset[str]:
        """Every branch ``person_id`` may see; empty for an unknown person."""
        person = self.people.get(person_id)
        if person is None:
            return frozenset()
        return frozenset().union(*(self.org.branches(u) for u in person.units))

    def folders(self, person_id: str) -> frozenset[str]:
        """Every report folder ``person_id`` may see: the branches of their units, and
        a region's (``region-<name>``) or the bank's (``bank``) folder when their units
        cover every branch it pools (a region head, head office): a region's or the
        bank's report holds every one of those branches' figures, so a branch manager
        never sees one."""
        mine = self.branches(person_id)
        return mine | {f for f, pooled in self.org.scopes.items() if pooled and pooled <= mine}

    def may_see(self, person_id: str, branch: str, report: str) -> bool:
        """``branch`` is a report folder: a branch id, ``region-<name>`` or ``bank``."""
        person = self.people.get(person_id)
        return person is not None and report in person.reports and branch in self.folders(person_id)

    def may_see_pack(self, person_id: str, branch: str, reports: Iterable[str]) -> bool:
        """A branch's pack holds ``reports``: whoever may see each of them may see it."""
        reports = list(reports)
        return bool(reports) and all(self.may_see(person_id, branch, r) for r in reports)

    def responsible(self, branch: str) -> list[Person]:
        """People whose units include ``branch`` and who asked for alerts."""
        return [p for p in self.people.values() if p.alerts and branch in self.branches(p.id)]


def load(params_dir: str | Path, org: Org) -> AccessList:
    """Read and validate ``<params_dir>/access.yaml`` against ``org``; every error at once."""
    path = Path(params_dir) / ACCESS_FILE
    if not path.is_file():
        raise ParamsError(f"{path}: file not found (the access list says who receives what)")
    data = read_yaml(path)
    errors: list[str] = []
    allowed = {"smtp", "delivery", "portal", "people"}
    for key in data:
        if key not in allowed:
            errors.append(f"{path}: {key}: unknown key (allowed: {', '.join(sorted(allowed))})")
    sections = {}
    for key, cls in (("smtp", Smtp), ("delivery", Delivery), ("portal", Portal)):
        try:
            sections[key] = cls.model_validate(_tuples(data.get(key) or {}))
        except ValidationError as exc:
            errors += _lines(path, key, exc)
    raw_people = data.get("people")
    if not isinstance(raw_people, list) or not raw_people:
        errors.append(f"{path}: people: expected a list of at least one person")
        raw_people = []
    people: dict[str, Person] = {}
    for i, raw in enumerate(raw_people):
        where = f"people[{i}]" + (f" ({raw.get('id')})" if isinstance(raw, dict) else "")
        try:
            person = Person.model_validate(_tuples(raw))
        except ValidationError as exc:
            errors += _lines(path, where, exc)
            continue
        if person.id in people:
            errors.append(f"{path}: {where}: id {person.id!r} is given twice; give each once")
            continue
        for unit in person.units:
            if not org.branches(unit):
                known = ", ".join(sorted(set(org.regions.values())))
                errors.append(
                    f"{path}: {where}: unit {unit!r} is not in the warehouse's branches "
                    f"(regions: {known})"
                )
        people[person.id] = person
    if errors:
        raise ParamsError("\n".join(errors))
    return AccessList(path=path, people=people, org=org, **sections)


def _tuples(raw):
    """YAML lists as tuples (the models are strict)."""
    if isinstance(raw, dict):
        return {k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()}
    return raw


def _lines(path: Path, where: str, exc: ValidationError) -> list[str]:
    out = []
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"])
        msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
        msg = msg.removeprefix("Value error, ")
        out.append(f"{path}: {where}{'.' + key if key else ''}: {msg}")
    return out
