"""Parameter files: strict validation naming the file and the key, types kept."""

from pathlib import Path
from typing import ClassVar

import pytest
from pydantic import Field, field_validator

from branchbook import params
from branchbook.errors import ParamsError
from branchbook.params import ParamSet, Rag, Section, check_weights


class DemoSettings(Section):
    BANK_ONLY: ClassVar[tuple[str, ...]] = ("label",)
    tiers: list[float] = [50_000.0, 500_000.0]
    weights: dict[str, float] = {"a": 0.5, "b": 0.5}
    min_count: int = Field(default=5, ge=1)
    label: str = "x"

    @field_validator("weights")
    @classmethod
    def _w(cls, v):
        check_weights(v)
        return v


def PS(folder) -> ParamSet:
    """The parameter files of ``folder`` with one report section, ``demo``."""
    return ParamSet(folder, {"demo": DemoSettings})


def write(tmp_path: Path, bank: str, branches: dict[str, str] | None = None) -> Path:
    d = tmp_path / "params"
    (d / "branches").mkdir(parents=True)
    (d / "bank.yaml").write_text(bank, encoding="utf-8")
    for bid, text in (branches or {}).items():
        (d / "branches" / f"{bid}.yaml").write_text(text, encoding="utf-8")
    return d


BANK = "bank_name: {en: Demo Bank, zh-CN: 示范银行}\nlocale: en\n"


def test_defaults_and_override(tmp_path):
    d = write(
        tmp_path,
        BANK + "demo: {min_count: 7, label: NO}\n",
        {"0101": "locale: zh-CN\ndemo: {tiers: [1, 2]}\n"},
    )
    bp = PS(d).for_branch("0101")
    assert bp.common.locale == "zh-CN"
    assert bp.sections["demo"].min_count == 7  # from bank.yaml
    assert bp.sections["demo"].tiers == [1.0, 2.0]  # from the branch file
    assert bp.sections["demo"].label == "NO"  # stays a string, not False
    assert bp.common.bank_name.get("zh-CN") == "示范银行"


def test_bank_only_keys_refused_in_branch_files(tmp_path):
    d = write(tmp_path, BANK, {"0101": "demo: {label: x}\n"})
    with pytest.raises(
        ParamsError, match=r"0101\.yaml: demo\.label: can only be set in .*bank\.yaml"
    ):
        PS(d).for_branch("0101")


def test_branch_without_file_gets_bank_defaults(tmp_path):
    bp = PS(write(tmp_path, BANK)).for_branch("0999")
    assert bp.common.locale == "en" and bp.sections["demo"].min_count == 5


def test_leading_zero_ids_stay_strings(tmp_path):
    raw = params.read_yaml(write(tmp_path, BANK + "x: 0123\ny: 1e3\nz: NO\nw: 12\n") / "bank.yaml")
    assert raw["x"] == "0123" and raw["z"] == "NO" and raw["w"] == 12
    assert isinstance(raw["y"], str)


def test_unknown_key_names_file_and_key(tmp_path):
    d = write(tmp_path, BANK, {"0101": "demo: {min_cnt: 3}\n"})
    with pytest.raises(ParamsError) as exc:
        PS(d).for_branch("0101")
    msg = str(exc.value)
    assert "0101.yaml" in msg and "demo.min_cnt" in msg and "unknown key" in msg


def test_unknown_top_level_key(tmp_path):
    with pytest.raises(ParamsError, match=r"bank\.yaml: colour: unknown key"):
        PS(write(tmp_path, BANK + "colour: red\n"))


def test_wrong_type_names_key(tmp_path):
    d = write(tmp_path, BANK, {"0101": "demo: {min_count: '7'}\n"})
    with pytest.raises(ParamsError, match=r"0101\.yaml: demo\.min_count: .*got '7'"):
        PS(d).for_branch("0101")


def test_out_of_range(tmp_path):
    d = write(tmp_path, BANK, {"0101": "demo: {min_count: 0}\n"})
    with pytest.raises(
        ParamsError, match=r"demo\.min_count: Input should be greater than or equal to 1"
    ):
        PS(d).for_branch("0101")


def test_weights_must_sum_to_one(tmp_path):
    d = write(tmp_path, BANK + "demo: {weights: {a: 0.5, b: 0.6}}\n")
    with pytest.raises(ParamsError, match=r"bank\.yaml: demo\.weights: .*sum to 1, got 1\.1"):
        PS(d)


def test_bad_locale(tmp_path):
    with pytest.raises(ParamsError, match=r"bank\.yaml: locale: .*got 'fr'"):
        PS(write(tmp_path, BANK.replace("locale: en", "locale: fr")))


def test_branch_file_for_unknown_branch(tmp_path):
    d = write(tmp_path, BANK, {"0999": "locale: en\n"})
    with pytest.raises(ParamsError, match=r"0999\.yaml: branch '0999' is not in the warehouse"):
        PS(d).check_all(["0101"])


def test_missing_bank_file(tmp_path):
    with pytest.raises(ParamsError, match="bank.yaml: file not found"):
        PS(tmp_path)


def test_not_a_mapping(tmp_path):
    with pytest.raises(ParamsError, match="expected a mapping"):
        PS(write(tmp_path, "- a\n- b\n"))


@pytest.mark.parametrize("bad", ["../x", "/abs", "*", "", "a b", "x" * 40, 123])
def test_branch_ids_that_are_not_codes_are_refused(bad):
    with pytest.raises(ParamsError):
        params.validate_branch_id(bad)


@pytest.mark.parametrize("good", ["0101", "00123", "NO", "1e3", "SH-01"])
def test_branch_ids_kept(good):
    assert params.validate_branch_id(good) == good


def test_period_validation():
    assert params.validate_period("2026-10") == "2026-10"
    for bad in ("2026-13", "2026-1", "26-10", 202610, None):
        with pytest.raises(ParamsError, match="YYYY-MM"):
            params.validate_period(bad)


def test_notebook_parameters_are_flat_and_typed(tmp_path):
    bp = PS(write(tmp_path, BANK)).for_branch("0101")
    p = bp.notebook_parameters("demo", period="2026-10", build_dir="/b")
    assert p["branch_id"] == "0101" and p["settings"]["min_count"] == 5
    assert p["common"]["bank_name"] == {"en": "Demo Bank", "zh-CN": "示范银行"}


def test_rag_status():
    high = Rag(good="high", green=0.8, amber=0.6)
    assert [high.status(v) for v in (0.8, 0.7, 0.5, None)] == ["green", "amber", "red", "none"]
    low = Rag(good="low", green=0.02, amber=0.03)
    assert [low.status(v) for v in (0.02, 0.025, 0.04)] == ["green", "amber", "red"]


# -- the file means exactly what it says ---------------------------------------------


@pytest.mark.parametrize(
    "text, message",
    [
        (
            "suppress_below: 5\nsuppress_below: 1\n",
            "key 'suppress_below' is given twice (first on line",
        ),
        ("demo:\n  min_count: 3\n  min_count: 4\n", "key 'min_count' is given twice"),
        ("base: &b {min_count: 3}\ndemo: *b\n", "alias *b is not allowed"),
        ("base: &b {min_count: 3}\ndemo:\n  <<: *b\n", "not allowed"),
        (
            "demo: {label: x, threshold: .nan}\n",
            "demo.threshold: nan is not allowed (numbers must be finite)",
        ),
        ("demo: {label: x, threshold: -.inf}\n", "numbers must be finite"),
    ],
)
def test_ambiguous_yaml_is_refused_naming_file_and_line(tmp_path, text, message):
    d = write(tmp_path, BANK + text)
    with pytest.raises(ParamsError) as err:
        PS(d)
    assert str(d / "bank.yaml") in str(err.value)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_alias_bomb_is_refused_quickly(tmp_path):
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(20)
    )
    with pytest.raises(ParamsError, match="alias"):
        params.read_yaml(write(tmp_path, BANK + bomb) / "bank.yaml")


@pytest.mark.parametrize("name", ["0101.yml", "0101.YAML", "notes.txt", "0101.yaml.bak"])
def test_stray_files_in_branches_are_named(tmp_path, name):
    d = write(tmp_path, BANK)
    (d / "branches").mkdir(exist_ok=True)
    (d / "branches" / name).write_text("locale: zh-CN\n", encoding="utf-8")
    with pytest.raises(ParamsError, match=f"{name}: not a branch parameter file"):
        PS(d).branch_files()


def test_yaml_syntax_error_is_one_line(tmp_path):
    with pytest.raises(ParamsError) as err:
        params.read_yaml(write(tmp_path, BANK + "demo: {a: [1, 2}\n") / "bank.yaml")
    assert "not valid YAML: line" in str(err.value) and "\n" not in str(err.value)


def test_a_file_not_in_utf8_names_the_line(tmp_path):
    d = write(tmp_path, BANK)
    (d / "bank.yaml").write_bytes(BANK.encode() + "demo: {label: 示范}\n".encode("gb18030"))
    with pytest.raises(ParamsError, match=r"bank.yaml: not UTF-8 \(byte 0x[0-9a-f]{2} on line 3\)"):
        PS(d)


class TierSettings(Section):
    SHARED: ClassVar[tuple[str, ...]] = ("asset_tiers", "csat_scale")
    asset_tiers: params.AssetTiers = params.AssetTiers()
    csat_scale: params.CsatScale = Field(default_factory=lambda: list(params.DEFAULT_CSAT_SCALE))


def test_shared_keys_are_set_once_at_the_top_and_read_by_every_section(tmp_path):
    d = write(
        tmp_path,
        BANK + "asset_tiers: {affluent: 10, wealth: 20, private: 30}\n"
        "csat_scale: [0, 25, 50, 75, 100]\ndemo: {min_count: 7}\n",
    )
    ps = ParamSet(d, {"demo": DemoSettings, "a": TierSettings, "b": TierSettings})
    bp = ps.for_branch("0101")
    assert bp.common.asset_tiers.wealth == 20.0
    for name in ("a", "b"):  # every section that reads them gets the one value
        assert bp.sections[name].asset_tiers == bp.common.asset_tiers
        assert bp.sections[name].csat_scale == [0.0, 25.0, 50.0, 75.0, 100.0]
    assert ps.bank["a"]["asset_tiers"] == {"affluent": 10, "wealth": 20, "private": 30}
    assert not hasattr(bp.sections["demo"], "asset_tiers")  # a section that does not read it


def test_shared_keys_default_alike_in_common_and_sections(tmp_path):
    bp = ParamSet(write(tmp_path, BANK), {"a": TierSettings}).for_branch("0101")
    assert bp.sections["a"].asset_tiers == bp.common.asset_tiers == params.AssetTiers()
    assert bp.sections["a"].csat_scale == bp.common.csat_scale == params.DEFAULT_CSAT_SCALE


@pytest.mark.parametrize(
    ("bank", "branch", "message"),
    [
        (
            "a: {asset_tiers: {affluent: 10}}\n",
            "",
            "a.asset_tiers: set it once, as the top-level asset_tiers: of",
        ),
        ("", "asset_tiers: {affluent: 10}\n", "asset_tiers: can only be set in"),
        ("", "csat_scale: [0, 25, 50, 75, 100]\n", "csat_scale: can only be set in"),
        (
            "",
            "a: {csat_scale: [0, 25, 50, 75, 100]}\n",
            "a.csat_scale: set it once, as the top-level csat_scale: of",
        ),
        ("csat_scale: [0, 60, 30, 85, 100]\n", "", "csat_scale: Value error, values must"),
        ("asset_tiers: {affluent: 0}\n", "", "asset_tiers: Value error, affluent must be > 0"),
    ],
)
def test_shared_keys_refused_elsewhere_or_out_of_rule(tmp_path, bank, branch, message):
    d = write(tmp_path, BANK + bank, {"0101": branch} if branch else None)
    with pytest.raises(ParamsError, match=message):
        ParamSet(d, {"a": TierSettings}).for_branch("0101")


def test_a_bad_shared_value_is_named_once_at_the_top(tmp_path):
    d = write(tmp_path, BANK + "csat_scale: [0, 60, 30, 85, 100]\n")
    with pytest.raises(ParamsError) as exc:
        ParamSet(d, {"a": TierSettings, "b": TierSettings})
    lines = str(exc.value).splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{d / 'bank.yaml'}: csat_scale:")


def test_a_branch_file_may_set_fixed_status_thresholds_but_not_a_percentile_rule(tmp_path):
    from branchbook.reports import settings_classes

    bank = BANK + "risk:\n  kpi_status:\n    top10_share: {rule: percentile, amber: 80, red: 95}\n"
    branches = {
        "0101": "risk:\n  kpi_status:\n    npl_ratio: {good: low, green: 0.02, amber: 0.04}\n",
        "0102": "risk:\n  kpi_status:\n    special_mention_ratio: {rule: percentile}\n",
        "0103": "risk:\n  kpi_status:\n    top10_share: {good: low, green: 0.2, amber: 0.4}\n",
    }
    ps = ParamSet(write(tmp_path, bank, branches), settings_classes())
    rules = ps.for_branch("0101").sections["risk"].kpi_status
    assert rules["npl_ratio"].green == 0.02 and rules["top10_share"].red == 95  # bank's rule kept
    assert rules["top10_share"].fallback.green == 0.30  # the default's fixed numbers
    # a branch's fixed entry replaces the bank's percentile rule whole
    assert ps.for_branch("0103").sections["risk"].kpi_status["top10_share"].amber == 0.4
    with pytest.raises(
        ParamsError,
        match=r"0102\.yaml: risk\.kpi_status\.special_mention_ratio\.rule: can only be set in .*bank\.yaml",
    ):
        ps.for_branch("0102")


def test_a_branchs_parameters_in_another_locale_change_the_locale_only():
    from branchbook import paths
    from branchbook.reports import settings_classes

    bp = ParamSet(paths.project_root() / "params", settings_classes()).for_branch("0101")
    assert bp.common.locale == "zh-CN"  # params/branches/0101.yaml
    assert bp.with_locale("zh-CN") is bp
    en = bp.with_locale("en")
    assert en.common.locale == "en" and bp.common.locale == "zh-CN"
    same = {k: v for k, v in bp.common.model_dump().items() if k != "locale"}
    assert {k: v for k, v in en.common.model_dump().items() if k != "locale"} == same
    values = en.notebook_parameters("risk", period="2026-10", build_dir="build")
    assert values["locale"] == values["common"]["locale"] == "en"
    assert (en.branch_id, en.sections, en.source_files) == (
        bp.branch_id,
        bp.sections,
        bp.source_files,
    )
    with pytest.raises(ParamsError, match=r"locale is expected to be one of \(en, zh-CN\)"):
        bp.with_locale("fr")
