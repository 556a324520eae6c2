"""The data contract: the warehouse tables as data, and their validation.

:data:`TABLES` lists every table (in dependency order) with its columns, their DuckDB
logical types, nullability, key, foreign keys, domains, ranges, formats and row-order
rules. Other modules import it to know table names, columns and types;
:meth:`Table.ddl` gives the ``CREATE TABLE`` statement.

:func:`validate` checks a DuckDB connection in which every table is queryable by its
plain name (see :func:`branchbook.warehouse.open_warehouse`) and returns a
:class:`Report`; :func:`check` raises :class:`~branchbook.errors.DataContractError`
listing every error. Each rule is one aggregated SQL query (the row-level rules of a
table share one scan), with at most five example keys, so validation scales to
millions of customers and tens of millions of transactions.

Checking a warehouse of 1,000,000 customers and 48,000,000 transactions takes about
16 s on 2 cores (the duplicate-key checks on the largest tables dominate).

Examples in messages are the row's key (``customer_id=C000123``), never a value of the
row: names, ID numbers and phone numbers are never printed.

Types are checked by family, not by exact name:

========== ==============================================================
declared   accepted DuckDB types
========== ==============================================================
VARCHAR    VARCHAR, ENUM (an id stored as a number has lost its zeros)
BIGINT     any integer type
DOUBLE     any integer, FLOAT, DOUBLE or DECIMAL type
DATE       DATE or a TIMESTAMP type
TIMESTAMP  a TIMESTAMP type or DATE
BOOLEAN    BOOLEAN
========== ==============================================================

Text in a non-text column (``'2024-05-01'`` stored as VARCHAR for a DATE) is a
``wrong_type`` error; the examples are the rows whose text does not even convert.
:func:`branchbook.warehouse.open_warehouse` converts such columns when every value
converts, so CSV files and text-typed databases pass.

What each table and column is needed for (required, by a report, by a section, or
optional) is in :mod:`branchbook.coverage`: a missing table or column below
``required`` is a note (:attr:`Report.absent`), not an error, and an optional column
is nullable whatever its declaration below says. The real shapes a bank's data holds
on purpose (an overdraft, a loan without a rate) are applied over the declarations at
the end of this module.

Error rules: ``missing_table``, ``missing_column``, ``wrong_type``, ``null`` (in a
non-nullable column), ``duplicate_key``, ``orphan`` (a foreign key with no parent row),
``cycle``, ``region_mismatch`` and ``unreachable`` (the organisation tree, see
:mod:`branchbook.orgtree`), ``domain``, ``range`` (including NaN and infinities), ``format`` (``month`` and
``period`` are ``YYYY-MM``), ``order`` (``closed_on >= opened_on``, an alert's
``closed_on >= raised_on``, ``maturity_on >= originated_on``, complaint response, plan and resolution times ``>= received_at``), and
``unreadable`` (the table could not be scanned, e.g. a broken file).

Warning rules (reported, never raised):

- ``stale_complaint``: a complaint still open more than 90 days after it was received,
  as of ``as_of`` (default: the latest ``received_at`` in the table);
- ``empty_survey``: a survey response with all six attribute ratings missing;
- ``outstanding_above_principal``: a loan snapshot whose outstanding is above 1.2 times
  the loan's principal;
- ``manager_elsewhere``: a customer whose manager works in another branch.

:func:`branch_warnings` gives the same findings per branch they concern (with that
branch's count and example keys), so each report can show its own; the README's
"Warning-level rules" says why each is only a warning.

Conventions the contract fixes beyond the column list: money is in the bank's
currency; financials' flow items (revenue, net_profit, operating_cash_flow) cover the
twelve months ending ``period_end``; ``interest_rate`` is a fraction (0.045 = 4.5%);
``dpd`` is days past due at the month's end; ``balances.deposits`` and ``wealth`` are
the month-end balances (时点) and the optional ``deposits_avg`` and ``wealth_avg`` the
same month's average daily balances (日均: the mean of the month's end-of-day balances;
a customer opened mid-month counts 0 on the days before), which tiers, AUM growth and
the managers' assessment read by default (``balance_basis``,
:mod:`branchbook.metrics.basis`).

Dated history, so that a past month is reported with the status it had then (see the
README's data contract): ``aml_alerts.closed_on`` is the day an alert left ``open``
(closed, or reported to the regulator; empty while open), ``kyc_history`` holds each
customer's KYC status from ``valid_from`` until the next row (the latest row is
``customers.kyc_status``), and ``loans.closed_reason`` says how a loan left the book
(``repaid``, ``written_off``, ``restructured``; empty while on the book).
``customer_branch_history`` holds the branch holding each customer from ``valid_from``
until the customer's next row (no row before the customer opened; the latest row names
``customers.branch_id``): prepare reads ``customers`` as of the period's end by it
(:mod:`branchbook.holding`).
``loan_snapshots.undrawn`` is the committed amount not yet drawn at the month's end (a
line's limit less its balance); exposure at default adds a credit conversion factor of
it. These are optional (:data:`OPTIONAL_TABLES`, :data:`OPTIONAL_COLUMNS`): without them a report uses
today's status and says so.

``staff_training`` holds the courses a manager completed (``hours`` each) and
``staff_certifications`` the professional certifications a manager holds (``primary``,
``intermediate``, ``advanced``: 初级, 中级, 高级) from ``obtained_on``; both optional,
read by the staff KPI report's development section (left out without them).

``loans.collateral_valued_on`` is the day ``collateral_value`` was last appraised
(revalued). Empty where a value has no recorded date ("date not recorded"); like every
date it is a warning when it lies after the data's latest month. A column, not a dated
table of appraisals, is enough for what the risk report states: the value and its date
as of the period's end, and whether the next revaluation was due by then. For the
latest period the latest appraisal is that value. For an earlier period an appraisal
made after the period's end has replaced the one that stood then; the report says how
many such loans it cannot judge rather than guessing (a bank that keeps every
appraisal would need a dated table to report past periods exactly). Without the column
the risk report's revaluation list is left out and says "revaluation dates not
recorded".
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Literal

import duckdb

from . import coverage, orgtree
from .errors import DataContractError

VARCHAR, DATE, TIMESTAMP, DOUBLE, BIGINT, BOOLEAN = (
    "VARCHAR",
    "DATE",
    "TIMESTAMP",
    "DOUBLE",
    "BIGINT",
    "BOOLEAN",
)

FORMATS = {"YYYY-MM": r"^[0-9]{4}-(0[1-9]|1[0-2])$"}
"""Text formats by name: the regular expression a value must match in full."""

EXAMPLES = 5
"""How many example keys a violation carries."""


@dataclass(frozen=True)
class Column:
    """One column: its DuckDB type and the rules its values obey."""

    name: str
    type: str
    nullable: bool = False
    domain: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None
    low_exclusive: bool = False
    format: str | None = None
    references: str | None = None
    personal: bool = False

    def range_text(self) -> str:
        """The range rule in words, e.g. ``must be 1..5`` or ``must be > 0``."""
        if self.low is not None and self.high is not None:
            return f"must be {_num(self.low)}..{_num(self.high)}"
        if self.low is not None:
            return f"must be {'>' if self.low_exclusive else '>='} {_num(self.low)}"
        if self.high is not None:
            return f"must be <= {_num(self.high)}"
        return "must be finite"


@dataclass(frozen=True)
class Table:
    """One table: ordered columns, key, and row-order rules ``(later, earlier)``."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    order: tuple[tuple[str, str], ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        """Column names in contract order."""
        return tuple(c.name for c in self.columns)

    @property
    def types(self) -> dict[str, str]:
        """Column name -> declared DuckDB type."""
        return {c.name: c.type for c in self.columns}

    @property
    def foreign_keys(self) -> tuple[tuple[str, str, str], ...]:
        """``(column, parent_table, parent_column)`` for each reference."""
        return tuple((c.name, *c.references.split(".", 1)) for c in self.columns if c.references)

    def column(self, name: str) -> Column:
        """The column called ``name`` (KeyError if the contract has none)."""
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no column {name!r}")

    def ddl(self, *, constraints: bool = True) -> str:
        """``CREATE TABLE`` statement with the declared types.

        With ``constraints`` (the default) also ``NOT NULL`` and the primary key; leave
        them out for bulk loads, where DuckDB's key index costs memory and time.
        """
        cols = [
            f"{_q(c.name)} {c.type}{'' if c.nullable or not constraints else ' NOT NULL'}"
            for c in self.columns
        ]
        if constraints:
            cols.append(f"PRIMARY KEY ({', '.join(_q(k) for k in self.key)})")
        return f"CREATE TABLE {_q(self.name)} (\n    " + ",\n    ".join(cols) + "\n)"


def _id(name: str, ref: str | None = None, nullable: bool = False) -> Column:
    return Column(name, VARCHAR, nullable, references=ref)


def _text(name: str, nullable: bool = False, personal: bool = False) -> Column:
    return Column(name, VARCHAR, nullable, personal=personal)


def _enum(name: str, values: str, nullable: bool = False) -> Column:
    return Column(name, VARCHAR, nullable, domain=tuple(values.split()))


def _date(name: str, nullable: bool = False, personal: bool = False) -> Column:
    return Column(name, DATE, nullable, personal=personal)


def _ts(name: str, nullable: bool = False) -> Column:
    return Column(name, TIMESTAMP, nullable)


def _money(name: str, nullable: bool = False, signed: bool = False) -> Column:
    return Column(name, DOUBLE, nullable, low=None if signed else 0.0)


def _month(name: str) -> Column:
    return Column(name, VARCHAR, format="YYYY-MM")


def _rating(name: str, low: int, high: int, nullable: bool = False) -> Column:
    return Column(name, BIGINT, nullable, low=low, high=high)


_BRANCH = "branches.branch_id"
_STAFF = "staff.staff_id"
_CUSTOMER = "customers.customer_id"

_TABLE_LIST = (
    Table(
        "branches",
        (
            _id("branch_id"),
            _text("name"),
            _text("name_zh", nullable=True),
            _text("region"),
            _text("city", nullable=True),
            _date("opened_on", nullable=True),
            _id("parent_id", _BRANCH, nullable=True),
        ),
        key=("branch_id",),
    ),
    Table(
        "staff",
        (
            _id("staff_id"),
            _id("branch_id", _BRANCH),
            _text("name", personal=True),
            _enum("grade", "assistant professional senior"),
            _date("hired_on"),
            Column("active", BOOLEAN),
        ),
        key=("staff_id",),
    ),
    Table(
        "customers",
        (
            _id("customer_id"),
            _id("branch_id", _BRANCH),
            _id("manager_id", _STAFF, nullable=True),
            _enum("customer_type", "individual corporate"),
            _text("name", personal=True),
            _text("id_number", personal=True),
            _text("phone", personal=True),
            _date("birth_date", nullable=True, personal=True),
            _enum("gender", "M F", nullable=True),
            _text("industry", nullable=True),
            _date("opened_on"),
            _date("closed_on", nullable=True),
            _enum("risk_appetite", "R1 R2 R3 R4 R5"),
            _enum("kyc_status", "complete incomplete expired"),
            _enum(
                "occupation",
                "official professional clerk service worker farmer business_owner retired"
                " student other",
                nullable=True,
            ),
            _enum("income_band", "lt_5k 5k_10k 10k_20k 20k_50k ge_50k", nullable=True),
        ),
        key=("customer_id",),
        order=(("closed_on", "opened_on"),),
    ),
    Table(
        "balances",
        (
            _id("customer_id", _CUSTOMER),
            _month("month"),
            _money("deposits"),
            _money("wealth"),
            _money("loans_outstanding"),
            Column("products_held", BIGINT, low=0),
            _money("deposits_avg", nullable=True),
            _money("wealth_avg", nullable=True),
        ),
        key=("customer_id", "month"),
    ),
    Table(
        "transactions",
        (
            _id("txn_id"),
            _id("customer_id", _CUSTOMER),
            _date("txn_date"),
            _enum("channel", "counter atm mobile online pos"),
            Column("amount", DOUBLE, low=0.0, low_exclusive=True),
            _enum("direction", "in out"),
        ),
        key=("txn_id",),
    ),
    Table(
        "loans",
        (
            _id("loan_id"),
            _id("customer_id", _CUSTOMER),
            _id("branch_id", _BRANCH),
            _id("manager_id", _STAFF, nullable=True),
            _enum("product", "mortgage consumer business working_capital trade_finance"),
            _date("originated_on"),
            _date("maturity_on"),
            Column("principal", DOUBLE, low=0.0, low_exclusive=True),
            Column("interest_rate", DOUBLE, low=0.0, high=1.0),
            _enum("collateral_type", "none real_estate equipment receivables guarantee deposit"),
            _money("collateral_value", nullable=True),
            _text("industry", nullable=True),
            _enum("closed_reason", "repaid written_off restructured", nullable=True),
            _date("collateral_valued_on", nullable=True),
        ),
        key=("loan_id",),
        order=(("maturity_on", "originated_on"),),
    ),
    Table(
        "loan_snapshots",
        (
            _id("loan_id", "loans.loan_id"),
            _month("month"),
            _money("outstanding"),
            Column("dpd", BIGINT, low=0),
            _enum("five_class", "pass special_mention substandard doubtful loss"),
            _money("undrawn", nullable=True),
        ),
        key=("loan_id", "month"),
    ),
    Table(
        "financials",
        (
            _id("customer_id", _CUSTOMER),
            _date("period_end"),
            _money("revenue"),
            _money("net_profit", signed=True),
            _money("total_assets"),
            _money("total_liabilities"),
            _money("current_assets", nullable=True),
            _money("current_liabilities", nullable=True),
            _money("inventory", nullable=True),
            _money("receivables", nullable=True),
            _money("operating_cash_flow", nullable=True, signed=True),
        ),
        key=("customer_id", "period_end"),
    ),
    Table(
        "surveys",
        (
            _id("response_id"),
            _id("customer_id", _CUSTOMER),
            _id("branch_id", _BRANCH),
            _id("manager_id", _STAFF, nullable=True),
            _date("responded_on"),
            _enum("channel", "counter mobile phone online"),
            _rating("csat", 1, 5),
            _rating("nps", 0, 10),
            _rating("wait_time", 1, 5, nullable=True),
            _rating("attitude", 1, 5, nullable=True),
            _rating("professionalism", 1, 5, nullable=True),
            _rating("explanation", 1, 5, nullable=True),
            _rating("environment", 1, 5, nullable=True),
            _rating("digital", 1, 5, nullable=True),
        ),
        key=("response_id",),
    ),
    Table(
        "complaints",
        (
            _id("complaint_id"),
            _id("customer_id", _CUSTOMER),
            _id("branch_id", _BRANCH),
            _id("manager_id", _STAFF, nullable=True),
            _ts("received_at"),
            _ts("first_response_at", nullable=True),
            _ts("plan_at", nullable=True),
            _ts("resolved_at", nullable=True),
            _enum("category", "product service process policy"),
            _enum("channel", "counter phone mobile online letter"),
            _enum("severity", "low medium high"),
        ),
        key=("complaint_id",),
        order=(
            ("first_response_at", "received_at"),
            ("plan_at", "received_at"),
            ("resolved_at", "received_at"),
        ),
    ),
    Table(
        "aml_alerts",
        (
            _id("alert_id"),
            _id("customer_id", _CUSTOMER),
            _date("raised_on"),
            _enum(
                "alert_type",
                "large_cash structuring rapid_movement high_risk_country unusual_pattern",
            ),
            _enum("status", "open closed reported"),
            _date("closed_on", nullable=True),
        ),
        key=("alert_id",),
        order=(("closed_on", "raised_on"),),
    ),
    Table(
        "targets",
        (
            _id("staff_id", _STAFF),
            _month("period"),
            _enum(
                "kpi",
                "new_customers net_new_aum deposit_growth loan_growth products_per_customer",
            ),
            _money("target"),
        ),
        key=("staff_id", "period", "kpi"),
    ),
    Table(
        "kyc_history",
        (
            _id("customer_id", _CUSTOMER),
            _date("valid_from"),
            _enum("kyc_status", "complete incomplete expired"),
        ),
        key=("customer_id", "valid_from"),
    ),
    Table(
        "staff_training",
        (
            _id("staff_id", _STAFF),
            _date("completed_on"),
            Column("hours", DOUBLE, low=0.0, low_exclusive=True, high=1000.0),
            _text("course"),
        ),
        key=("staff_id", "completed_on", "course"),
    ),
    Table(
        "staff_certifications",
        (
            _id("staff_id", _STAFF),
            _enum("certification", "primary intermediate advanced"),
            _date("obtained_on"),
        ),
        key=("staff_id", "certification"),
    ),
    Table(
        "customer_branch_history",
        (
            _id("customer_id", _CUSTOMER),
            _date("valid_from"),
            _id("branch_id", _BRANCH),
        ),
        key=("customer_id", "valid_from"),
    ),
    Table(
        "holdings",
        (
            _id("customer_id", _CUSTOMER),
            _month("month"),
            _text("product_id"),
            _enum("product_type", "deposit time_deposit wealth fund insurance bond"),
            _enum("risk_level", "R1 R2 R3 R4 R5"),
            _money("balance"),
        ),
        key=("customer_id", "month", "product_id"),
    ),
    Table(
        "contacts",
        (
            _id("contact_id"),
            _id("customer_id", _CUSTOMER),
            _id("staff_id", _STAFF, nullable=True),
            _date("contacted_on"),
            _enum("channel", "phone visit branch online"),
            _enum("purpose", "follow_up review marketing service", nullable=True),
        ),
        key=("contact_id",),
    ),
)

TABLES: Mapping[str, Table] = MappingProxyType({t.name: t for t in _TABLE_LIST})
"""Every contract table by name, parents before children."""

#: How a table's rows reach a branch (its documented key): table -> (join clause over
#: ``t``, the branch column). The warehouse's and the server's fingerprints both use it.
BRANCH_ROUTES: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "branches": ("", "t.branch_id"),
        "staff": ("", "t.branch_id"),
        "customers": ("", "t.branch_id"),
        "balances": ("JOIN customers AS p ON t.customer_id = p.customer_id", "p.branch_id"),
        "transactions": ("JOIN customers AS p ON t.customer_id = p.customer_id", "p.branch_id"),
        "loans": ("", "t.branch_id"),
        "loan_snapshots": ("JOIN loans AS p ON t.loan_id = p.loan_id", "p.branch_id"),
        "financials": ("JOIN customers AS p ON t.customer_id = p.customer_id", "p.branch_id"),
        "surveys": ("", "t.branch_id"),
        "complaints": ("", "t.branch_id"),
        "aml_alerts": ("JOIN customers AS p ON t.customer_id = p.customer_id", "p.branch_id"),
        "targets": ("JOIN staff AS p ON t.staff_id = p.staff_id", "p.branch_id"),
        "kyc_history": ("JOIN customers AS p ON t.customer_id = p.customer_id", "p.branch_id"),
        "staff_training": ("JOIN staff AS p ON t.staff_id = p.staff_id", "p.branch_id"),
        "staff_certifications": ("JOIN staff AS p ON t.staff_id = p.staff_id", "p.branch_id"),
        # a move is news to the branch it names (the branch left sees its customers row go)
        "customer_branch_history": ("", "t.branch_id"),
        "holdings": ("JOIN customers AS p ON t.customer_id = p.customer_id", "p.branch_id"),
        "contacts": ("JOIN customers AS p ON t.customer_id = p.customer_id", "p.branch_id"),
    }
)

OPTIONAL_TABLES: frozenset[str] = frozenset(
    {
        "kyc_history",
        "staff_training",
        "staff_certifications",
        "customer_branch_history",
        "holdings",
        "contacts",
    }
)
"""Tables a warehouse may leave out: the reports that read them fall back and say so."""

OPTIONAL_COLUMNS: frozenset[tuple[str, str]] = frozenset(
    {("aml_alerts", "closed_on"), ("loans", "closed_reason"), ("loan_snapshots", "undrawn")}
)
"""``(table, column)`` pairs a warehouse may leave out, with the same fallback."""


SURVEY_RATINGS = (
    "wait_time",
    "attitude",
    "professionalism",
    "explanation",
    "environment",
    "digital",
)
"""The six attribute ratings of a survey response (each 1..5, may be empty)."""

STALE_COMPLAINT_DAYS = 90
OUTSTANDING_LIMIT = 1.2


@dataclass(frozen=True)
class Bounds:
    """What is plausible (``plausibility:`` in ``params/bank.yaml``): a balance or an
    amount above ``max_amount`` (in the bank's currency), a date before
    ``earliest_date`` or after the data's latest month, and a branch whose open
    customers change by more than ``customer_jump`` (a share) from one month to the
    next are warnings: the run goes on, the affected reports say so."""

    max_amount: float = 1e10
    earliest_date: str = "1900-01-01"
    customer_jump: float = 0.3


DEFAULT_BOUNDS = Bounds()
#: Dates that must lie in the plausible window: (table, column).
PLAUSIBLE_DATES = (
    ("customers", "opened_on"),
    ("customers", "birth_date"),
    ("loans", "originated_on"),
    ("loans", "collateral_valued_on"),
    ("staff", "hired_on"),
)
#: Amounts bounded by ``max_amount``: (table, column).
PLAUSIBLE_AMOUNTS = (
    ("balances", "deposits"),
    ("balances", "wealth"),
    ("balances", "loans_outstanding"),
    ("balances", "deposits_avg"),
    ("balances", "wealth_avg"),
    ("transactions", "amount"),
    ("loans", "principal"),
)

_INTEGERS = frozenset(
    "TINYINT SMALLINT INTEGER BIGINT HUGEINT UTINYINT USMALLINT UINTEGER UBIGINT UHUGEINT".split()
)
_TIMESTAMPS = frozenset(
    {"TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS", "TIMESTAMP WITH TIME ZONE"}
)


def compatible(declared: str, found: str) -> bool:
    """Whether a column of DuckDB type ``found`` satisfies the ``declared`` type.

    >>> compatible("BIGINT", "INTEGER"), compatible("DATE", "VARCHAR")
    (True, False)
    """
    found = found.upper()
    if declared == VARCHAR:
        return found == VARCHAR or found.startswith("ENUM")
    if declared == BIGINT:
        return found in _INTEGERS
    if declared == DOUBLE:
        return found in _INTEGERS or found in {"FLOAT", "DOUBLE"} or found.startswith("DECIMAL")
    if declared in (DATE, TIMESTAMP):
        return found == DATE or found in _TIMESTAMPS
    return found == declared


# --- violations and the report ----------------------------------------------------

Level = Literal["error", "warning", "note"]

RULES: Mapping[str, str] = MappingProxyType(
    {
        "missing_table": "table missing",
        "missing_column": "column missing",
        "unreadable": "could not be read",
        "wrong_type": "wrong type",
        "null": "null in a non-nullable column",
        "duplicate_key": "duplicate key",
        "orphan": "orphan foreign key",
        "cycle": "parent chain loops",
        "region_mismatch": "region differs from the parent branch's",
        "unreachable": "does not reach the bank",
        "domain": "value out of domain",
        "range": "value out of range",
        "format": "bad format",
        "order": "dates out of order",
        "stale_complaint": "complaint open too long",
        "empty_survey": "all six attribute ratings missing",
        "outstanding_above_principal": "outstanding above principal",
        "manager_elsewhere": "manager works in another branch",
        "implausible_date": "implausible date",
        "implausible_amount": "implausible amount",
        "customer_count_jump": "customer count jumps",
        "before_opening": "dated before the customer opened",
        "not_current_branch": "latest row is not the customer's branch",
    }
)
"""Rule id -> the words a message uses for it."""


@dataclass(frozen=True)
class Violation:
    """One broken rule: where, which rule, how many rows and a few of their keys."""

    table: str
    column: str | None
    rule: str
    count: int
    examples: tuple[str, ...]
    level: Level = "error"
    key: tuple[str, ...] = ()
    detail: str = ""

    def message(self) -> str:
        """One line, e.g. ``customers.kyc_status: value out of domain (allowed: ...)
        in 3 rows, e.g. customer_id=C000123, C000456``."""
        where = f"{self.table}.{self.column}" if self.column else self.table
        text = f"{where}: {RULES.get(self.rule, self.rule)}"
        if self.detail:
            text += f" ({self.detail})"
        if self.count:
            text += f" in {self.count} row{'' if self.count == 1 else 's'}"
        if self.examples:
            name = self.key[0] if len(self.key) == 1 else f"({', '.join(self.key)})"
            text += f", e.g. {name}={', '.join(self.examples)}"
        return text


@dataclass
class Report:
    """What :func:`validate` found: errors break the contract, warnings do not."""

    errors: list[Violation] = field(default_factory=list)
    warnings: list[Violation] = field(default_factory=list)
    absent: list[Violation] = field(default_factory=list)
    """Tables and columns missing that are not required (level ``note``): what they
    are needed for is in :mod:`branchbook.coverage`; they remove sections or reports,
    never the whole run."""

    @property
    def ok(self) -> bool:
        """True when there are no errors."""
        return not self.errors

    def lines(self) -> list[str]:
        """One line per violation, errors first, each prefixed with its level."""
        return [f"{v.level}: {v.message()}" for v in (*self.errors, *self.warnings)]

    def __str__(self) -> str:
        if not self.errors and not self.warnings:
            return "data contract: ok"
        return "\n".join(self.lines())


def check(
    con: duckdb.DuckDBPyConnection, *, as_of: dt.date | None = None, bounds: Bounds = DEFAULT_BOUNDS
) -> Report:
    """Validate and raise :class:`DataContractError` listing every error.

    Returns the report (whose ``warnings`` may be non-empty) when there is no error.
    """
    report = validate(con, as_of=as_of, bounds=bounds)
    if report.errors:
        n = len(report.errors)
        lines = "\n".join(f"  {v.message()}" for v in report.errors)
        raise DataContractError(
            f"the warehouse breaks the data contract ({n} error{'' if n == 1 else 's'}):\n{lines}"
        )
    return report


def validate(
    con: duckdb.DuckDBPyConnection, *, as_of: dt.date | None = None, bounds: Bounds = DEFAULT_BOUNDS
) -> Report:
    """Check every contract table visible on ``con`` and return a :class:`Report`.

    ``as_of`` is the date the stale-complaint warning counts from; by default the
    latest ``received_at`` in ``complaints``. Rules on a column are skipped when the
    column is missing or has the wrong type (that is reported once instead).
    """
    found: dict[str, dict[str, str]] = {}
    out: list[Violation] = []
    for table in TABLES.values():
        columns = _describe(con, table.name)
        if isinstance(columns, Violation):
            if not (columns.rule == "missing_table" and table.name in OPTIONAL_TABLES):
                out.append(columns)
            continue
        found[table.name] = columns
    usable = {name: _usable(TABLES[name], cols) for name, cols in found.items()}
    for name, cols in found.items():
        table = TABLES[name]
        out += _column_problems(table, cols)
        out += _row_rules(con, table, cols, usable[name])
        out += _duplicates(con, table, usable[name])
    for name in found:
        out += _orphans(con, TABLES[name], usable)
    out += _tree(con, usable.get("branches", set()))
    out += _branch_history(con, usable)
    out += _warnings(con, usable, as_of, bounds)
    out = [_absent_is_a_note(v) for v in out]
    return Report(
        errors=[v for v in out if v.level == "error"],
        warnings=[v for v in out if v.level == "warning"],
        absent=[v for v in out if v.level == "note"],
    )


def _absent_is_a_note(v: Violation) -> Violation:
    """A missing table or column below the ``required`` tier is a note, not an error."""
    if (
        v.rule in ("missing_table", "missing_column")
        and coverage.need(v.table, v.column).tier != "required"
    ):
        return replace(v, level="note")
    return v


def found_columns(con: duckdb.DuckDBPyConnection) -> dict[str, set[str]]:
    """Each contract table present on ``con`` -> its contract columns present with a
    usable type: what :func:`branchbook.coverage.verdict` judges."""
    out = {}
    for table in TABLES.values():
        cols = _describe(con, table.name)
        if not isinstance(cols, Violation):
            out[table.name] = _usable(table, cols)
    return out


# --- the rules as SQL ----------------------------------------------------------------


def _describe(con, name: str) -> dict[str, str] | Violation:
    """Column name -> DuckDB type, or the violation that the table is absent."""
    try:
        rows = con.execute(f"DESCRIBE SELECT * FROM {_q(name)}").fetchall()
    except duckdb.CatalogException:
        return Violation(name, None, "missing_table", 0, ())
    except duckdb.Error as exc:
        return Violation(name, None, "unreadable", 0, (), detail=_scrub(exc))
    return {r[0]: r[1] for r in rows}


def _usable(table: Table, cols: dict[str, str]) -> set[str]:
    """Columns present with a compatible type: the ones value rules may touch."""
    return {c.name for c in table.columns if c.name in cols and compatible(c.type, cols[c.name])}


def _column_problems(table: Table, cols: dict[str, str]) -> list[Violation]:
    out = []
    for c in table.columns:
        if c.name not in cols:
            if (table.name, c.name) not in OPTIONAL_COLUMNS:
                out.append(Violation(table.name, c.name, "missing_column", 0, ()))
        elif not compatible(c.type, cols[c.name]) and cols[c.name].upper() != VARCHAR:
            detail = f"declared {c.type}, found {cols[c.name]}"
            out.append(Violation(table.name, c.name, "wrong_type", 0, (), detail=detail))
    return out


def _row_rules(con, table: Table, cols: dict[str, str], ok: set[str]) -> list[Violation]:
    """Null, domain, range, format, order and text-typed columns: one scan per table."""
    checks: list[tuple[str, str, str, str]] = []  # column, rule, detail, predicate
    for c in table.columns:
        if c.name not in cols:
            continue
        q = _q(c.name)
        if not c.nullable:
            checks.append((c.name, "null", "", f"{q} IS NULL"))
        if c.name not in ok:  # text where a number or a date was declared
            if cols[c.name].upper() != VARCHAR:
                continue  # another non-text type: _column_problems reported it, once
            detail = f"declared {c.type}, found {cols[c.name]}"
            pred = f"{q} IS NOT NULL AND TRY_CAST({q} AS {c.type}) IS NULL"
            checks.append((c.name, "wrong_type", detail, pred))
            continue
        if c.domain:
            values = ", ".join(_lit(v) for v in c.domain)
            detail = f"allowed: {', '.join(c.domain)}"
            checks.append((c.name, "domain", detail, f"{q} NOT IN ({values})"))
        if c.type == DOUBLE or c.low is not None or c.high is not None:
            parts = [f"NOT isfinite({q})"] if c.type == DOUBLE else []
            if c.low is not None:
                parts.append(f"{q} {'<=' if c.low_exclusive else '<'} {c.low!r}")
            if c.high is not None:
                parts.append(f"{q} > {c.high!r}")
            checks.append((c.name, "range", c.range_text(), " OR ".join(parts)))
        if c.format:
            pred = f"NOT regexp_full_match({q}, {_lit(FORMATS[c.format])})"
            checks.append((c.name, "format", f"expected {c.format}", pred))
    for later, earlier in table.order:
        if later in ok and earlier in ok:
            pred = f"{_q(later)} < {_q(earlier)}"
            checks.append((later, "order", f"must be >= {earlier}", pred))
    if not checks:
        return []
    counts = ", ".join(f"count(*) FILTER (WHERE {p})" for *_, p in checks)
    row = _fetch(con, f"SELECT {counts} FROM {_q(table.name)}", table.name)
    if isinstance(row, Violation):
        return [row]
    out = []
    for (column, rule, detail, pred), n in zip(checks, row, strict=True):
        if n:
            examples = _examples(con, table, cols, pred)
            if isinstance(examples, Violation):
                return [examples]
            out.append(_violation(table, column, rule, n, examples, detail=detail))
        elif rule == "wrong_type":
            out.append(_violation(table, column, rule, 0, (), detail=detail))
    return out


def _examples(con, table: Table, cols: dict[str, str], predicate: str):
    """The first few keys (in key order) of the rows matching ``predicate``."""
    order = ", ".join(_q(k) for k in table.key if k in cols) or "1"
    sql = (
        f"SELECT {_key_expr(table, cols)} FROM {_q(table.name)} "
        f"WHERE {predicate} ORDER BY {order} LIMIT {EXAMPLES}"
    )
    try:
        return tuple(r[0] for r in con.execute(sql).fetchall())
    except duckdb.Error as exc:
        return Violation(table.name, None, "unreadable", 0, (), detail=_scrub(exc))


def _duplicates(con, table: Table, ok: set[str]) -> list[Violation]:
    if not set(table.key) <= ok:
        return []
    keys = ", ".join(_q(k) for k in table.key)
    not_null = " AND ".join(f"{_q(k)} IS NOT NULL" for k in table.key)
    sql = (
        f"SELECT sum(n)::BIGINT, min({_key_expr(table)}, {EXAMPLES}) FROM ("
        f"SELECT {keys}, count(*) AS n FROM {_q(table.name)} WHERE {not_null} "
        f"GROUP BY {keys} HAVING count(*) > 1)"
    )
    row = _fetch(con, sql, table.name)
    if isinstance(row, Violation):
        return [row]
    if not row[0]:
        return []
    column = table.key[0] if len(table.key) == 1 else None
    detail = "" if column else ", ".join(table.key)
    return [_violation(table, column, "duplicate_key", row[0], row[1], detail=detail)]


def _orphans(con, table: Table, usable: dict[str, set[str]]) -> list[Violation]:
    out = []
    for column, parent, parent_column in table.foreign_keys:
        if column not in usable[table.name] or parent_column not in usable.get(parent, ()):
            continue
        sql = (
            f"SELECT count(*), min({_key_expr(table, prefix='c.')}, {EXAMPLES}) "
            f"FROM {_q(table.name)} c ANTI JOIN {_q(parent)} p "
            f"ON c.{_q(column)} = p.{_q(parent_column)} WHERE c.{_q(column)} IS NOT NULL"
        )
        row = _fetch(con, sql, table.name)
        if isinstance(row, Violation):
            out.append(row)
        elif row[0]:
            detail = f"not in {parent}.{parent_column}"
            out.append(_violation(table, column, "orphan", row[0], row[1], detail=detail))
    return out


def _tree(con, ok: set[str]) -> list[Violation]:
    """The organisation tree's rules (:func:`branchbook.orgtree.problems`) on
    ``branches``: loops of ``parent_id``, a sub-branch outside its parent's region, a
    branch that does not reach the bank."""
    if not {"branch_id", "region"} <= ok:
        return []
    parent = "parent_id" if "parent_id" in ok else "NULL"
    sql = f"SELECT branch_id, region, {parent} FROM branches WHERE branch_id IS NOT NULL"
    try:
        tree = orgtree.OrgTree.of(con.execute(sql).fetchall())
    except duckdb.Error:
        return []  # unreadable: the table's other rules name it
    out = []
    table = TABLES["branches"]
    for rule, ids in orgtree.problems(tree).items():
        column = "region" if rule == "region_mismatch" else "parent_id"
        detail = {
            "cycle": "a branch is its own ancestor: " + orgtree.loop_text(tree, ids[0]),
            "region_mismatch": "a sub-branch lies in its parent branch's region",
            "unreachable": "its parent chain ends in a loop, a missing branch or a blank region",
        }[rule]
        out.append(_violation(table, column, rule, len(ids), ids[:EXAMPLES], detail=detail))
    return out


def _branch_history(con, usable: dict[str, set[str]]) -> list[Violation]:
    """``customer_branch_history`` against ``customers``: no row before the customer
    opened (a branch cannot hold a customer it has not yet opened), and each customer's
    latest row names ``customers.branch_id`` (the branch holding it now), so the two
    tables never disagree about today. The key rules out overlaps: a row holds from
    ``valid_from`` until the next one."""
    hist = usable.get("customer_branch_history", set())
    cust = usable.get("customers", set())
    if not {"customer_id", "valid_from", "branch_id"} <= hist:
        return []
    table = TABLES["customer_branch_history"]
    key = _key_expr(table, prefix="h.")
    rules = []
    if {"customer_id", "opened_on"} <= cust:
        rules.append(
            (
                "valid_from",
                "before_opening",
                "must be on or after customers.opened_on",
                "FROM customer_branch_history h JOIN customers c USING (customer_id) "
                "WHERE h.valid_from < c.opened_on",
            )
        )
    if {"customer_id", "branch_id"} <= cust:
        rules.append(
            (
                "branch_id",
                "not_current_branch",
                "a customer's latest row must name customers.branch_id",
                "FROM customer_branch_history h JOIN customers c USING (customer_id) "
                "WHERE h.valid_from = (SELECT max(valid_from) FROM customer_branch_history x "
                "WHERE x.customer_id = h.customer_id) AND h.branch_id IS DISTINCT FROM c.branch_id",
            )
        )
    out = []
    for column, rule, detail, body in rules:
        row = _fetch(con, f"SELECT count(*), min({key}, {EXAMPLES}) {body}", table.name)
        if isinstance(row, Violation):
            out.append(row)
        elif row[0]:
            out.append(_violation(table, column, rule, row[0], row[1], detail=detail))
    return out


@dataclass(frozen=True)
class _WarningRule:
    """A warning-level rule as SQL: the offending rows and the branches they concern."""

    table: str
    column: str | None
    rule: str
    source: str  # FROM ... WHERE ...: the offending rows
    key: str  # SQL naming a row by its key (see _key_expr)
    branches: tuple[str, ...]  # SQL of the branch(es) a row concerns; NULL: no branch
    detail: str
    key_names: tuple[str, ...] = ()  # what ``key`` names, when not the table's key


def _warning_rules(
    usable: dict[str, set[str]], as_of: dt.date | None, bounds: Bounds = DEFAULT_BOUNDS
) -> list[_WarningRule]:
    """The warning rules whose columns are present with their types, in message order."""

    def has(table: str, *columns: str) -> bool:
        return set(columns) <= usable.get(table, set())

    def branch(table: str, alias: str) -> str:
        return f"CAST({alias}.branch_id AS VARCHAR)" if has(table, "branch_id") else "NULL"

    rules = []
    if has("complaints", "complaint_id", "received_at", "resolved_at"):
        ref = f"{_lit(as_of.isoformat())}::TIMESTAMP" if as_of else None
        ref = ref or "(SELECT max(received_at) FROM complaints)"
        days = STALE_COMPLAINT_DAYS
        when = f" as of {as_of.isoformat()}" if as_of else ""
        rules.append(_WarningRule(
            "complaints", "resolved_at", "stale_complaint",
            f"FROM complaints k WHERE k.resolved_at IS NULL AND k.received_at < {ref} - INTERVAL {days} DAY",
            _key_expr(TABLES["complaints"], prefix="k."), (branch("complaints", "k"),),
            f"more than {days} days{when}",
        ))  # fmt: skip
    if has("surveys", "response_id", *SURVEY_RATINGS):
        empty = " AND ".join(f"r.{_q(c)} IS NULL" for c in SURVEY_RATINGS)
        rules.append(_WarningRule(
            "surveys", None, "empty_survey", f"FROM surveys r WHERE {empty}",
            _key_expr(TABLES["surveys"], prefix="r."), (branch("surveys", "r"),), "",
        ))  # fmt: skip
    if has("loan_snapshots", "loan_id", "month", "outstanding") and has(
        "loans", "loan_id", "principal"
    ):
        rules.append(_WarningRule(
            "loan_snapshots", "outstanding", "outstanding_above_principal",
            f"FROM loan_snapshots s JOIN loans l USING (loan_id) "
            f"WHERE s.outstanding > {OUTSTANDING_LIMIT} * l.principal",
            _key_expr(TABLES["loan_snapshots"], prefix="s."), (branch("loans", "l"),),
            f"more than {OUTSTANDING_LIMIT} x the loan's principal",
        ))  # fmt: skip
    if has("customers", "customer_id", "branch_id", "manager_id") and has(
        "staff", "staff_id", "branch_id"
    ):
        # the customer's branch, and the manager's branch whose book holds the customer
        rules.append(_WarningRule(
            "customers", "manager_id", "manager_elsewhere",
            "FROM customers c JOIN staff s ON c.manager_id = s.staff_id "
            "WHERE c.branch_id <> s.branch_id",
            _key_expr(TABLES["customers"], prefix="c."),
            ("CAST(c.branch_id AS VARCHAR)", "CAST(s.branch_id AS VARCHAR)"), "",
        ))  # fmt: skip
    return rules + _plausibility_rules(has, branch, bounds)


def _route(table: str, alias: str, has) -> tuple[str, tuple[str, ...]]:
    """``(join, branch expressions)`` reaching a row's branch (its own, or its customer's)."""
    if has(table, "branch_id"):
        return "", (f"CAST({alias}.branch_id AS VARCHAR)",)
    if has(table, "customer_id") and has("customers", "customer_id", "branch_id"):
        return f" JOIN customers pc ON {alias}.customer_id = pc.customer_id", (
            "CAST(pc.branch_id AS VARCHAR)",
        )
    return "", ("NULL",)


def _plausibility_rules(has, branch, bounds: Bounds) -> list[_WarningRule]:
    """Dates outside the plausible window, amounts beyond the bank's bound, customer
    counts that jump between months: warnings, shown in validate and in the reports."""
    rules = []
    latest = "(SELECT last_day(CAST(max(month) || '-01' AS DATE)) FROM balances)"
    if not has("balances", "month"):
        latest = "current_date"
    earliest = f"DATE {_lit(bounds.earliest_date)}"
    for table, col in PLAUSIBLE_DATES:
        if not has(table, col):
            continue
        join, branches = _route(table, "t", has)
        rules.append(_WarningRule(
            table, col, "implausible_date",
            f"FROM {table} t{join} WHERE t.{_q(col)} < {earliest} OR t.{_q(col)} > {latest}",
            _key_expr(TABLES[table], prefix="t."), branches,
            f"before {bounds.earliest_date} or after the data's latest month",
        ))  # fmt: skip
    for table, col in PLAUSIBLE_AMOUNTS:
        if not has(table, col):
            continue
        join, branches = _route(table, "t", has)
        rules.append(_WarningRule(
            table, col, "implausible_amount",
            f"FROM {table} t{join} WHERE abs(t.{_q(col)}) > {_num(bounds.max_amount)}",
            _key_expr(TABLES[table], prefix="t."), branches,
            f"beyond {bounds.max_amount:,.0f} in absolute value",
        ))  # fmt: skip
    if has("balances", "customer_id", "month") and has("customers", "customer_id", "branch_id"):
        counts = (
            "SELECT branch_id, month, n, lag(n) OVER (PARTITION BY branch_id ORDER BY month) AS p "
            "FROM (SELECT c.branch_id, b.month, count(DISTINCT b.customer_id) AS n "
            "FROM balances b JOIN customers c USING (customer_id) GROUP BY 1, 2)"
        )
        rules.append(_WarningRule(
            "balances", None, "customer_count_jump",
            f"FROM ({counts}) j WHERE j.p > 0 AND abs(j.n - j.p) > {_num(bounds.customer_jump)} * j.p",
            "CAST(j.branch_id AS VARCHAR) || ' ' || j.month", ("CAST(j.branch_id AS VARCHAR)",),
            f"more than {bounds.customer_jump:.0%} from one month to the next",
            ("branch_id", "month"),
        ))  # fmt: skip
    return rules


def _warnings(
    con, usable: dict[str, set[str]], as_of: dt.date | None, bounds: Bounds = DEFAULT_BOUNDS
) -> list[Violation]:
    out: list[Violation] = []
    for w in _warning_rules(usable, as_of, bounds):
        row = _fetch(con, f"SELECT count(*), min({w.key}, {EXAMPLES}) {w.source}", w.table)
        if isinstance(row, Violation):
            continue  # the same table's error rules already reported it
        if row[0]:
            v = _violation(TABLES[w.table], w.column, w.rule, row[0], row[1], "warning", w.detail)
            out.append(dataclasses.replace(v, key=w.key_names) if w.key_names else v)
    return out


def branch_warnings(
    con: duckdb.DuckDBPyConnection, *, as_of: dt.date | None = None, bounds: Bounds = DEFAULT_BOUNDS
) -> dict[str, list[Violation]]:
    """The warning-level violations per branch they concern, in one query per rule.

    A branch's list holds one :class:`Violation` per rule with the count and example
    keys of that branch's rows only: a complaint, survey response or loan belongs to
    its ``branch_id``; a customer whose manager works elsewhere concerns both the
    customer's and the manager's branch. Rows that reach no branch (no usable
    ``branch_id`` column, or a NULL) are listed under ``"*"``: they concern the whole bank.
    """
    found = {}
    for table in TABLES.values():
        columns = _describe(con, table.name)
        if not isinstance(columns, Violation):
            found[table.name] = columns
    usable = {name: _usable(TABLES[name], cols) for name, cols in found.items()}
    out: dict[str, list[Violation]] = {}
    for w in _warning_rules(usable, as_of, bounds):
        rows = " UNION ALL ".join(
            f"SELECT {b} AS branch_id, {w.key} AS k {w.source}" for b in w.branches
        )
        sql = (
            f"SELECT coalesce(branch_id, '*'), count(*), min(k, {EXAMPLES}) FROM ({rows}) "
            "GROUP BY ALL ORDER BY 1"
        )
        try:
            result = con.execute(sql).fetchall()
        except duckdb.Error:
            continue  # unreadable: the error rules name the table
        for bid, n, examples in result:
            v = _violation(TABLES[w.table], w.column, w.rule, n, examples, "warning", w.detail)
            out.setdefault(bid, []).append(
                dataclasses.replace(v, key=w.key_names) if w.key_names else v
            )
    return out


def _violation(
    table: Table,
    column: str | None,
    rule: str,
    count: int,
    examples,
    level: Level = "error",
    detail: str = "",
) -> Violation:
    return Violation(
        table.name,
        column,
        rule,
        int(count or 0),
        tuple(examples or ()),
        level,
        key=table.key,
        detail=detail,
    )


def _fetch(con, sql: str, table: str):
    """The single result row, or an ``unreadable`` violation if the scan failed."""
    try:
        return con.execute(sql).fetchone()
    except duckdb.Error as exc:
        return Violation(table, None, "unreadable", 0, (), detail=_scrub(exc))


def _scrub(exc: Exception) -> str:
    """First line of a database error, with quoted values removed (they may be personal)."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return re.sub(r"'[^']*'|\"[^\"]*\"", "'...'", first)[:200]


def _key_expr(table: Table, cols: dict[str, str] | None = None, prefix: str = "") -> str:
    """SQL text naming a row by its key: ``C000123`` or ``(C000123, 2026-01)``."""
    parts = [
        f"coalesce(CAST({prefix}{_q(k)} AS VARCHAR), 'NULL')"
        if cols is None or k in cols
        else "'?'"
        for k in table.key
    ]
    if len(parts) == 1:
        return parts[0]
    return "'(' || concat_ws(', ', " + ", ".join(parts) + ") || ')'"


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


# --- real shapes ----------------------------------------------------------------------
# Applied over the declarations above (which stay as written): what a real bank's data
# holds on purpose. Every column :mod:`branchbook.coverage` lists as optional is
# nullable; and
#
# - balances.deposits may be negative: a current account in overdraft. AUM counts a
#   customer's deposits at max(deposits, 0) (an overdraft is credit, not a negative
#   asset) and the overdraft, -min(deposits, 0), is an exposure; tiers use that AUM.
#   balances.deposits_avg (the month's average of end-of-day deposits, 日均) likewise:
#   a month spent partly in overdraft can average below 0.
# - loans.interest_rate may be NULL: a loan without a recorded rate (staff loans,
#   some trade finance); it is "not recorded" in rate statistics, never 0.
# - loans.collateral_type may be NULL: collateral not recorded, which is not "none"
#   (unsecured); such loans are counted apart in the collateral section.
_REAL_SHAPES: dict[tuple[str, str], dict] = {
    ("balances", "deposits"): {"low": None},
    ("balances", "deposits_avg"): {"low": None},
    ("loans", "interest_rate"): {"nullable": True},
    ("loans", "collateral_type"): {"nullable": True},
}


def _real_shape(table: Table) -> Table:
    optional = coverage.optional_columns()
    columns = []
    for c in table.columns:
        change = dict(_REAL_SHAPES.get((table.name, c.name), {}))
        if (table.name, c.name) in optional:
            change["nullable"] = True
        columns.append(replace(c, **change) if change else c)
    return replace(table, columns=tuple(columns))


TABLES = MappingProxyType({name: _real_shape(t) for name, t in TABLES.items()})


coverage.use_tables(TABLES)
