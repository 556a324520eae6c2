"""Statistics shared by the reports: methods, not metrics.

* :mod:`.bridges`: what changed between two month ends and why: the stock bridge
  (opening -> new -> growth -> decline -> lost -> closing), the symmetric rate/mix
  shift-share of a ratio and the migration matrix of balances. Every part is an
  amount or a ratio difference, and the parts add up exactly.
* :mod:`.measures`: how well a score ranks (AUC with DeLong's interval, KS, Gini), PSI
  and the exact binomial test, for every model a report validates (the credit scorecard,
  the churn model).
"""

from .bridges import (
    MIGRATION_EXITS,
    STOCK_COLUMNS,
    STOCK_PARTS,
    balance_migration,
    largest_driver,
    rate_mix,
    rate_mix_by,
    rate_mix_total,
    residual,
    stock_bridge,
    stock_total,
)

__all__ = [
    "MIGRATION_EXITS",
    "STOCK_COLUMNS",
    "STOCK_PARTS",
    "balance_migration",
    "largest_driver",
    "rate_mix",
    "rate_mix_by",
    "rate_mix_total",
    "residual",
    "stock_bridge",
    "stock_total",
]
