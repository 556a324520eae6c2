"""The metric layer: every metric a report shows is declared once, here or in its
report's ``metrics`` module, and read from that one declaration by the KPI cards, the
bank-median benchmarks, the index's headline columns, the definitions appendix and the
summary sentences.

- :mod:`.declare`: the :class:`Metric` record and the catalogue of all of them;
- :mod:`.cards`: KPI-card frames (value, last period, bank median, rank, status) from
  the declarations;
- :mod:`.ratio`: the one rule for a ratio with a zero or missing denominator;
- :mod:`.models`: the building blocks several reports share (AUM and asset tier, CSAT
  on the one 0-100 scale, when a customer has closed, which loans are NPL);
- :mod:`.basis`: which balance a customer's AUM is read on (average daily or month end)
  and the note when a warehouse without average daily balances falls back;
- :mod:`.history`: point-in-time facts (alerts, KYC status, loan exits as they were);
- :mod:`.scopes`: a KPI that does not add up across branches (a concentration),
  measured on the bank's and each region's pooled rows;
- :mod:`.shared`: those blocks computed once per period in prepare, as the tables
  ``customer_month``, ``loan_month``, ``survey_scored`` and ``churn`` every report's
  prepare reads.

Reports import the metric layer, never each other.
"""

from .declare import Metric, catalogue, declare, get, of_report
from .ratio import ratio

__all__ = ["Metric", "catalogue", "declare", "get", "of_report", "ratio"]
