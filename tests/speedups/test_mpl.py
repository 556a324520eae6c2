"""matplotlib made faster: the same measures, the same font heights, the same pixels."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from branchbook import charts
from branchbook.errors import RenderError
from branchbook.speedups import mpl


def png_of(fig) -> Image.Image:
    return Image.open(io.BytesIO(charts.to_png(fig)))


def _measure_calls(monkeypatch) -> list[str]:
    from matplotlib.backends.backend_agg import RendererAgg

    calls: list[str] = []
    measure = RendererAgg.get_text_width_height_descent

    def counting(self, s, prop, ismath):
        calls.append(s)
        return measure(self, s, prop, ismath)

    monkeypatch.setattr(RendererAgg, "get_text_width_height_descent", counting)
    return calls


def _bar_chart():
    return charts.bars(
        ["个人贷款", "小微企业贷款", "公司贷款"],
        {"本支行": [0.02, 0.031, 0.015], "全行": [0.018, 0.025, 0.02]},
        title="各产品不良率 NPL by product",
        ylabel="不良率",
        percent=True,
    )


def test_a_second_chart_does_not_measure_the_same_texts_again(monkeypatch):
    charts.setup()
    monkeypatch.setattr(mpl, "_METRICS", {})
    calls = _measure_calls(monkeypatch)
    charts.to_png(_bar_chart())
    first = len(calls)
    assert first > 0 and "小微企业贷款" in calls
    charts.to_png(_bar_chart())
    assert len(calls) == first  # every label, tick and title measured by the first chart


def test_shared_measures_draw_the_same_pixels_as_per_figure_ones(monkeypatch):
    import matplotlib.text as mtext

    charts.setup()
    shared = png_of(_bar_chart())
    monkeypatch.setattr(
        mtext, "_get_text_metrics_with_cache", mtext._get_text_metrics_with_cache.original
    )
    monkeypatch.setattr(mpl, "_METRICS", {})
    own = png_of(_bar_chart())
    assert shared.size == own.size
    assert np.array_equal(np.asarray(shared), np.asarray(own))


@pytest.mark.parametrize("text", ["0%", "客户经理 Customer manager", "$x^2$", "2026-10 第二季度"])
def test_shared_measure_equals_matplotlibs_own(text):
    import matplotlib.text as mtext
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.font_manager import FontProperties

    charts.setup()
    prop = FontProperties(family=charts.FONT_FAMILY, size=9)
    ismath = "$" in text
    shared = mtext._get_text_metrics_with_cache(RendererAgg(100, 100, 150), text, prop, ismath, 150)
    own = mtext._get_text_metrics_with_cache.original(
        RendererAgg(100, 100, 150), text, prop, ismath, 150
    )
    assert shared == own


def test_a_missing_glyph_is_still_an_error_once_its_measure_is_shared():
    charts.setup()
    for _ in range(2):  # the failing measure is not kept: the second chart fails too
        fig, ax = charts.new()
        with pytest.raises(RenderError, match="font"):
            charts._finish(fig, ax, "\U0001f600 图表", "", "")


def test_font_height_metrics_draw_the_same_pixels_as_matplotlibs_own(monkeypatch):
    from matplotlib.backends.backend_agg import RendererAgg

    charts.setup()
    monkeypatch.setattr(mpl, "_HEIGHTS", {})
    hooked = png_of(_bar_chart())
    assert mpl._HEIGHTS  # the hook was used
    monkeypatch.delattr(RendererAgg, "_get_font_height_metrics")
    own = png_of(_bar_chart())
    assert hooked.size == own.size
    assert np.array_equal(np.asarray(hooked), np.asarray(own))


@pytest.mark.parametrize("size,dpi", [(9, 150), (11, 150), (8, 72), (10.5, 300)])
def test_font_height_metrics_equal_matplotlibs_table_reading(size, dpi):
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.font_manager import FontProperties, fontManager, get_font

    charts.setup()
    prop = FontProperties(family=charts.FONT_FAMILY, size=size, weight="bold")
    ascent, descent, gap = mpl._font_height_metrics(RendererAgg(100, 100, dpi), prop)
    # what matplotlib's Text._get_layout reads without the hook, by hand
    font = get_font(fontManager._find_fonts_by_props(prop))
    os2, upem = font.get_sfnt_table("OS/2"), font.get_sfnt_table("head")["unitsPerEm"]
    scale = 1 / upem * size * dpi / 72
    assert (ascent, descent, gap) == (
        os2["sTypoAscender"] * scale,
        -os2["sTypoDescender"] * scale,
        os2["sTypoLineGap"] * scale,
    )
    # Noto Sans CJK's typographic box: 880 units up, 120 down, on 1000 to the em
    px_per_unit = size * dpi / 72 / 1000
    assert ascent == pytest.approx(880 * px_per_unit) and descent == pytest.approx(
        120 * px_per_unit
    )


def test_font_height_metrics_are_read_once_per_font_and_dpi(monkeypatch):
    from matplotlib import font_manager

    charts.setup()
    monkeypatch.setattr(mpl, "_HEIGHTS", {})
    lookups: list[object] = []
    get_font = font_manager.get_font

    def counting(paths, *args, **kwargs):
        lookups.append(paths)
        return get_font(paths, *args, **kwargs)

    monkeypatch.setattr(font_manager, "get_font", counting)
    charts.to_png(_bar_chart())
    # title (11 pt bold), labels (9), ticks (8), legend (8): a handful of sizes, not a
    # lookup for every text laid out or drawn
    assert 0 < len(lookups) == len(mpl._HEIGHTS) <= 6
    charts.to_png(_bar_chart())
    assert len(lookups) == len(mpl._HEIGHTS)


def test_agg_fonts_read_the_pinned_files_from_memory_and_draw_the_same_pixels(monkeypatch):
    import io as _io

    from matplotlib.backends import backend_agg
    from matplotlib.font_manager import FontProperties, fontManager

    charts.setup()
    pinned = fontManager._find_fonts_by_props(FontProperties(family=charts.FONT_FAMILY))
    font = backend_agg.get_font(pinned)
    assert isinstance(font.fname, _io.BytesIO)  # not a file object: no system call per glyph
    assert any(len(data) > 10_000_000 for data in mpl._FONT_BYTES.values())  # the 19 MB .ttc
    memory = png_of(_bar_chart())
    monkeypatch.setattr(backend_agg, "get_font", backend_agg.get_font.original)
    mpl._memory_font.cache_clear()
    from_file = png_of(_bar_chart())
    assert np.array_equal(np.asarray(memory), np.asarray(from_file))


def test_agg_fonts_other_than_the_pinned_ones_go_through_matplotlib():
    from matplotlib import font_manager
    from matplotlib.backends import backend_agg

    charts.setup()
    dejavu = font_manager.findfont("DejaVu Sans", fallback_to_default=True)
    font = backend_agg.get_font([dejavu])
    assert font is font_manager.get_font([dejavu])  # matplotlib's own cached object
    assert isinstance(font.fname, str)


def test_memory_fonts_are_not_shared_with_a_forked_child():
    import os as _os

    charts.setup()
    charts.to_png(_bar_chart())
    assert mpl._memory_font.cache_info().currsize > 0
    read, write = _os.pipe()
    pid = _os.fork()
    if pid == 0:  # the child: its cache starts empty, as matplotlib's own does
        _os.write(write, str(mpl._memory_font.cache_info().currsize).encode())
        _os._exit(0)
    _os.waitpid(pid, 0)
    assert _os.read(read, 16) == b"0"
