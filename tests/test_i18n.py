import re

import pytest

from branchbook import i18n


def test_both_locales_have_the_same_keys():
    en, zh = set(i18n.catalogue("en")), set(i18n.catalogue("zh-CN"))
    assert en - zh == set(), f"missing in zh-CN: {sorted(en - zh)}"
    assert zh - en == set(), f"missing in en: {sorted(zh - en)}"


def test_placeholders_match_between_locales():
    en, zh = i18n.catalogue("en"), i18n.catalogue("zh-CN")
    rx = re.compile(r"{([a-z_0-9]+)(?::[a-z_]+)?}")
    for key in en:
        assert set(rx.findall(en[key])) == set(rx.findall(zh[key])), key


def test_zh_texts_are_chinese():
    zh = i18n.catalogue("zh-CN")

    # every zh-CN text with letters in it has at least one CJK character, except codes
    def words(v):
        return re.search(r"[A-Za-z]{4,}", re.sub(r"{[^}]*}", "", v))

    latin_only = [k for k, v in zh.items() if words(v) and not re.search(r"[\u4e00-\u9fff]", v)]
    assert latin_only == []


def test_format_specs_use_formatters():
    assert i18n.t("common.truncated", "en", shown=25, total=1200, rest=1175) == (
        "Showing the first 25 of 1,200 rows; the other 1,175 continue in the appendix."
    )
    assert "1,200" in i18n.t("common.truncated", "zh-CN", shown=25, total=1200, rest=1175)


def test_missing_key_is_an_error_not_a_fallback():
    with pytest.raises(i18n.MissingText, match="zh-CN"):
        i18n.t("common.no_such_key", "zh-CN")


def test_unknown_locale_refused():
    with pytest.raises(ValueError, match="Got 'fr' instead"):
        i18n.catalogue("fr")


def test_label_falls_back_to_code():
    assert i18n.label("common.status", "green", "zh-CN") == "绿灯"
    assert i18n.label("common.status", "purple", "en") == "purple"


def test_money_in_a_sentence_is_in_the_bank_s_currency():
    """A sentence's ``{x:money}`` is in the currency its page is in, as its tables and
    cards are: a bank reporting in DEM never reads CNY in its summary."""
    from branchbook import fmt, i18n

    key = "segmentation.summary.overview_first_period"
    values = {"customers": 1000, "aum": 102_400.0}
    assert fmt.money(102_400.0, "en", "DEM") in i18n.Translator("en", "DEM")(key, **values)
    assert "CNY" not in i18n.Translator("en", "DEM")(key, **values)
    assert i18n.Translator("en")(key, **values) == i18n.t(key, "en", **values)
