"""How published files are named in each locale, and the --locales value."""

from __future__ import annotations

import pytest

from branchbook.output import names


def test_the_branchs_own_locale_keeps_the_plain_name_another_has_it_in_the_name():
    assert names.file_name("risk", "zh-CN", own="zh-CN", fmt="html") == "risk.html"
    assert names.file_name("risk", "en", own="zh-CN", fmt="pdf") == "risk.en.pdf"
    assert names.file_name("risk", "zh-CN", own="en", fmt="xlsx") == "risk.zh-CN.xlsx"
    assert names.key("0101", "staff_kpi", "en", own="zh-CN") == "0101/staff_kpi.en"
    assert names.key("0101", "staff_kpi", "en", own="en") == "0101/staff_kpi"


@pytest.mark.parametrize(
    ("name", "parts"),
    [
        ("risk.html", ("risk", None, "html")),
        ("risk.en.pdf", ("risk", "en", "pdf")),
        ("staff_kpi.zh-CN.xlsx", ("staff_kpi", "zh-CN", "xlsx")),
        ("risk.fr.pdf", None),  # not a supported locale
        ("risk", None),
        (".html", None),
    ],
)
def test_split_reads_a_name_back(name, parts):
    assert names.split(name) == parts


def test_locales_in_the_order_given():
    assert names.parse_locales("zh-CN,en") == ("zh-CN", "en")
    assert names.parse_locales(" en ") == ("en",)
    assert names.parse_locales(["en", "zh-CN"]) == ("en", "zh-CN")


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("zh-CN,fr", "('fr' not supported)"),
        ("zh-CN,en,zh-CN", "('zh-CN' given twice)"),
        ("", "(empty)"),
        ("en,", "(an empty item)"),
        ([], "(empty)"),
    ],
)
def test_a_bad_list_is_one_line_naming_the_option_the_value_and_the_supported(value, why):
    with pytest.raises(ValueError) as info:
        names.parse_locales(value, "--locales")
    text = str(info.value)
    assert text.startswith("--locales: expected one or more of (en, zh-CN)")
    assert text.endswith(why) and "\n" not in text
    assert repr(value if isinstance(value, str) else "") in text


def _entry(branch, report, locale, stem, status="ok"):
    return {"branch_id": branch, "report": report, "locale": locale, "stem": stem, "status": status}


def test_by_report_groups_the_locales_of_a_report_the_branchs_own_first():
    entries = {
        "0101/risk.en": _entry("0101", "risk", "en", "risk.en"),
        "0101/risk": _entry("0101", "risk", "zh-CN", "risk"),
        "0102/risk": _entry("0102", "risk", "en", "risk"),
    }
    groups = names.by_report(entries)
    assert [e["locale"] for e in groups[("0101", "risk")]] == ["zh-CN", "en"]
    assert [e["locale"] for e in groups[("0102", "risk")]] == ["en"]


def test_an_older_entry_names_its_locale_among_its_parameters():
    assert names.entry_locale({"parameters": {"locale": "zh-CN"}}) == "zh-CN"
    assert names.entry_locale({"locale": "en", "parameters": {"locale": "zh-CN"}}) == "en"
