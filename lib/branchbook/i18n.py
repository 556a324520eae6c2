"""Text catalogues: every visible string of a report, in ``en`` and ``zh-CN``.

Catalogues are YAML files ``locales/<locale>/<name>.yaml`` inside the package, one
per report plus ``common.yaml``; their nested keys are joined with dots
(``segmentation.sections.tiers.title``). Both locales must hold the same keys (a
test checks). A missing key is an error, never an English fallback, so a report
cannot silently mix languages.

Placeholders use Python format syntax with a formatter name as the format spec
(see :data:`branchbook.fmt.FORMATTERS`)::

    "The top 20% hold {share:pct} of AUM"  ->  "The top 20% hold 81.2% of AUM"
"""

from __future__ import annotations

import re
import string
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from . import fmt

LOCALE_DIR = Path(__file__).with_name("locales")
LOCALES = ("en", "zh-CN")


class MissingText(KeyError):
    """A catalogue key that one locale lacks."""


def _flatten(data: Any, prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            out.update(_flatten(value, f"{prefix}{key}."))
    else:
        out[prefix[:-1]] = "" if data is None else str(data)
    return out


# libyaml's loader when PyYAML was built with it: the catalogues are read in every
# kernel and every renderer, and the pure-Python loader spends ~0.05 s a report on them.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@lru_cache(maxsize=8)
def catalogue(locale: str) -> dict[str, str]:
    """All keys of one locale, flattened."""
    if locale not in LOCALES:
        raise ValueError(
            f"locale is expected to be one of ({', '.join(LOCALES)}). Got {locale!r} instead."
        )
    out: dict[str, str] = {}
    for path in sorted((LOCALE_DIR / locale).glob("*.yaml")):
        with path.open(encoding="utf-8") as fh:
            out.update(_flatten(yaml.load(fh, Loader=_LOADER) or {}))
    return out


class _Formatter(string.Formatter):
    def __init__(self, locale: str, currency: str = "CNY"):
        self.locale = locale
        self.currency = currency

    def format_field(self, value: Any, format_spec: str) -> str:
        if format_spec == "money":  # in the bank's currency, as the tables and cards
            return fmt.money(value, self.locale, self.currency)
        if format_spec in fmt.FORMATTERS:
            return fmt.format_value(value, format_spec, self.locale)
        return super().format_field(value, format_spec)


def t(key: str, locale: str, /, **values: Any) -> str:
    """The text of ``key`` in ``locale`` with ``values`` formatted in (money in CNY)."""
    return _text(key, locale, "CNY", values)


def _text(key: str, locale: str, currency: str, values: dict[str, Any]) -> str:
    try:
        template = catalogue(locale)[key]
    except KeyError:
        raise MissingText(f"text {key!r} is missing from the {locale} catalogue") from None
    if not values and "{" not in template:
        return template
    return _Formatter(locale, currency).format(template, **values)


def has(key: str, locale: str) -> bool:
    """True if ``key`` exists in ``locale``'s catalogue."""
    return key in catalogue(locale)


def label(prefix: str, value: Any, locale: str) -> str:
    """The display label of a coded value (``tier`` ``mass`` -> 大众客户); the code if none."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    key = f"{prefix}.{value}"
    return t(key, locale) if has(key, locale) else fmt.text(value, locale)


#: The levels a report is written for: a branch's, a region's, the whole bank's.
LEVELS = ("branch", "region", "bank")


@lru_cache(maxsize=16)
def _level_words(locale: str, level: str) -> tuple[tuple[re.Pattern[str], str], ...]:
    """The catalogue's ``common.level_words.<level>.*`` pairs ``"from => to"`` as
    patterns; an English phrase matches whole words only ("the branch" not in "the
    branches")."""
    if level not in LEVELS:
        raise ValueError(
            f"level is expected to be one of ({', '.join(LEVELS)}). Got {level!r} instead."
        )
    if level == "branch":
        return ()
    cat = catalogue(locale)
    prefix = f"common.level_words.{level}."
    out = []
    for key in sorted(k for k in cat if k.startswith(prefix)):
        old, sep, new = cat[key].partition(" => ")
        if not sep or not old:
            continue
        start = r"\b" if old[:1].isascii() and old[:1].isalpha() else ""
        end = r"\b" if old[-1:].isascii() and old[-1:].isalpha() else ""
        out.append((re.compile(start + re.escape(old) + end), new))
    return tuple(out)


def at_level(text: str, locale: str, level: str) -> str:
    """``text`` written for ``level``: at a region's or the bank's report the phrases
    that name the report's own unit ("the branch", 本网点) say the region or the bank
    (``common.level_words``); a branch's text as it is.

    >>> at_level("The branch's NPL ratio; other branches", "en", "region")
    "The region's NPL ratio; other branches"
    """
    for pattern, new in _level_words(locale, level):
        text = pattern.sub(new, text)
    return text


class Translator:
    """``t`` bound to one locale, for a notebook: ``tr = Translator("zh-CN"); tr("common.x")``;
    with ``level`` (``region``, ``bank``) its texts name that level (:func:`at_level`)."""

    def __init__(self, locale: str, currency: str = "CNY", level: str = "branch"):
        catalogue(locale)
        _level_words(locale, level)
        self.locale = locale
        self.currency = currency  # the bank's: the ``{x:money}`` of a sentence is in it
        self.level = level

    def __call__(self, key: str, /, **values: Any) -> str:
        text = _text(key, self.locale, self.currency, values)
        return at_level(text, self.locale, self.level)

    def label(self, prefix: str, value: Any) -> str:
        return label(prefix, value, self.locale)
