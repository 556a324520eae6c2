"""The demo warehouse: a deterministic, realistic bank in one DuckDB file.

``build(path)`` writes every contract table (see :mod:`branchbook.contract`)
for a fictional bank: branches in regions, customer managers, individual and corporate
customers with Chinese names, valid-looking ID numbers and phone numbers, monthly
balances, transactions, loans with monthly snapshots, corporate financial statements,
satisfaction surveys, complaints, AML alerts and staff targets. The same arguments give
the same table contents; the file is written to a temporary name and renamed, so a
reader never sees half a warehouse.

The model, in short:

- AUM (deposits + wealth) is lognormal per customer (individuals median ~30k CNY,
  corporates ~400k), evolving month to month as an AR(1) process around a slow
  upward drift; wealth products are held mostly by richer customers; products held
  (1-8) follow AUM; new customers ramp up, leaving customers run their balances down.
  The month's average daily balances (日均, ``deposits_avg``, ``wealth_avg``) follow a
  straight path from last month's end to this month's with a few per cent of daily
  noise, 0 on the days before a customer opened.
- Transactions per customer-month are Poisson with a customer-level, skewed activity
  rate (about two a month on average), with dormant spells and some dormant accounts;
  channels lean to mobile (corporates to online), amounts are lognormal.
- Loans: ~15% of individuals (mortgage, consumer) and ~60% of corporates (business,
  working capital and trade finance, the last two renewed at maturity). Outstanding
  amortises (annuity, linear or bullet) except while installments are missed; days
  past due follow a Markov chain over missed installments with cures, the five
  classes follow dpd (pass 0, special mention 1-90 or on watch, substandard 91-180,
  doubtful 181-360, loss >360; one loan in five is classed late: special mention up
  to 180 days past due, the gap the risk report's NPL against 90+ days past due finds),
  loans beyond 18 missed installments are written off; one loan in a hundred 2-6
  installments behind is restructured each month (it leaves the book; the new loan is
  not modelled, so this slightly lowers the NPL ratio). ``loans.closed_reason``
  records how each loan left: repaid, written off or restructured. Working capital and
  trade finance loans are drawn from a line 10-60% larger: the rest is an undrawn
  commitment in the snapshots (``undrawn``), frozen at 0 while in arrears.
  Loan history is simulated for three years before the first month, so the bank's
  NPL ratio starts settled, around 1.5-2%.
- Financial statements (flows for the twelve months to ``period_end``) for corporates,
  annual or semi-annual; about one in ten deteriorates (revenue falling while
  inventory rises, negative operating cash flow, debt-to-asset above 0.7, current
  ratio below 1), and its loans default more often.
- Surveys reach ~25% of customers a year. Six attribute ratings come from the
  customer's sentiment, the branch and the manager; CSAT is their weighted sum
  (:data:`SATISFACTION_WEIGHTS`, attitude and professionalism strongest) plus noise,
  NPS follows CSAT. Some ratings are missing (environment for remote channels,
  digital at the counter).
- Complaints: ~3 per 100 customers a year, more from unhappy and repeat complainants;
  first response mostly within 24 h, plan within 72 h, resolution days later, a few
  still open. Churn (~6% a year) is higher for unhappy, dormant and single-product
  customers; borrowers do not leave.
- AML alerts are closed or reported (one in eight) after a delay of days to months,
  so an alert raised in March may be open until July (``closed_on``); alerts still
  unresolved at the last day are open. KYC status has a dated history
  (``kyc_history``): documents expire and are renewed, some customers start
  incomplete; the latest row is the customer's ``kyc_status``.
- Branch moves (``customer_branch_history``): one customer in 750, open throughout,
  moved from another branch of its region on a day in the window; every customer has a
  row from opening, the latest naming ``customers.branch_id``.
- Targets per active manager, month and KPI are the bank-wide average actual of the
  manager's grade (x0.9-1.1 per manager, +6% in the latest twelve months).
- Holdings (:data:`HOLDING_PRODUCTS`): every customer holds a demand deposit, 45% a
  time deposit too, splitting the month-end deposits; customers with wealth hold one
  to three wealth-type products (wealth management, funds, insurance, bonds) at or
  below their risk appetite, splitting the month-end wealth. About 3% of them also
  hold one product a level above their appetite, and in the first branch the first
  active senior manager has sold the R5 fund to up to 30 customers of appetite R1 or
  R2 (the planted suitability mismatches). Drawn from a stream of its own: the other
  tables are the same with or without it.

Customers who left before the first month are not in the warehouse (archived); loans
repaid more than 19 months before it are left out too. Ids: customers ``C0000001``,
staff ``S00001``, loans ``L00000001``, transactions ``T0000000001``, survey responses
``R00000001``, complaints ``K0000001``, AML alerts ``A0000001`` (wider when needed).

Planted stories (:data:`STORIES`; :func:`story_branches` gives their branches in a
smaller build):

- ``npl_rise`` (0102): over the last six months several sizeable performing loans stop
  paying and roll to substandard and doubtful; the branch's NPL ratio rises.
- ``satisfaction_drop`` (0201): over the last six months attitude, wait-time and
  professionalism ratings fall a little more each month, so CSAT and NPS decline,
  and complaints become more frequent.
- ``dormant_top_customers`` (0301): the branch's top customers by AUM make no
  transaction in the last four months and their AUM falls by a quarter a month.
- ``manager_spread`` (0103): of the branch's first two professional-grade managers
  (by staff_id) the first wins far more new customers and grows the book, the second
  wins few and the book shrinks: one far ahead of target, one far behind.

Measured on 2 cores (Python 3.11, numpy 2.4, DuckDB 2.0), wall time including the
final checkpoint::

    python -m branchbook.demo --out build/demo/warehouse.duckdb
        12 branches, 30,000 customers, 24 months: 2.5-3.1 s, 38 MB file, peak RSS 0.3 GB;
        1.4 M transactions, 0.62 M balances, 0.11 M loan snapshots
    python -m branchbook.demo --out build/big.duckdb --branches 300 --customers 1000000
        300 branches, 1,000,000 customers, 24 months: 55 s, 1.25 GB file, peak RSS 2.2 GB;
        48 M transactions, 20.7 M balances, 3.8 M loan snapshots

Memory stays bounded because every monthly table is generated and inserted one month
at a time (a writer thread inserts while the next month is generated; DuckDB is held
to 2 GB). Validating the 1,000,000-customer warehouse with
:func:`branchbook.contract.check` takes about 16 s.
"""

from __future__ import annotations

import argparse
import math
import os
import queue
import sys
import threading
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .contract import TABLES
from .errors import BranchbookError

STORIES = {
    "npl_rise": {
        "branch_id": "0102",
        "months": 6,
        "summary": "several sizeable loans roll to substandard and doubtful; NPL ratio rises",
    },
    "satisfaction_drop": {
        "branch_id": "0201",
        "months": 6,
        "summary": "attitude, wait-time and professionalism ratings fall; CSAT, NPS fall, "
        "complaints rise",
    },
    "dormant_top_customers": {
        "branch_id": "0301",
        "months": 4,
        "summary": "top customers by AUM stop transacting and their AUM falls",
    },
    "manager_spread": {
        "branch_id": "0103",
        "months": None,
        "summary": "first professional manager far ahead of target, second far behind",
    },
}
"""The stories planted in the demo data, by name, with their default branch."""

SATISFACTION_WEIGHTS = {
    "attitude": 0.30,
    "professionalism": 0.25,
    "explanation": 0.15,
    "wait_time": 0.12,
    "digital": 0.10,
    "environment": 0.08,
}
"""Weights of the six attribute ratings in the latent CSAT of a survey response."""

# --- names and places -------------------------------------------------------------

_CURATED = [  # (region, city, city_zh, name, name_zh) for the default twelve branches
    [
        ("East", "Shanghai", "上海", "Pudong Lujiazui", "浦东陆家嘴"),
        ("East", "Shanghai", "上海", "Xuhui Xujiahui", "徐汇徐家汇"),
        ("East", "Shanghai", "上海", "Jing'an Nanjing Road West", "静安南京西路"),
        ("East", "Shanghai", "上海", "Minhang Xinzhuang", "闵行莘庄"),
    ],
    [
        ("North", "Beijing", "北京", "Chaoyang Guomao", "朝阳国贸"),
        ("North", "Beijing", "北京", "Haidian Zhongguancun", "海淀中关村"),
        ("North", "Beijing", "北京", "Xicheng Financial Street", "西城金融街"),
        ("North", "Beijing", "北京", "Dongcheng Wangfujing", "东城王府井"),
    ],
    [
        ("South", "Shenzhen", "深圳", "Futian Central District", "福田中心区"),
        ("South", "Shenzhen", "深圳", "Nanshan Science Park", "南山科技园"),
        ("South", "Guangzhou", "广州", "Tianhe Zhujiang New Town", "天河珠江新城"),
        ("South", "Shenzhen", "深圳", "Luohu Dongmen", "罗湖东门"),
    ],
]
_REGIONS = ["East", "North", "South", "West", "Central", "Northeast", "Southwest", "Northwest"]
_ZONES = [  # tell apart the branches of a city that serves more than one region
    ("New District", "新区"), ("Development Zone", "开发区"), ("High-tech Zone", "高新区"),
    ("Old Town", "老城"), ("Port Area", "港区"), ("Lakeside", "湖滨"), ("Riverside", "江滨"),
]  # fmt: skip
_CITIES = [
    ("Shanghai", "上海"), ("Beijing", "北京"), ("Shenzhen", "深圳"), ("Chengdu", "成都"),
    ("Wuhan", "武汉"), ("Shenyang", "沈阳"), ("Chongqing", "重庆"), ("Xi'an", "西安"),
    ("Hangzhou", "杭州"), ("Nanjing", "南京"), ("Tianjin", "天津"), ("Suzhou", "苏州"),
    ("Qingdao", "青岛"), ("Changsha", "长沙"), ("Zhengzhou", "郑州"), ("Xiamen", "厦门"),
]  # fmt: skip
_STREET_A = [
    ("Renmin", "人民"), ("Zhongshan", "中山"), ("Jiefang", "解放"), ("Xinhua", "新华"),
    ("Heping", "和平"), ("Jianshe", "建设"), ("Wenhua", "文化"), ("Changjiang", "长江"),
    ("Huanghe", "黄河"), ("Donghu", "东湖"), ("Xihu", "西湖"), ("Nanhu", "南湖"),
    ("Beihai", "北海"),
]  # fmt: skip
_STREET_B = [
    ("Road", "路"), ("Avenue", "大道"), ("Street", "街"), ("Square", "广场"),
    ("Park", "公园"), ("Bridge", "桥"), ("Gate", "门"), ("Garden", "花园"),
]  # fmt: skip
_SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈"
)
_GIVEN = list(
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚英华玉萍红鹏辉飞建国文斌宇浩凯婷雪琳晨阳欣怡"
    "佳子梓涵轩博思雨诗然晓宁鑫嘉睿泽俊志海林波峰丹颖慧倩玲燕昊天一心悦瑶可家安德永春兰梅云龙"
    "成亮新荣晶莉"
)
_BRANDS = [
    "恒达", "华信", "金源", "宏远", "鑫盛", "博远", "瑞丰", "永兴", "天成", "中联", "东方", "海纳",
    "锦程", "嘉禾", "汇通", "广泰", "德润", "万通", "信诚", "明辉", "立新", "泰和", "华联", "宝丰",
]  # fmt: skip
_INDUSTRIES = [  # (code, share of corporates, name word, default-risk multiplier)
    ("manufacturing", 0.22, "机械制造", 1.0),
    ("wholesale_retail", 0.24, "贸易", 1.1),
    ("construction", 0.10, "建设工程", 1.5),
    ("real_estate", 0.06, "置业", 1.8),
    ("it_services", 0.12, "信息技术", 0.8),
    ("agriculture", 0.06, "农业科技", 1.2),
    ("logistics", 0.10, "物流", 1.0),
    ("hospitality", 0.10, "餐饮管理", 1.3),
]
_AREA_CODES = np.array(
    [310115, 310104, 310106, 310112, 110105, 110108, 110102, 110101, 440304, 440305,
     440106, 440303, 510104, 420106, 330106, 320106, 120101, 370202, 430102, 350203]
)  # fmt: skip
_ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
_ID_CHECK = np.frombuffer(b"10X98765432", np.uint8)
_USCC_CHARS = np.frombuffer(b"0123456789ABCDEFGHJKLMNPQRTUWXY", np.uint8)
_USCC_WEIGHTS = np.array([pow(3, i, 31) for i in range(17)])

# --- categories and their probabilities -------------------------------------------

_GRADES = ["assistant", "professional", "senior"]
_CERTIFICATIONS = ["none", "primary", "intermediate", "advanced"]
_COURSES = [
    "Product knowledge", "Credit risk", "Compliance and AML", "Wealth management",
    "Customer service", "Sales skills",
]  # fmt: skip
_RISK = ["R1", "R2", "R3", "R4", "R5"]
_KYC = ["complete", "incomplete", "expired"]
_TXN_CHANNELS = ["counter", "atm", "mobile", "online", "pos"]
_TXN_MIX = np.array(  # rows: young individual, older individual, corporate
    [[0.06, 0.09, 0.58, 0.10, 0.17], [0.25, 0.15, 0.38, 0.07, 0.15], [0.25, 0.0, 0.25, 0.45, 0.05]]
)
_PRODUCTS = ["mortgage", "consumer", "business", "working_capital", "trade_finance"]
_TERMS = [(120, 180, 240, 300, 360), (12, 24, 36, 60), (12, 24, 36, 60), (6, 12), (3, 6, 12)]
_RATES = [(0.031, 0.045), (0.04, 0.09), (0.035, 0.065), (0.034, 0.055), (0.03, 0.05)]
_MEDIAN_PRINCIPAL = [1_200_000, 80_000, 3_000_000, 1_500_000, 800_000]
_DEFAULT_RATE = np.array([0.0024, 0.008, 0.006, 0.0064, 0.004])  # per month, per product
_COLLATERAL = ["none", "real_estate", "equipment", "receivables", "guarantee", "deposit"]
_COLLATERAL_MIX = np.array(
    [
        [0.0, 1.0, 0.0, 0.0, 0.0, 0.0],
        [0.7, 0.0, 0.0, 0.0, 0.2, 0.1],
        [0.0, 0.45, 0.25, 0.15, 0.15, 0.0],
        [0.15, 0.1, 0.0, 0.4, 0.35, 0.0],
        [0.0, 0.0, 0.0, 0.3, 0.35, 0.35],
    ]
)
_CURE = np.array([0, 0.5, 0.3, 0.2, 0.1, 0.07] + [0.04] * 7 + [0.01] * 8)  # by missed count
_FIVE_CLASS = ["pass", "special_mention", "substandard", "doubtful", "loss"]
_SURVEY_CHANNELS = ["counter", "mobile", "phone", "online"]
_RATINGS = ["wait_time", "attitude", "professionalism", "explanation", "environment", "digital"]
_RATING_OFFSET = np.array([-0.35, 0.15, 0.05, -0.1, 0.1, -0.2])
_CATEGORIES = (["product", "service", "process", "policy"], [0.25, 0.40, 0.25, 0.10])
_COMPLAINT_CHANNELS = (
    ["counter", "phone", "mobile", "online", "letter"],
    [0.3, 0.35, 0.15, 0.15, 0.05],
)
_SEVERITY = (["low", "medium", "high"], [0.6, 0.3, 0.1])
_ALERT_TYPES = (
    ["large_cash", "structuring", "rapid_movement", "high_risk_country", "unusual_pattern"],
    [0.35, 0.15, 0.2, 0.05, 0.25],
)
_KPIS = ["new_customers", "net_new_aum", "deposit_growth", "loan_growth", "products_per_customer"]
#: The demo's products: (product_id, product_type, risk level index 0..4 = R1..R5, the
#: balance it splits: month-end deposits or wealth).
HOLDING_PRODUCTS = (
    ("D01", "deposit", 0, "deposits"),
    ("D02", "time_deposit", 0, "deposits"),
    ("W00", "wealth", 0, "wealth"),
    ("W01", "wealth", 1, "wealth"),
    ("I01", "insurance", 1, "wealth"),
    ("B01", "bond", 1, "wealth"),
    ("W02", "wealth", 2, "wealth"),
    ("F01", "fund", 2, "wealth"),
    ("W03", "wealth", 3, "wealth"),
    ("F02", "fund", 3, "wealth"),
    ("F03", "fund", 4, "wealth"),
)
_MISSOLD = 30  # the planted mismatches: R5 fund sold to appetite R1-R2 customers
_BURN_IN = 36  # months of loan history simulated before the first month written


def build(
    path: str | os.PathLike,
    *,
    branches: int = 12,
    customers: int = 30_000,
    months: int = 24,
    end_month: str = "2026-10",
    seed: int = 42,
) -> Path:
    """Write the demo warehouse to ``path`` (a DuckDB file) and return the path.

    Deterministic: the same arguments give the same table contents. Branch ids are
    region and branch number, two digits each ('0101'). Raises ``BranchbookError`` for
    arguments out of range.
    """
    _check(branches, customers, months, end_month)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    _remove(tmp)
    try:
        con = duckdb.connect(str(tmp))
        try:
            con.execute("SET memory_limit = '2GB'")
            con.execute("SET enable_progress_bar = false")
            for table in TABLES.values():
                con.execute(table.ddl(constraints=False))
            with _Writer(con) as writer:
                _Bank(con, writer, branches, customers, months, end_month, seed).generate()
            con.execute("CHECKPOINT")
        finally:
            con.close()
        os.replace(tmp, path)
    finally:
        _remove(tmp)
    return path


def story_branches(branch_ids: list[str]) -> dict[str, str]:
    """Where each story lands among ``branch_ids``: its own branch when present, else
    the first branch without a story, else the branches in turn.

    >>> story_branches(["0101", "0102", "0103"])["satisfaction_drop"]
    '0101'
    """
    placed = {s: v["branch_id"] for s, v in STORIES.items() if v["branch_id"] in branch_ids}
    free = [b for b in branch_ids if b not in placed.values()]
    for i, story in enumerate(s for s in STORIES if s not in placed):
        placed[story] = free.pop(0) if free else branch_ids[i % len(branch_ids)]
    return {s: placed[s] for s in STORIES}


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m branchbook.demo --out build/demo/warehouse.duckdb``."""
    parser = argparse.ArgumentParser(prog="branchbook.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="build/demo/warehouse.duckdb", help="DuckDB file to write")
    parser.add_argument("--branches", type=int, default=12)
    parser.add_argument("--customers", type=int, default=30_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--end-month", default="2026-10", help="last month, YYYY-MM")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        out = build(
            args.out,
            branches=args.branches,
            customers=args.customers,
            months=args.months,
            end_month=args.end_month,
            seed=args.seed,
        )
    except BranchbookError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    seconds = time.perf_counter() - start
    con = duckdb.connect(str(out), read_only=True)
    try:
        counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
    finally:
        con.close()
    size = out.stat().st_size / 1e6
    print(f"wrote {out} ({size:,.0f} MB) in {seconds:.1f} s")
    for table, n in counts.items():
        print(f"  {table:<15} {n:>12,}")
    return 0


# --- the generator ------------------------------------------------------------------


def _check(branches: int, customers: int, months: int, end_month: str) -> None:
    if not 1 <= branches <= 9801:
        raise BranchbookError(f"branches must be 1..9801, got {branches}")
    if customers < 10 * branches:
        raise BranchbookError(f"customers must be at least 10 per branch, got {customers}")
    if not 1 <= months <= 120:
        raise BranchbookError(f"months must be 1..120, got {months}")
    try:
        np.datetime64(end_month, "M")
    except ValueError:
        raise BranchbookError(f"end_month must be YYYY-MM, got {end_month!r}") from None
    if len(end_month) != 7:
        raise BranchbookError(f"end_month must be YYYY-MM, got {end_month!r}")


def _remove(path: Path) -> None:
    for p in (path, path.with_name(path.name + ".wal")):
        p.unlink(missing_ok=True)


def _month_days(mi) -> np.ndarray:
    """First day (days since 1970) of absolute month index ``mi`` (months since 1970)."""
    return np.asarray(mi).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)


def _pick(values, codes) -> pa.Array:
    return pa.array(values).take(pa.array(np.asarray(codes)))


def _ids(prefix: str, numbers, width: int) -> pa.Array:
    digits = pc.utf8_lpad(pc.cast(pa.array(np.asarray(numbers)), pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, digits, "")


def _dates(days, valid=None) -> pa.Array:
    arr = np.asarray(days).astype("datetime64[D]")
    return pa.array(arr, mask=None if valid is None else ~np.asarray(valid))


def _times(seconds, valid=None) -> pa.Array:
    arr = np.asarray(seconds).astype("datetime64[s]")
    return pa.array(arr, mask=None if valid is None else ~np.asarray(valid))


def _choice(rng, n: int, probs) -> np.ndarray:
    """``n`` category codes drawn with (relative) probabilities ``probs``."""
    return np.searchsorted(np.cumsum(probs), rng.random(n) * np.sum(probs), side="right")


def _choice_rows(rng, mix: np.ndarray) -> np.ndarray:
    """One code per row of ``mix`` (each row a probability vector)."""
    cum = np.cumsum(mix, axis=1)
    u = rng.random(len(mix)) * cum[:, -1]
    return (u[:, None] >= cum).sum(axis=1)


def _round(x, digits: int = 2) -> np.ndarray:
    """Rounded to ``digits`` decimals (cents by default; -3 for thousands)."""
    return np.round(np.asarray(x, dtype=float), digits)


class _Writer:
    """Inserts Arrow batches on a thread of its own, in order, while the next month is
    generated (DuckDB's compression then overlaps numpy's work). At most ``depth``
    batches wait, which bounds memory."""

    def __init__(self, con: duckdb.DuckDBPyConnection, depth: int = 4):
        self.cursor = con.cursor()
        self.queue: queue.Queue = queue.Queue(maxsize=depth)
        self.failure: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="demo-writer", daemon=True)
        self.thread.start()

    def insert(self, table: str, batch: pa.Table) -> None:
        if self.failure is not None:
            raise self.failure
        self.queue.put((table, batch))

    def flush(self) -> None:
        """Wait until every batch so far is written; re-raise a failed insert."""
        self.queue.join()
        if self.failure is not None:
            raise self.failure

    def _run(self) -> None:
        while True:
            item = self.queue.get()
            try:
                if item is None:
                    return
                if self.failure is None:
                    table, batch = item
                    self.cursor.register("incoming_batch", batch)
                    self.cursor.execute(f"INSERT INTO {table} BY NAME SELECT * FROM incoming_batch")
                    self.cursor.unregister("incoming_batch")
            except BaseException as exc:  # handed to the generating thread
                self.failure = exc
            finally:
                self.queue.task_done()

    def __enter__(self) -> _Writer:
        return self

    def __exit__(self, *exc) -> None:
        self.queue.put(None)
        self.thread.join()
        self.cursor.close()
        if exc[0] is None and self.failure is not None:
            raise self.failure


@dataclass
class _Calendar:
    months: np.ndarray  # absolute month indices, oldest first
    starts: np.ndarray  # first day of each month (days since 1970)
    ends: np.ndarray  # last day of each month
    labels: list[str]

    @classmethod
    def ending(cls, end_month: str, n: int) -> _Calendar:
        last = np.datetime64(end_month, "M").astype(np.int64)
        months = np.arange(last - n + 1, last + 1)
        starts = _month_days(months)
        ends = _month_days(months + 1) - 1
        labels = [str(m) for m in months.astype("datetime64[M]")]
        return cls(months, starts, ends, labels)

    @property
    def first_day(self) -> int:
        return int(self.starts[0])

    @property
    def last_day(self) -> int:
        return int(self.ends[-1])


class _Bank:
    """Holds the static population (branches, staff, customers, loans) and writes it."""

    def __init__(self, con, writer: _Writer, branches, customers, months, end_month, seed):
        self.con, self.writer = con, writer
        self.nb, self.n, self.seed = branches, customers, seed
        self.cal = _Calendar.ending(end_month, months)

    def rng(self, *tags) -> np.random.Generator:
        words = [zlib.crc32(t.encode()) if isinstance(t, str) else int(t) for t in tags]
        return np.random.default_rng([self.seed, *words])

    def insert(self, table: str, columns: dict) -> None:
        self.writer.insert(table, pa.table(columns))

    def generate(self) -> None:
        self.make_branches()
        self.make_staff()
        self.make_customers()
        self.make_loans()
        self.make_churn()
        self.write_customers()
        self.simulate()
        self.write_closed_reasons()
        self.make_financials()
        self.make_targets()
        self.make_development()
        self.make_holdings()
        self.make_profiles()
        self.make_contacts()

    # --- branches and staff ---------------------------------------------------------

    def make_branches(self) -> None:
        rng = self.rng("branches")
        nb = self.nb
        per_region = max(4, math.ceil(math.sqrt(nb)))
        rows = []
        for b in range(nb):
            r, k = divmod(b, per_region)
            bid = f"{r + 1:02d}{k + 1:02d}"
            if r < len(_CURATED) and k < len(_CURATED[r]):
                region, city, city_zh, name, name_zh = _CURATED[r][k]
            else:
                region = _REGIONS[r % len(_REGIONS)] + (
                    f" {r // len(_REGIONS) + 1}" if r >= 8 else ""
                )
                city, city_zh = (
                    _CURATED[r][0][1:3] if r < len(_CURATED) else _CITIES[r % len(_CITIES)]
                )
                (a, a_zh), (s, s_zh) = _STREET_A[k % 13], _STREET_B[(k // 13) % 8]
                lap = r // len(_CITIES)
                zone, zone_zh = (
                    (f" {_ZONES[(lap - 1) % len(_ZONES)][0]}", _ZONES[(lap - 1) % len(_ZONES)][1])
                    if lap
                    else ("", "")
                )
                name, name_zh = f"{city}{zone} {a} {s}", f"{city_zh}{zone_zh}{a_zh}{s_zh}"
            rows.append((bid, f"{name} Sub-branch", f"{name_zh}支行", region, city, city_zh))
        self.branch_ids = [r[0] for r in rows]
        self.branch_region = [r[3] for r in rows]
        self.branch_city_zh = [r[5] for r in rows]
        self.stories = story_branches(self.branch_ids)
        self.story_index = {s: self.branch_ids.index(b) for s, b in self.stories.items()}
        opened = self.cal.first_day - rng.integers(8 * 365, 30 * 365, nb)
        self.branch_weight = rng.lognormal(0, 0.35, nb)
        self.branch_mood = rng.normal(0, 0.12, nb)
        self.insert(
            "branches",
            {
                "branch_id": pa.array(self.branch_ids),
                "name": pa.array([r[1] for r in rows]),
                "name_zh": pa.array([r[2] for r in rows]),
                "region": pa.array([r[3] for r in rows]),
                "city": pa.array([r[4] for r in rows]),
                "opened_on": _dates(opened),
            },
        )

    def make_staff(self) -> None:
        rng = self.rng("staff")
        self.branch_size = rng.multinomial(self.n, self.branch_weight / self.branch_weight.sum())
        branch, grade, active = [], [], []
        for b, size in enumerate(self.branch_size):
            managers = max(4, math.ceil(size / rng.uniform(150, 220)))
            grades = np.r_[[1, 1, 0, 2], _choice(rng, managers - 4, [0.4, 0.4, 0.2])]
            leavers = rng.binomial(managers, 0.06)
            grades = np.r_[grades, _choice(rng, leavers, [0.5, 0.35, 0.15])]
            branch.append(np.full(len(grades), b))
            grade.append(grades)
            active.append(np.arange(len(grades)) < managers)
        self.staff_branch = np.concatenate(branch)
        self.staff_grade = np.concatenate(grade).astype(np.int64)
        self.staff_active = np.concatenate(active)
        ns = len(self.staff_branch)
        self.staff_mood = rng.normal(0, 0.18, ns)
        years = np.choose(
            self.staff_grade,
            [rng.uniform(0.3, 4, ns), rng.uniform(3, 12, ns), rng.uniform(8, 25, ns)],
        )
        hired = self.cal.last_day - (years * 365.25).astype(np.int64)
        self.staff_hired = hired
        width = max(5, len(str(ns)))
        self.staff_ids = _ids("S", np.arange(1, ns + 1), width)
        # the manager story: first professional ahead, second professional behind
        story = self.story_index["manager_spread"]
        pros = np.flatnonzero(
            (self.staff_branch == story) & (self.staff_grade == 1) & self.staff_active
        )
        self.star, self.laggard = int(pros[0]), int(pros[1])
        self.insert(
            "staff",
            {
                "staff_id": self.staff_ids,
                "branch_id": _pick(self.branch_ids, self.staff_branch),
                "name": self.person_names(rng, ns),
                "grade": _pick(_GRADES, self.staff_grade),
                "hired_on": _dates(hired),
                "active": pa.array(self.staff_active),
            },
        )

    def person_names(self, rng, n: int) -> pa.Array:
        rank = np.arange(len(_SURNAMES))
        sur = _choice(rng, n, 1 / (rank + 5))
        g1 = rng.integers(0, len(_GIVEN), n)
        g2 = np.where(rng.random(n) < 0.7, rng.integers(0, len(_GIVEN), n), len(_GIVEN))
        given = [*_GIVEN, ""]
        return pc.binary_join_element_wise(
            _pick(_SURNAMES, sur), _pick(given, g1), _pick(given, g2), ""
        )

    # --- customers ------------------------------------------------------------------

    def make_customers(self) -> None:
        rng = self.rng("customers")
        n, cal = self.n, self.cal
        branch = np.repeat(np.arange(self.nb), self.branch_size)
        rng.shuffle(branch)
        corp = rng.random(n) < 0.10
        window = cal.last_day - cal.first_day + 1
        new_share = min(0.4, 0.075 * len(cal.months) / 12)
        is_new = rng.random(n) < new_share
        old_span = 15 * 365
        opened = np.where(
            is_new,
            cal.first_day + (rng.random(n) * window).astype(np.int64),
            cal.first_day - 1 - (old_span * (1 - np.sqrt(rng.random(n)))).astype(np.int64),
        )
        order = np.argsort(opened, kind="stable")  # ids follow the opening date (roughly)
        branch, corp, opened, is_new = branch[order], corp[order], opened[order], is_new[order]
        age_open = np.minimum(18 + rng.gamma(2.0, 9.0, n), 75)
        birth = opened - (age_open * 365.25).astype(np.int64) - rng.integers(0, 365, n)
        age = (cal.last_day - birth) / 365.25
        mu = np.where(
            corp,
            np.log(400_000) + 1.5 * rng.standard_normal(n),
            np.log(30_000) + 1.6 * rng.standard_normal(n) + 0.012 * (np.clip(age, 20, 75) - 45),
        )
        self.customer_branch, self.corp, self.opened, self.is_new = branch, corp, opened, is_new
        self.age, self.mu, self.birth = age, np.minimum(mu, np.log(2e8)), birth
        rich = np.clip((mu - np.log(150_000)) / 0.8, -30, 30)
        self.has_wealth = rng.random(n) < np.where(corp, 0.15, 1 / (1 + np.exp(-rich)))
        self.wealth_share = np.clip(rng.beta(2, 3, n) + 0.05 * (mu - np.log(150_000)), 0.05, 0.85)
        self.lam = np.where(corp, rng.gamma(1.2, 5.5 / 1.2, n), rng.gamma(0.9, 2.35 / 0.9, n))
        self.lam[rng.random(n) < 0.05] = 0.0  # dormant accounts
        self.sentiment = rng.standard_normal(n)
        base = (
            1.4
            + 0.55 * (mu - np.where(corp, np.log(400_000), np.log(30_000)))
            + rng.normal(0, 0.8, n)
        )
        self.base_products = np.clip(np.round(base), 1, 6).astype(np.int64)
        self.industry = np.where(corp, _choice(rng, n, [i[1] for i in _INDUSTRIES]), -1)
        self.manager = self.assign_managers(rng)
        self.risk_z = rng.standard_normal(n)
        # the dormant story picks its customers during the simulation; the branch's
        # richest stay customers until the end
        story = self.story_index["dormant_top_customers"]
        members = np.flatnonzero(branch == story)
        self.dormant_pool = members[
            np.argsort(-mu[members], kind="stable")[: max(40, len(members) // 20)]
        ]
        self.dormant_top = np.zeros(0, np.int64)

    def assign_managers(self, rng) -> np.ndarray:
        """A manager in the customer's branch for ~90% of individuals, ~97% of
        corporates and every customer above 500k; seniors get bigger books and more
        corporates. In the manager story the star wins most new customers, the laggard
        few."""
        has = (rng.random(self.n) < np.where(self.corp, 0.97, 0.9)) | (self.mu > np.log(500_000))
        manager = np.full(self.n, -1)
        group = self.customer_branch * 4 + self.corp * 2 + self.is_new  # branch, type, new
        members = np.flatnonzero(has)
        members = members[np.argsort(group[members], kind="stable")]
        bounds = np.searchsorted(group[members], np.arange(4 * self.nb + 1))
        for b in range(self.nb):
            staff = np.flatnonzero((self.staff_branch == b) & self.staff_active)
            grade = self.staff_grade[staff]
            book = np.array([0.7, 1.0, 1.3])[grade] * self.rng("book", b).lognormal(
                0, 0.2, len(staff)
            )
            for g in range(4):
                corp, new = divmod(g, 2)
                p = book * (np.array([0.4, 1.0, 1.6])[grade] if corp else 1.0)
                if new:
                    p = p * np.select([staff == self.star, staff == self.laggard], [4.0, 0.15], 1.0)
                who = members[bounds[4 * b + g] : bounds[4 * b + g + 1]]
                manager[who] = rng.choice(staff, size=len(who), p=p / p.sum())
        return manager

    def make_churn(self) -> None:
        rng = self.rng("churn")
        cal = self.cal
        hazard = 0.0055 * np.exp(-0.45 * self.sentiment)
        hazard *= np.where(self.base_products <= 1, 1.6, 1.0) * np.where(self.lam == 0, 2.0, 1.0)
        start = np.maximum(cal.first_day, self.opened + 30)
        life = rng.exponential(30.44 / hazard)
        closed = (start + life).astype(np.int64)
        keep = self.borrower.copy()
        keep[self.dormant_pool] = True  # the dormant story's candidates stay
        never = np.int64(10**7)
        self.closed = np.where((closed <= cal.last_day) & ~keep, closed, never)

    def write_customers(self) -> None:
        rng = self.rng("customer details")
        n, corp = self.n, self.corp
        names = self.person_names(rng, n)
        city = _pick(self.branch_city_zh, self.customer_branch)
        brand = _pick(_BRANDS, rng.integers(0, len(_BRANDS), n))
        word = _pick([i[2] for i in _INDUSTRIES], np.maximum(self.industry, 0))
        firm = pc.binary_join_element_wise(city, brand, word, "有限公司", "")
        gender = np.where(rng.random(n) < 0.5, 0, 1)
        risk = np.where(
            corp,
            _choice(rng, n, [0.1, 0.3, 0.35, 0.2, 0.05]),
            _choice(rng, n, [0.15, 0.3, 0.3, 0.17, 0.08]),
        )
        kyc = _choice(rng, n, [0.92, 0.05, 0.03])
        self.risk = risk
        phone = (13 + rng.integers(0, 7, n)) * 10**9 + rng.integers(0, 10**9, n)
        width = max(7, len(str(n)))
        self.customer_ids = _ids("C", np.arange(1, n + 1), width)
        indiv = ~corp
        self.insert(
            "customers",
            {
                "customer_id": self.customer_ids,
                "branch_id": _pick(self.branch_ids, self.customer_branch),
                "manager_id": self.staff_ids.take(
                    pa.array(np.maximum(self.manager, 0), mask=self.manager < 0)
                ),
                "customer_type": _pick(["individual", "corporate"], corp.astype(np.int64)),
                "name": pc.if_else(pa.array(corp), firm, names),
                "id_number": self.id_numbers(rng, gender),
                "phone": pc.cast(pa.array(phone), pa.string()),
                "birth_date": _dates(self.birth, indiv),
                "gender": pa.array(np.where(gender == 0, "M", "F"), mask=corp),
                "industry": pa.array(
                    np.array([i[0] for i in _INDUSTRIES])[np.maximum(self.industry, 0)], mask=indiv
                ),
                "opened_on": _dates(self.opened),
                "closed_on": _dates(self.closed, self.closed <= self.cal.last_day),
                "risk_appetite": _pick(_RISK, risk),
                "kyc_status": _pick(_KYC, kyc),
            },
        )
        self.write_kyc_history(kyc)
        self.write_branch_history()

    def write_branch_history(self) -> None:
        """A few customers moved branch (``customer_branch_history``): one in 750, open
        throughout the window and preferably without a manager (the contract keeps no
        manager history), held by another branch of the same region (any other
        branch when the region has one) from opening until a day in the window, then
        by today's branch. Every other customer has one row: its branch from opening.
        Its own random stream: the other tables are what they were without it."""
        rng = np.random.default_rng([self.seed, 20261207])
        n, cal, nb = self.n, self.cal, self.nb
        branch = self.customer_branch
        ids = np.arange(n)
        movers = np.zeros(n, bool)
        if nb > 1:
            steady = (self.opened < cal.first_day - 30) & (self.closed > cal.last_day)
            pool = np.flatnonzero(steady & (self.manager < 0))
            if len(pool) < max(2, n // 750):
                pool = np.flatnonzero(steady)
            take = min(len(pool), max(2, n // 750))
            movers[rng.choice(pool, take, replace=False)] = True
        m = np.flatnonzero(movers)
        region = np.array(self.branch_region)
        old = np.empty(len(m), np.int64)
        for i, c in enumerate(m):
            same = np.flatnonzero((region == region[branch[c]]) & (np.arange(nb) != branch[c]))
            others = same if len(same) else np.flatnonzero(np.arange(nb) != branch[c])
            old[i] = rng.choice(others)
        moved_on = (
            cal.first_day
            + 1
            + (rng.random(len(m)) * (cal.last_day - cal.first_day)).astype(np.int64)
        )
        first = branch.copy()
        first[m] = old
        who = np.concatenate([ids, m])
        day = np.concatenate([self.opened, moved_on])
        held = np.concatenate([first, branch[m]])
        order = np.lexsort((day, who))
        self.insert(
            "customer_branch_history",
            {
                "customer_id": self.customer_ids_of(who[order]),
                "valid_from": _dates(day[order]),
                "branch_id": _pick(self.branch_ids, held[order]),
            },
        )

    def write_kyc_history(self, kyc: np.ndarray) -> None:
        """Each customer's KYC status from the day it took effect, ending in ``kyc``
        (today's): an expired customer's documents expired in the last two years; an
        incomplete one was asked for new information in the last year (or never
        completed, if newer); one complete customer in eight had let documents expire
        and renewed them within the window."""
        rng = self.rng("kyc history")
        n, cal = self.n, self.cal
        opened, last = self.opened, cal.last_day
        span = last - cal.first_day
        # customers too new for a change start with today's status
        short = (last - opened < 60) | ((kyc == 1) & (last - opened < 365))
        first = np.where(short, kyc, 0)
        moved = (kyc != 0) & ~short
        lo = np.maximum(opened + 30, last - 730)
        change = lo + (rng.random(n) * np.maximum(last - lo, 1)).astype(np.int64)
        renewed = (kyc == 0) & (rng.random(n) < 0.125) & (opened < cal.first_day - 30)
        lapse = cal.first_day + (rng.random(n) * span * 0.7).astype(np.int64)
        back = lapse + 20 + rng.integers(0, 120, n)
        rows = [(np.arange(n), opened, first)]
        rows.append((np.flatnonzero(moved), np.minimum(change, last)[moved], kyc[moved]))
        r = np.flatnonzero(renewed)
        rows.append((r, lapse[r], np.full(len(r), 2)))
        rows.append((r, np.minimum(back[r], last), np.zeros(len(r), np.int64)))
        who = np.concatenate([w for w, _, _ in rows])
        day = np.concatenate([d for _, d, _ in rows])
        status = np.concatenate([st for _, _, st in rows])
        order = np.lexsort((day, who))
        self.insert(
            "kyc_history",
            {
                "customer_id": self.customer_ids_of(who[order]),
                "valid_from": _dates(day[order]),
                "kyc_status": _pick(_KYC, status[order]),
            },
        )

    def id_numbers(self, rng, gender: np.ndarray) -> pa.Array:
        """18-character resident ID numbers (GB 11643 check digit) for individuals and
        unified social credit codes (GB 32100 check character) for corporates."""
        n = self.n
        area = _AREA_CODES[rng.integers(0, len(_AREA_CODES), n)]
        ymd = np.datetime_as_string(self.birth.astype("datetime64[D]")).astype("U10")
        ymd = np.char.replace(ymd, "-", "").astype(np.int64)
        seq = rng.integers(0, 500, n) * 2 + (gender == 0)  # odd for men
        number = area * 10**11 + ymd * 10**3 + seq
        digits = (number[:, None] // 10 ** np.arange(16, -1, -1)) % 10
        person = np.empty((n, 18), np.uint8)
        person[:, :17] = digits + ord("0")
        person[:, 17] = _ID_CHECK[(digits @ _ID_WEIGHTS) % 11]
        code = np.empty((n, 17), np.int64)
        code[:, 0], code[:, 1] = 9, 1
        code[:, 2:8] = (area[:, None] // 10 ** np.arange(5, -1, -1)) % 10
        code[:, 8:17] = rng.integers(0, 31, (n, 9))
        firm = np.empty((n, 18), np.uint8)
        firm[:, :17] = _USCC_CHARS[code]
        firm[:, 17] = _USCC_CHARS[(31 - (code @ _USCC_WEIGHTS) % 31) % 31]
        chars = np.where(self.corp[:, None], firm, person)
        return pa.array(chars.view("S18").ravel()).cast(pa.string())

    # --- loans ----------------------------------------------------------------------

    def make_loans(self) -> None:
        rng = self.rng("loans")
        cal, n = self.cal, self.n
        prime = (self.age > 25) & (self.age < 60)
        p = np.where(self.corp, 0.68, np.where(prime, 0.2, 0.09)) * np.where(self.is_new, 0.5, 1.0)
        self.borrower = rng.random(n) < p
        borrowers = np.flatnonzero(self.borrower)
        extra = np.where(
            self.corp[borrowers],
            rng.binomial(2, 0.3, len(borrowers)),
            rng.random(len(borrowers)) < 0.12,
        )
        fac_cust = np.repeat(borrowers, 1 + extra)
        nf = len(fac_cust)
        corp = self.corp[fac_cust]
        product = np.where(
            corp, 2 + _choice(rng, nf, [0.45, 0.35, 0.2]), _choice(rng, nf, [0.45, 0.55])
        )
        term = np.zeros(nf, np.int64)
        for k, options in enumerate(_TERMS):
            at = product == k
            term[at] = rng.choice(options, at.sum())
        term_days = (term * 30.44).astype(np.int64)
        # Loans started before the first month or new since, in the proportion that keeps
        # the book level and its age mix steady (so the NPL ratio is steady too); renewed
        # facilities start before the burn-in so every one has a settled history.
        span = cal.last_day - cal.first_day
        burn = int(_BURN_IN * 30.44)
        hi = cal.last_day - 15
        renew = product >= 3  # working capital and trade finance: renewed at maturity
        history = np.minimum(term_days, 3653)  # mortgages reach back ten years at most
        new = self.is_new[fac_cust] | (
            rng.random(nf) < np.where(renew, 0.1, span / (span + history + burn))
        )
        lo = np.where(
            new,
            np.maximum(self.opened[fac_cust] + 30, cal.first_day),
            cal.first_day - history - burn,
        )
        top = np.where(new, hi, np.where(renew, cal.first_day - burn, cal.first_day))
        start = lo + (rng.random(nf) * np.maximum(top - lo, 0)).astype(np.int64)
        # an older customer's account opened before the loan: move the opening back
        # (an adult's, at 18 at the earliest)
        adult = np.where(
            self.corp[fac_cust], np.iinfo(np.int64).min // 2, self.birth[fac_cust] + 6575
        )
        ok = (lo < top) & (start - 30 >= adult)
        fac_cust, product, term, term_days = fac_cust[ok], product[ok], term[ok], term_days[ok]
        start, adult, new = start[ok], adult[ok], new[ok]
        before = ~new & (start - 30 < self.opened[fac_cust])
        moved = np.maximum(start - 30 - rng.integers(0, 365, len(start)), adult)
        np.minimum.at(self.opened, fac_cust[before], moved[before])
        count = np.where(product >= 3, (hi - start) // term_days + 1, 1)
        fac = np.repeat(np.arange(len(start)), count)
        step = np.arange(len(fac)) - np.repeat(np.cumsum(count) - count, count)
        orig = start[fac] + step * term_days[fac]
        # loans repaid long before the first month never show: leave them out
        shown = orig + term_days[fac] >= cal.first_day - int(19 * 30.44)
        fac, orig = fac[shown], orig[shown]
        cust, product, term = fac_cust[fac], product[fac], term[fac]
        nl = len(orig)
        size = np.clip(
            np.exp(
                0.25 * (self.mu[cust] - np.where(self.corp[cust], np.log(400_000), np.log(30_000)))
            ),
            0.4,
            4,
        )
        principal = np.array(_MEDIAN_PRINCIPAL)[product] * size * rng.lognormal(0, 0.5, nl)
        principal = np.maximum(_round(principal, -3), 5000)
        low, high = np.array(_RATES).T
        risk = self.risk_z[cust]
        rate = low[product] + (high[product] - low[product]) * np.clip(
            0.5 + 0.2 * risk + rng.normal(0, 0.15, nl), 0, 1
        )
        collateral = _choice_rows(rng, _COLLATERAL_MIX[product])
        ltv = np.where(
            product == 0,
            np.clip(rng.normal(0.6, 0.13, nl), 0.3, 0.95),
            np.clip(rng.normal(0.55, 0.12, nl), 0.3, 0.9),
        )
        value = np.choose(
            collateral,
            [np.zeros(nl), principal / ltv, principal * rng.uniform(0.9, 1.8, nl), principal * rng.uniform(1.0, 1.5, nl),
             np.zeros(nl), principal * rng.uniform(0.2, 1.3, nl)],
        )  # fmt: skip
        has_value = (collateral != 0) & (collateral != 4)
        industry_risk = np.array([i[3] for i in _INDUSTRIES])[np.maximum(self.industry[cust], 0)]
        # deteriorating corporates (their statements show it) default more often
        self.deteriorating = self.corp & (rng.random(n) < np.where(self.borrower, 0.12, 0.08))
        p_default = (
            _DEFAULT_RATE[product]
            * np.exp(0.5 * risk)
            * np.where(self.corp[cust], industry_risk, 1.0)
        )
        p_default *= np.where(self.deteriorating[cust], 2.5, 1.0)
        orig_month = orig.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
        self.loan = {
            "cust": cust,
            "product": product,
            "term": term,
            "orig": orig,
            "orig_month": orig_month,
            "principal": principal,
            "rate": np.round(rate, 4),
            "kind": np.array([0, 0, 1, 2, 2])[product],  # annuity, linear, bullet
            "p_default": p_default,
            "offset": rng.integers(1, 31, nl),
            "watch_from": np.where(
                self.deteriorating[cust] & (rng.random(nl) < 0.3),
                int(cal.months[0]) - 12 + rng.integers(0, len(cal.months) + 12, nl),
                np.iinfo(np.int64).max // 2,
            ),
            "watch_months": rng.integers(6, 19, nl),
        }
        self.loan["story_start"] = self.npl_story(rng)
        # classification that lags: a few loans stay special mention up to 180 days past due
        self.loan["lags"] = self.rng("classification lag").random(nl) < 0.2
        # working capital and trade finance are drawn from a line: the rest of the limit
        # is an undrawn commitment (frozen while the loan is in arrears)
        line = self.rng("credit lines").uniform(0.1, 0.6, nl)
        self.loan["line"] = np.where(product >= 3, line, 0.0)
        maturity = _month_days(orig_month + term) + (orig - _month_days(orig_month))
        valued_on, dated = self.valuations(collateral, orig, maturity, has_value)
        ids = _ids("L", np.arange(1, nl + 1), max(8, len(str(nl))))
        self.loan_ids = ids
        mgr = self.manager[cust]
        self.insert(
            "loans",
            {
                "loan_id": ids,
                "customer_id": self.customer_ids_of(cust),
                "branch_id": _pick(self.branch_ids, self.customer_branch[cust]),
                "manager_id": self.staff_ids.take(pa.array(np.maximum(mgr, 0), mask=mgr < 0)),
                "product": _pick(_PRODUCTS, product),
                "originated_on": _dates(orig),
                "maturity_on": _dates(maturity),
                "principal": pa.array(principal),
                "interest_rate": pa.array(np.round(rate, 4)),
                "collateral_type": _pick(_COLLATERAL, collateral),
                "collateral_value": pa.array(_round(value, -3), mask=~has_value),
                "collateral_valued_on": _dates(valued_on, dated),
                "industry": pa.array(
                    np.array([i[0] for i in _INDUSTRIES])[np.maximum(self.industry[cust], 0)],
                    mask=~self.corp[cust],
                ),
            },
        )

    def valuations(self, collateral, orig, maturity, has_value):
        """Day each collateral value was last appraised, and whether it is recorded.

        Most values were revalued within their type's usual interval before the data's
        end (real estate 12 months, equipment 6, receivables 3, a pledged deposit marked
        monthly), some are overdue (up to 2.5 intervals old) and a few carry no date. A
        loan valued at origination keeps that day; a loan off the book was last valued
        before its maturity. Its own random stream: the other tables do not change.
        """
        rng, n, end = self.rng("collateral revaluation"), len(orig), self.cal.last_day
        interval = np.array([0, 12, 6, 3, 0, 1])[collateral] * 30.44
        overdue = rng.random(n) < np.array([0, 0.12, 0.15, 0.12, 0, 0.04])[collateral]
        age = np.where(
            overdue,
            interval * rng.uniform(1.05, 2.5, n) + 5,
            (interval - 2) * rng.random(n),
        )
        valued = np.maximum(end - age.astype(np.int64), orig - rng.integers(0, 31, n))
        valued = np.minimum(valued, maturity)
        return valued, has_value & (rng.random(n) >= 0.03)

    def customer_ids_of(self, idx) -> pa.Array:
        width = max(7, len(str(self.n)))
        return _ids("C", np.asarray(idx) + 1, width)

    def npl_story(self, rng) -> np.ndarray:
        """Month each story loan stops paying (a far-future month for the others)."""
        loan, end = self.loan, int(self.cal.months[-1])
        start = np.full(len(loan["cust"]), np.iinfo(np.int64).max // 2)
        story = self.story_index["npl_rise"]
        in_branch = self.customer_branch[loan["cust"]] == story
        alive = (loan["orig_month"] <= end - 9) & (loan["orig_month"] + loan["term"] >= end - 3)
        candidates = np.flatnonzero(in_branch & alive & (loan["product"] != 1))
        if not len(candidates):
            return start
        book = loan["principal"][np.flatnonzero(in_branch & alive)].sum()
        order = candidates[
            np.argsort(-loan["principal"][candidates] * rng.uniform(0.3, 1.5, len(candidates)))
        ]
        take = max(3, int(np.searchsorted(np.cumsum(loan["principal"][order]), 0.08 * book)) + 1)
        chosen = order[:take]
        start[chosen] = rng.integers(end - 8, end - 2, len(chosen))
        loan["p_default"][chosen] = 0.0
        return start

    # --- the monthly simulation ------------------------------------------------------

    def simulate(self) -> None:
        """Loans from before the first month (burn-in), then month by month every
        monthly table: loan snapshots, balances, transactions, surveys, complaints,
        AML alerts."""
        loan = self.loan
        nl = len(loan["cust"])
        self.missed = np.zeros(nl, np.int64)
        self.written_off = np.zeros(nl, bool)
        self.restructured = np.zeros(nl, bool)
        self.watch_until = np.full(nl, -1)
        first = int(self.cal.months[0])
        for mi in range(first - _BURN_IN, first):
            self.loan_step(mi)
        n = self.n
        rng = self.rng("initial state")
        self.x = rng.normal(0, 0.25, n)  # AR(1) deviation of log AUM
        self.dormant_now = rng.random(n) < 0.09
        self.complained = np.zeros(n, bool)
        self.counters = {"T": 0, "R": 0, "K": 0, "A": 0}
        self.width = {
            "T": max(10, len(str(3 * n * len(self.cal.months)))),
            "R": max(8, len(str(n * len(self.cal.months) // 10))),
            "K": max(7, len(str(n * len(self.cal.months) // 100))),
            "A": 7,
        }
        for t in range(len(self.cal.months)):
            outstanding = self.loan_step(int(self.cal.months[t]), write=t)
            loans_by_customer = np.bincount(loan["cust"], weights=outstanding, minlength=n)
            self.balances(t, loans_by_customer)
            self.transactions(t)
            if t == max(0, len(self.cal.months) - 5):
                self.pick_dormant_top(t)
            self.surveys(t)
            self.complaints(t)
            self.aml_alerts(t)

    def pick_dormant_top(self, t: int) -> None:
        """The dormant story: of the branch's customers who transacted this month and
        stay to the end, the top by this month's AUM make no transaction from next month."""
        story = self.story_index["dormant_top_customers"]
        stays = (self.opened <= self.cal.ends[t]) & (self.closed > self.cal.last_day)
        who = np.flatnonzero((self.customer_branch == story) & (self.txn_counts > 0) & stays)
        top = max(5, min(30, int(self.branch_size[story]) // 100))
        self.dormant_top = who[np.argsort(-self.aum[who], kind="stable")[:top]]

    def loan_step(self, mi: int, write: int | None = None) -> np.ndarray:
        """Advance every loan to the end of month ``mi``; return outstanding per loan
        (zero when not on the book) and write the snapshots when ``write`` is set."""
        loan = self.loan
        rng = self.rng("loan step", mi)
        k = mi - loan["orig_month"]
        was_on = (
            (k >= 1)
            & ~self.written_off
            & ~self.restructured
            & ((k - 1 < loan["term"]) | (self.missed > 0))
        )
        u = rng.random(len(k))
        missed = self.missed
        cure = _CURE[np.minimum(missed, len(_CURE) - 1)]
        new = np.where(
            missed == 0,
            (u < loan["p_default"]).astype(np.int64),
            np.where(u < cure, 0, np.where(u < cure + 0.08, missed, missed + 1)),
        )
        story = loan["story_start"]
        new = np.where(mi == story, np.maximum(new, 1), np.where(mi > story, missed + 1, new))
        self.watch_until = np.where(was_on & (missed >= 3) & (new == 0), mi + 6, self.watch_until)
        self.missed = np.where(was_on, new, missed)
        self.written_off |= self.missed > 18
        behind = was_on & (self.missed >= 2) & (self.missed <= 6) & ~self.written_off
        self.restructured |= behind & (self.rng("restructure", mi).random(len(k)) < 0.01)
        gone = self.written_off | self.restructured
        on = (k >= 0) & ~gone & ((k < loan["term"]) | (self.missed > 0))
        paid = np.clip(np.minimum(k, loan["term"]) - self.missed, 0, None)
        outstanding = np.where(on, self.schedule(paid), 0.0)
        if write is not None:
            self.write_snapshots(write, on, outstanding)
        return outstanding

    def write_closed_reasons(self) -> None:
        """``loans.closed_reason`` of every loan off the book at the last month's end:
        written off, restructured, or else repaid."""
        self.writer.flush()
        loan, last = self.loan, int(self.cal.months[-1])
        k = last - loan["orig_month"]
        on = (k >= 0) & ~self.written_off & ~self.restructured
        on &= (k < loan["term"]) | (self.missed > 0)
        reason = np.select([self.written_off, self.restructured], [1, 2], 0)
        idx = np.flatnonzero(~on)
        frame = pa.table(
            {
                "loan_id": self.loan_ids.take(pa.array(idx)),
                "closed_reason": _pick(["repaid", "written_off", "restructured"], reason[idx]),
            }
        )
        self.con.register("closed_reasons", frame)
        self.con.execute(
            "UPDATE loans SET closed_reason = r.closed_reason FROM closed_reasons r "
            "WHERE loans.loan_id = r.loan_id"
        )
        self.con.unregister("closed_reasons")

    def schedule(self, paid: np.ndarray) -> np.ndarray:
        """Outstanding after ``paid`` installments, by repayment kind."""
        loan = self.loan
        p, n = loan["principal"], loan["term"]
        r = loan["rate"] / 12
        grow_n, grow_k = (1 + r) ** n, (1 + r) ** paid
        annuity = p * (grow_n - grow_k) / (grow_n - 1)
        linear = p * (1 - paid / n)
        bullet = np.where(paid >= n, 0.0, p)
        return _round(np.maximum(np.choose(loan["kind"], [annuity, linear, bullet]), 0.0))

    def write_snapshots(self, t: int, on: np.ndarray, outstanding: np.ndarray) -> None:
        loan, mi = self.loan, int(self.cal.months[t])
        idx = np.flatnonzero(on)
        missed = self.missed[idx]
        dpd = np.where(missed == 0, 0, (missed - 1) * 30 + loan["offset"][idx])
        since = mi - loan["watch_from"][idx]
        watch = (self.watch_until[idx] >= mi) | ((since >= 0) & (since < loan["watch_months"][idx]))
        five = np.select([dpd > 360, dpd > 180, dpd > 90, (dpd > 0) | watch], [4, 3, 2, 1], 0)
        five = np.where(loan["lags"][idx] & (dpd > 90) & (dpd <= 180), 1, five)
        self.insert(
            "loan_snapshots",
            {
                "loan_id": self.loan_ids.take(pa.array(idx)),
                "month": pa.array(np.full(len(idx), self.cal.labels[t])),
                "outstanding": pa.array(outstanding[idx]),
                "dpd": pa.array(dpd),
                "five_class": _pick(_FIVE_CLASS, five),
                "undrawn": pa.array(
                    _round(np.where(missed == 0, loan["line"][idx] * loan["principal"][idx], 0.0))
                ),
            },
        )

    def open_days(self, t: int) -> tuple[np.ndarray, np.ndarray]:
        """First and last day each customer is open in month ``t`` (last < first: not open)."""
        lo = np.maximum(self.cal.starts[t], self.opened)
        hi = np.minimum(self.cal.ends[t], self.closed - 1)
        return lo, hi

    def balances(self, t: int, loans: np.ndarray) -> None:
        rng = self.rng("balances", t)
        cal, n = self.cal, self.n
        self.x = 0.88 * self.x + 0.12 * rng.standard_normal(n)
        tenure = (cal.ends[t] - self.opened) / 30.44
        ramp = np.log1p(-np.exp(-(np.maximum(tenure, 0) + 1) / 3))
        months_left = (self.closed - cal.ends[t]) / 30.44
        leaving = np.where(months_left < 3, np.log(0.2 + 0.25 * np.maximum(months_left, 0)), 0.0)
        drift = 0.003 * t + np.select(
            [self.manager == self.star, self.manager == self.laggard], [0.012 * t, -0.01 * t], 0.0
        )
        last = len(cal.months)
        dormant_months = t - (last - 4) + 1
        drift[self.dormant_top] += np.log(0.75) * max(dormant_months, 0)
        aum = np.exp(self.mu + self.x + ramp + leaving + drift)
        wealth = np.where(self.has_wealth, aum * self.wealth_share, 0.0)
        products = self.base_products + self.has_wealth + (loans > 0)
        is_open = (self.opened <= cal.ends[t]) & (self.closed > cal.ends[t])
        idx = np.flatnonzero(is_open)
        self.aum = aum
        deposits_avg, wealth_avg = self.average_daily(t, aum - wealth, wealth, is_open)
        self.insert(
            "balances",
            {
                "customer_id": self.customer_ids_of(idx),
                "month": pa.array(np.full(len(idx), cal.labels[t])),
                "deposits": pa.array(_round(aum[idx] - wealth[idx])),
                "wealth": pa.array(_round(wealth[idx])),
                "loans_outstanding": pa.array(_round(loans[idx])),
                "products_held": pa.array(np.clip(products[idx], 1, 8)),
                "deposits_avg": pa.array(_round(deposits_avg[idx])),
                "wealth_avg": pa.array(_round(wealth_avg[idx])),
            },
        )

    def average_daily(
        self, t: int, deposits: np.ndarray, wealth: np.ndarray, is_open: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The month's average daily deposits and wealth (日均): the balance moves from
        last month's end (0 for a customer not open then) to this month's end along a
        straight path with daily noise, and counts 0 on the days before the customer
        opened, so a customer opened mid-month averages well below its month end. Drawn
        from a stream of its own: the month-end balances stay as they were."""
        rng = self.rng("balances_avg", t)
        cal, n = self.cal, self.n
        lo, hi = self.open_days(t)
        days = cal.ends[t] - cal.starts[t] + 1
        share = np.clip((hi - lo + 1) / days, 0.0, 1.0)
        if t == 0 or not hasattr(self, "month_end_prev"):
            start_dep, start_wealth = deposits, wealth
        else:
            was_open, dep_prev, wealth_prev = self.month_end_prev
            start_dep = np.where(was_open, dep_prev, 0.0)
            start_wealth = np.where(was_open, wealth_prev, 0.0)
        self.month_end_prev = (is_open, deposits, wealth)
        # the mean of a straight path over the days open, and the noise of the month's
        # daily balances around it (a few per cent, averaged over some thirty days)
        noise = np.exp(0.04 * rng.standard_normal((2, n)))
        new = lo > cal.starts[t]  # opened this month: the path starts at 0 on the day
        dep = np.where(new, deposits / 2, (start_dep + deposits) / 2) * share * noise[0]
        wel = np.where(new, wealth / 2, (start_wealth + wealth) / 2) * share * noise[1]
        return dep, np.where(wealth > 0, wel, 0.0)

    def transactions(self, t: int) -> None:
        rng = self.rng("transactions", t)
        cal, n = self.cal, self.n
        self.dormant_now = np.where(self.dormant_now, rng.random(n) > 0.2, rng.random(n) < 0.02)
        lo, hi = self.open_days(t)
        span = np.maximum(hi - lo + 1, 0)
        days_in_month = cal.ends[t] - cal.starts[t] + 1
        rate = self.lam * span / days_in_month * ~self.dormant_now
        if t >= len(cal.months) - 4:
            rate[self.dormant_top] = 0.0
        counts = self.txn_counts = rng.poisson(rate)
        who = np.repeat(np.arange(n), counts)
        m = len(who)
        day = lo[who] + (rng.random(m) * span[who]).astype(np.int64)
        order = np.argsort((day - cal.starts[t]).astype(np.int16), kind="stable")
        who, day = who[order], day[order]
        segment = np.where(self.corp[who], 2, np.where(self.age[who] < 45, 0, 1))
        channel = _choice_rows(rng, _TXN_MIX[segment]) if m else np.zeros(0, np.int64)
        typical = np.clip(self.aum[who] * 0.015, 80, 2_000_000)
        amount = np.maximum(_round(typical * rng.lognormal(0, 1.0, m)), 1.0)
        direction = rng.random(m) < np.where(self.corp[who], 0.5, 0.45)
        first = self.counters["T"] + 1
        self.counters["T"] += m
        self.insert(
            "transactions",
            {
                "txn_id": _ids("T", np.arange(first, first + m), self.width["T"]),
                "customer_id": self.customer_ids_of(who),
                "txn_date": _dates(day),
                "channel": _pick(_TXN_CHANNELS, channel),
                "amount": pa.array(amount),
                "direction": _pick(["out", "in"], direction.astype(np.int64)),
            },
        )

    def surveys(self, t: int) -> None:
        rng = self.rng("surveys", t)
        cal, n = self.cal, self.n
        lo, hi = self.open_days(t)
        p = 0.25 / 12 * np.where(self.manager >= 0, 1.15, 0.8)
        who = np.flatnonzero((hi >= lo) & (rng.random(n) < p))
        m = len(who)
        day = lo[who] + (rng.random(m) * (hi - lo + 1)[who]).astype(np.int64)
        older = self.age[who] >= 50
        channel = np.where(
            older, _choice(rng, m, [0.5, 0.2, 0.2, 0.1]), _choice(rng, m, [0.25, 0.45, 0.1, 0.2])
        )
        mgr = self.manager[who]
        base = 4.15 + 0.55 * self.sentiment[who] + self.branch_mood[self.customer_branch[who]]
        base += np.where(mgr >= 0, self.staff_mood[np.maximum(mgr, 0)], 0.0) + rng.normal(
            0, 0.35, m
        )
        latent = base[:, None] + _RATING_OFFSET + rng.normal(0, 0.6, (m, 6))
        k = t - (len(cal.months) - STORIES["satisfaction_drop"]["months"]) + 1
        if k > 0:  # the satisfaction story: a little worse every month
            hit = self.customer_branch[who] == self.story_index["satisfaction_drop"]
            latent[hit] -= k * np.array([0.18, 0.22, 0.18, 0.1, 0.0, 0.0])
        weights = np.array([SATISFACTION_WEIGHTS[r] for r in _RATINGS])
        csat_latent = latent @ weights + rng.normal(0, 0.3, m)
        csat = np.clip(np.round(csat_latent), 1, 5).astype(np.int64)
        nps = np.clip(
            np.round(2.6 * (csat_latent - 1) + 0.3 + rng.normal(0, 1.0, m)), 0, 10
        ).astype(np.int64)
        ratings = np.clip(np.round(latent), 1, 5).astype(np.int64)
        remote = channel != 0
        missing = rng.random((m, 6)) < np.column_stack(
            [np.full(m, 0.04), np.full(m, 0.02), np.full(m, 0.03), np.full(m, 0.06),
             np.where(remote, 0.6, 0.05), np.where(remote, 0.05, 0.5)]
        )  # fmt: skip
        missing |= (rng.random(m) < 0.003)[:, None]
        first = self.counters["R"] + 1
        self.counters["R"] += m
        columns = {
            "response_id": _ids("R", np.arange(first, first + m), self.width["R"]),
            "customer_id": self.customer_ids_of(who),
            "branch_id": _pick(self.branch_ids, self.customer_branch[who]),
            "manager_id": self.staff_ids.take(pa.array(np.maximum(mgr, 0), mask=mgr < 0)),
            "responded_on": _dates(day),
            "channel": _pick(_SURVEY_CHANNELS, channel),
            "csat": pa.array(csat),
            "nps": pa.array(nps),
        }
        for j, name in enumerate(_RATINGS):
            columns[name] = pa.array(ratings[:, j], mask=missing[:, j])
        self.insert("surveys", columns)

    def complaints(self, t: int) -> None:
        rng = self.rng("complaints", t)
        cal, n = self.cal, self.n
        lo, hi = self.open_days(t)
        p = 0.0023 * np.exp(-0.5 * self.sentiment) * np.where(self.complained, 5.0, 1.0)
        k = t - (len(cal.months) - STORIES["satisfaction_drop"]["months"]) + 1
        if k > 0:
            p = p * np.where(
                self.customer_branch == self.story_index["satisfaction_drop"], 1 + 0.4 * k, 1.0
            )
        who = np.flatnonzero((hi >= lo) & (rng.random(n) < p))
        self.complained[who] = True
        m = len(who)
        day = lo[who] + (rng.random(m) * (hi - lo + 1)[who]).astype(np.int64)
        clock = np.where(rng.random(m) < 0.9, rng.uniform(8, 21, m), rng.uniform(0, 24, m))
        received = day * 86400 + (clock * 3600).astype(np.int64)
        channel = _choice(rng, m, _COMPLAINT_CHANNELS[1])
        severity = _choice(rng, m, _SEVERITY[1])
        slow = np.where(channel == 4, 8.0, 1.0)  # letters are answered later
        first_h = rng.lognormal(np.log(4), 1.0, m) * slow
        plan_h = first_h + rng.lognormal(np.log(20), 0.6, m)
        fix_days = rng.exponential(np.array([3.0, 6.0, 12.0])[severity])
        stuck = rng.random(m) < 0.01
        first_at = received + (first_h * 3600).astype(np.int64)
        plan_at = received + (plan_h * 3600).astype(np.int64)
        resolved = plan_at + (fix_days * 86400).astype(np.int64)
        cutoff = (cal.last_day + 1) * 86400
        mgr = self.manager[who]
        start = self.counters["K"] + 1
        self.counters["K"] += m
        self.insert(
            "complaints",
            {
                "complaint_id": _ids("K", np.arange(start, start + m), self.width["K"]),
                "customer_id": self.customer_ids_of(who),
                "branch_id": _pick(self.branch_ids, self.customer_branch[who]),
                "manager_id": self.staff_ids.take(pa.array(np.maximum(mgr, 0), mask=mgr < 0)),
                "received_at": _times(received),
                "first_response_at": _times(first_at, first_at < cutoff),
                "plan_at": _times(plan_at, plan_at < cutoff),
                "resolved_at": _times(resolved, (resolved < cutoff) & ~stuck),
                "category": _pick(_CATEGORIES[0], _choice(rng, m, _CATEGORIES[1])),
                "channel": _pick(_COMPLAINT_CHANNELS[0], channel),
                "severity": _pick(_SEVERITY[0], severity),
            },
        )

    def aml_alerts(self, t: int) -> None:
        rng = self.rng("aml", t)
        cal = self.cal
        lo, hi = self.open_days(t)
        candidates = np.flatnonzero(hi >= lo)
        weight = (
            (self.lam[candidates] + 0.5)
            * np.sqrt(self.aum[candidates])
            * np.where(self.corp[candidates], 2, 1)
        )
        m = min(rng.poisson(3 * self.nb), len(candidates))
        who = np.sort(rng.choice(candidates, size=m, replace=False, p=weight / weight.sum()))
        day = lo[who] + (rng.random(m) * (hi - lo + 1)[who]).astype(np.int64)
        # closed or reported after a delay (a few stay open for long); still open at the
        # last day when the delay runs past it
        rest = self.rng("aml closing", t)
        delay = np.where(
            rest.random(m) < 0.05, rest.exponential(200, m), 3 + rest.exponential(30, m)
        ).astype(np.int64)
        reported = rest.random(m) < 0.125
        closed_on = day + delay
        still_open = closed_on > cal.last_day
        status = np.where(still_open, 0, np.where(reported, 2, 1))
        start = self.counters["A"] + 1
        self.counters["A"] += m
        self.insert(
            "aml_alerts",
            {
                "alert_id": _ids("A", np.arange(start, start + m), self.width["A"]),
                "customer_id": self.customer_ids_of(who),
                "raised_on": _dates(day),
                "alert_type": _pick(_ALERT_TYPES[0], _choice(rng, m, _ALERT_TYPES[1])),
                "status": _pick(["open", "closed", "reported"], status),
                "closed_on": _dates(closed_on, ~still_open),
            },
        )

    # --- statements and targets -----------------------------------------------------

    def make_financials(self) -> None:
        """Statements at June 30 and December 31 (semi-annual reporters) or December 31
        only, published 60-90 days after period end, from three years back."""
        rng = self.rng("financials")
        cal = self.cal
        last_year = int(str(cal.months[-1].astype("datetime64[M]").astype("datetime64[Y]")))
        ends = []
        for year in range(last_year - 3, last_year + 1):
            for month, day, lag in ((6, 30, 60), (12, 31, 90)):
                d = int(np.datetime64(f"{year}-{month:02d}-{day}").astype(np.int64))
                if d + lag <= cal.last_day:
                    ends.append((d, month == 12))
        corp = np.flatnonzero(self.corp & (self.borrower | (rng.random(self.n) < 0.85)))
        nc, npd = len(corp), len(ends)
        if not nc or not npd:
            return
        semi = rng.random(nc) < np.where(self.borrower[corp], 0.6, 0.3)
        j = np.arange(npd)[None, :]
        growth = rng.normal(0.025, 0.03, nc)[:, None]
        det = self.deteriorating[corp][:, None]
        det_from = npd - rng.integers(2, 4, nc)[:, None]
        steps = np.where(det, np.maximum(j - det_from + 1, 0), 0)
        revenue = np.exp(self.mu[corp] + np.log(15) + rng.normal(0, 0.5, nc))[:, None]
        revenue = revenue * np.exp(growth * j + rng.normal(0, 0.03, (nc, npd))) * 0.88**steps
        assets = (
            revenue * rng.uniform(0.6, 1.5, nc)[:, None] * np.exp(rng.normal(0, 0.03, (nc, npd)))
        )
        debt = np.clip(rng.normal(0.5, 0.1, nc)[:, None] + 0.08 * steps, 0.1, 1.1)
        liabilities = assets * debt
        current_assets = assets * rng.uniform(0.35, 0.65, nc)[:, None]
        ratio = np.clip(rng.normal(1.5, 0.3, nc), 1.05, 3.0)[:, None] * 0.82**steps
        current_liab = np.minimum(current_assets / ratio, 0.98 * liabilities)
        inventory = np.minimum(
            current_assets * rng.uniform(0.15, 0.35, nc)[:, None] * 1.18**steps,
            0.6 * current_assets,
        )
        receivables = np.minimum(
            current_assets * rng.uniform(0.12, 0.3, nc)[:, None] * 1.1**steps, 0.35 * current_assets
        )
        margin = rng.normal(0.06, 0.035, nc)[:, None] - 0.035 * steps
        profit = revenue * margin
        cash = np.where(
            steps > 0, -revenue * 0.03 * steps, profit * rng.uniform(0.8, 1.4, (nc, npd))
        )
        cash = cash + revenue * rng.normal(0, 0.01, (nc, npd))
        annual = np.array([e[1] for e in ends])[None, :]
        keep = semi[:, None] | annual
        rows, cols = np.nonzero(keep)
        period = np.array([e[0] for e in ends])[cols]

        def money(a):
            return pa.array(_round(a[rows, cols]))

        self.insert(
            "financials",
            {
                "customer_id": self.customer_ids_of(corp[rows]),
                "period_end": _dates(period),
                "revenue": money(revenue),
                "net_profit": money(profit),
                "total_assets": money(assets),
                "total_liabilities": money(liabilities),
                "current_assets": money(current_assets),
                "current_liabilities": money(current_liab),
                "inventory": money(inventory),
                "receivables": money(receivables),
                "operating_cash_flow": money(cash),
            },
        )

    def make_targets(self) -> None:
        """Targets from the actuals: the bank-wide average of the manager's grade."""
        self.writer.flush()
        actual = self.con.execute(
            """
            WITH book AS (
                SELECT c.manager_id AS staff_id, b.month,
                       sum(b.deposits + b.wealth) AS aum, sum(b.deposits) AS deposits,
                       sum(b.loans_outstanding) AS loans, avg(b.products_held) AS ppc
                FROM balances b JOIN customers c USING (customer_id)
                WHERE c.manager_id IS NOT NULL GROUP BY ALL),
            moves AS (
                SELECT staff_id, month, aum, deposits, loans, ppc,
                       aum - lag(aum) OVER w AS d_aum, deposits - lag(deposits) OVER w AS d_dep,
                       loans - lag(loans) OVER w AS d_loans
                FROM book WINDOW w AS (PARTITION BY staff_id ORDER BY month)),
            won AS (
                SELECT manager_id AS staff_id, strftime(opened_on, '%Y-%m') AS month, count(*) AS n
                FROM customers WHERE manager_id IS NOT NULL GROUP BY ALL)
            SELECT s.grade, avg(coalesce(w.n, 0)), avg(d_aum), avg(d_dep), avg(d_loans), avg(ppc),
                   avg(aum), avg(deposits), avg(loans)
            FROM moves m JOIN staff s USING (staff_id) LEFT JOIN won w USING (staff_id, month)
            WHERE d_aum IS NOT NULL GROUP BY s.grade
            """
        ).fetchall()
        norm = np.tile([1.0, 1000.0, 1000.0, 1000.0, 2.0], (3, 1))  # per grade and KPI
        for grade, new, d_aum, d_dep, d_loans, ppc, aum, dep, loans in actual:
            floor = 0.002 * np.array(
                [aum or 0, dep or 0, loans or 0]
            )  # growth targets stay positive
            norm[_GRADES.index(grade)] = [
                max(1.0, round(new or 0)),
                *np.maximum([d_aum or 0, d_dep or 0, d_loans or 0], np.maximum(floor, 1000)),
                ppc or 2.0,
            ]
        rng = self.rng("targets")
        staff = np.flatnonzero(self.staff_active)
        months = len(self.cal.months)
        factor = rng.uniform(0.9, 1.1, (len(staff), 1, 5))
        factor[:, :, 0] = 1.0  # new customers: whole numbers
        recent = (np.arange(months) >= months - 12)[None, :, None]
        uplift = np.where(recent, [1.06, 1.06, 1.06, 1.06, 1.02], 1.0)
        table = norm[self.staff_grade[staff]][:, None, :] * factor * uplift
        table[:, :, 0] = np.maximum(np.round(table[:, :, 0]), 1)
        table[:, :, 1:4] = np.maximum(_round(table[:, :, 1:4], -3), 1000)
        table[:, :, 4] = np.round(table[:, :, 4], 2)
        s_idx, m_idx, k_idx = np.indices(table.shape).reshape(3, -1)
        self.insert(
            "targets",
            {
                "staff_id": self.staff_ids.take(pa.array(staff[s_idx])),
                "period": _pick(self.cal.labels, m_idx),
                "kpi": _pick(_KPIS, k_idx),
                "target": pa.array(table.reshape(-1)),
            },
        )

    def make_development(self) -> None:
        """Courses completed (``staff_training``) and certifications held
        (``staff_certifications``), from their own random stream so that every other
        table is unchanged. A manager's yearly hours vary around the 80 required (about
        one in four falls short); about one professional in seven holds no
        certification and one senior in six only the primary one."""
        rng = self.rng("staff development")
        ns = len(self.staff_ids)
        first = self.cal.first_day - 365
        last = self.cal.last_day
        pace = rng.uniform(0.55, 1.45, ns) * 90.0 / 365.25  # hours a day
        start = np.maximum(self.staff_hired, first)
        span = np.maximum(last - start, 1)
        n = rng.poisson(pace * span / 8.0)  # courses of 8 hours on average
        who = np.repeat(np.arange(ns), n)
        day = start[who] + (rng.random(len(who)) * span[who]).astype(np.int64)
        hours = rng.choice([4.0, 6.0, 8.0, 12.0, 16.0], len(who), p=[0.2, 0.2, 0.3, 0.2, 0.1])
        course = rng.integers(0, len(_COURSES), len(who))
        # one course a day per manager and title (the table's key)
        _, keep = np.unique(np.stack([who, day, course], axis=1), axis=0, return_index=True)
        order = keep[np.lexsort((day[keep], who[keep]))]
        self.insert(
            "staff_training",
            {
                "staff_id": self.staff_ids.take(pa.array(who[order])),
                "completed_on": _dates(day[order]),
                "hours": pa.array(hours[order]),
                "course": _pick(_COURSES, course[order]),
            },
        )
        g = self.staff_grade
        u = rng.random(ns)
        level = np.select(
            [g == 0, g == 1, g == 2],
            [
                np.where(u < 0.5, 1, 0),
                np.where(u < 0.14, 0, np.where(u < 0.9, 1, 2)),
                np.where(u < 0.17, 1, np.where(u < 0.85, 2, 3)),
            ],
        )
        held = np.flatnonzero(level > 0)
        since = self.staff_hired[held] + (
            rng.random(len(held)) * np.maximum(last - self.staff_hired[held], 1)
        ).astype(np.int64)
        self.insert(
            "staff_certifications",
            {
                "staff_id": self.staff_ids.take(pa.array(held)),
                "certification": _pick(_CERTIFICATIONS, level[held]),
                "obtained_on": _dates(since),
            },
        )

    def make_holdings(self) -> None:
        """Products held at each month end, from the balances (see the module docstring)."""
        self.writer.flush()
        rng = self.rng("holdings")
        n = self.n
        level = np.array([p[2] for p in HOLDING_PRODUCTS])
        on_wealth = np.array([p[3] == "wealth" for p in HOLDING_PRODUCTS])
        held = np.zeros((n, len(HOLDING_PRODUCTS)), bool)
        held[:, 0] = True
        held[:, 1] = rng.random(n) < 0.45
        fits = on_wealth[None, :] & (level[None, :] <= self.risk[:, None])
        held |= fits & (rng.random(held.shape) < 0.35) & self.has_wealth[:, None]
        first = {lv: int(np.flatnonzero(on_wealth & (level == lv))[0]) for lv in range(5)}
        none = self.has_wealth & ~(held & on_wealth[None, :]).any(axis=1)
        top = np.array([first[r] for r in range(5)])  # the appetite's own level
        held[np.flatnonzero(none), top[self.risk[none]]] = True
        above = self.has_wealth & (self.risk < 4) & (rng.random(n) < 0.03)
        held[np.flatnonzero(above), top[np.minimum(self.risk + 1, 4)[above]]] = True
        branch0 = np.flatnonzero((self.staff_branch == 0) & self.staff_active)
        seller = branch0[self.staff_grade[branch0] == 2][0]
        marks = np.flatnonzero((self.manager == seller) & self.has_wealth & (self.risk <= 1))
        held[marks[:_MISSOLD], first[4]] = True
        who, what = np.nonzero(held)
        weight = rng.gamma(2.0, 1.0, len(who))
        pool = on_wealth[what].astype(np.int64)
        total = np.zeros((n, 2))
        np.add.at(total, (who, pool), weight)
        mix = pa.table(
            {
                "customer_id": self.customer_ids_of(who),
                "product_id": _pick([p[0] for p in HOLDING_PRODUCTS], what),
                "product_type": _pick([p[1] for p in HOLDING_PRODUCTS], what),
                "risk_level": _pick(_RISK, level[what]),
                "on_wealth": pa.array(on_wealth[what]),
                "weight": pa.array(weight / total[who, pool]),
            }
        )
        self.con.register("holding_mix", mix)
        self.con.execute(
            """
            INSERT INTO holdings BY NAME
            SELECT b.customer_id, b.month, m.product_id, m.product_type, m.risk_level,
                   round(CASE WHEN m.on_wealth THEN b.wealth ELSE b.deposits END * m.weight, 2)
                       AS balance
            FROM balances b JOIN holding_mix m USING (customer_id)
            WHERE round(CASE WHEN m.on_wealth THEN b.wealth ELSE b.deposits END * m.weight, 2) > 0
            ORDER BY b.customer_id, b.month, m.product_id
            """
        )
        self.con.unregister("holding_mix")

    def make_profiles(self) -> None:
        """Occupation and monthly income band of individuals (corporates: empty), from
        age and wealth, on a stream of their own; one in ten is not recorded."""
        self.writer.flush()
        rng = self.rng("profiles")
        n, age = self.n, self.age
        job = _choice(rng, n, [0.06, 0.18, 0.2, 0.2, 0.14, 0.04, 0.1, 0.0, 0.0, 0.08])
        job = np.where(age >= 60, np.where(rng.random(n) < 0.8, 7, job), job)
        job = np.where(age < 23, np.where(rng.random(n) < 0.7, 8, job), job)
        band = np.clip(
            np.round((self.mu - np.log(30_000)) / 1.1 + 1.2 + rng.normal(0, 0.7, n)), 0, 4
        )
        known = ~self.corp & (rng.random(n) < 0.9)
        occupations = [
            "official", "professional", "clerk", "service", "worker", "farmer",
            "business_owner", "retired", "student", "other",
        ]  # fmt: skip
        self.con.register(
            "profile_rows",
            pa.table(
                {
                    "customer_id": self.customer_ids,
                    "occupation": pa.array(np.array(occupations)[job], mask=~known),
                    "income_band": pa.array(
                        np.array(["lt_5k", "5k_10k", "10k_20k", "20k_50k", "ge_50k"])[
                            band.astype(np.int64)
                        ],
                        mask=~known,
                    ),
                }
            ),
        )
        self.con.execute(
            "UPDATE customers SET occupation = p.occupation, income_band = p.income_band "
            "FROM profile_rows p WHERE customers.customer_id = p.customer_id"
        )
        self.con.unregister("profile_rows")

    def make_contacts(self) -> None:
        """Managers' contacts with their customers: at most one a month, more often the
        richer the customer (about every 2 months above CNY 500,000, every 10 below
        50,000), while the customer is open; the manager story's laggard makes a
        quarter of them. From a stream of its own."""
        rng = self.rng("contacts")
        cal, n = self.cal, self.n
        rich = np.clip((self.mu - np.log(50_000)) / np.log(10), 0, 1)
        p = 0.1 + 0.4 * rich
        p = np.where(self.manager == self.laggard, p / 4, p)
        p = np.where(self.manager < 0, 0.0, p)
        span = cal.ends - cal.starts + 1
        day = cal.starts[None, :] + (rng.random((n, len(span))) * span[None, :]).astype(np.int64)
        hit = rng.random((n, len(span))) < p[:, None]
        hit &= (day >= self.opened[:, None]) & (day < self.closed[:, None])
        who, month = np.nonzero(hit)
        when = day[who, month]
        order = np.lexsort((who, when))
        who, when = who[order], when[order]
        k = len(who)
        width = max(7, len(str(k)))
        self.insert(
            "contacts",
            {
                "contact_id": _ids("V", np.arange(1, k + 1), width),
                "customer_id": self.customer_ids_of(who),
                "staff_id": self.staff_ids.take(pa.array(self.manager[who])),
                "contacted_on": _dates(when),
                "channel": _pick(
                    ["phone", "visit", "branch", "online"], _choice(rng, k, [0.6, 0.15, 0.15, 0.1])
                ),
                "purpose": _pick(
                    ["follow_up", "review", "marketing", "service"],
                    _choice(rng, k, [0.5, 0.2, 0.2, 0.1]),
                ),
            },
        )


if __name__ == "__main__":
    raise SystemExit(main())
