"""Charts: drawn once, saved as opaque RGB PNGs of the same size as before, nothing cut."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from branchbook import charts
from branchbook.errors import RenderError


def png_of(fig) -> Image.Image:
    return Image.open(io.BytesIO(charts.to_png(fig)))


def inked(img: Image.Image) -> np.ndarray:
    """True where a pixel is not white."""
    return (np.asarray(img.convert("RGB")) != 255).any(axis=2)


def months(n: int) -> list[str]:
    return [f"2026-{m:02d}" for m in range(1, n + 1)]


@pytest.mark.parametrize(
    ("title", "series"),
    [
        (
            "本支行富裕客户占比高于全行中位数",
            {"本支行": [0.1, 0.2, 0.3], "全行中位数": [0.12, 0.18, 0.28]},
        ),
        (
            "Affluent share above the bank median",
            {"Branch": [0.1, 0.2, 0.3], "Bank median": [0.12, 0.18, 0.28]},
        ),
    ],
)
def test_chart_png_is_rgb_at_the_drawn_size(title, series):
    fig = charts.bars(
        ["大众客户", "富裕客户", "私行客户"], series, title=title, ylabel="占比 share", percent=True
    )
    img = png_of(fig)
    assert img.mode == "RGB"  # no alpha for WeasyPrint to split off
    # the size bbox_inches="tight" gave before: the figure less 0.05 in a side, at 150 dpi
    assert img.size == (
        round((charts.WIDTH - 0.1) * charts.DPI),
        round((charts.HEIGHT - 0.1) * charts.DPI),
    )
    assert img.info["dpi"] == pytest.approx((charts.DPI, charts.DPI), abs=0.1)
    ink = inked(img)
    margin = round(charts.PAD_IN * charts.DPI) - 3
    # nothing drawn in the margin (so nothing cut at the edge) ...
    assert not ink[:margin].any() and not ink[-margin:].any()
    assert not ink[:, :margin].any() and not ink[:, -margin:].any()
    # ... and the content reaches into it on every side: the layout used the figure
    assert ink[margin + 6].any() and ink[-margin - 6].any()
    assert ink[:, margin + 6].any() and ink[:, -margin - 6].any()


def test_png_rgb_is_a_png_of_the_same_pixels():
    from branchbook.speedups import weasy

    rng = np.random.default_rng(7)
    pixels = rng.integers(0, 256, size=(23, 41, 3), dtype=np.uint8)
    pixels[:5] = 255  # flat rows too, as in a chart
    data = charts.png_rgb(pixels, 150)
    img = Image.open(io.BytesIO(data))
    img.load()  # checks every chunk's CRC and the zlib stream
    assert (img.mode, img.size) == ("RGB", (41, 23))
    assert np.array_equal(np.asarray(img), pixels)
    assert img.info["dpi"] == pytest.approx((150, 150), abs=0.02)  # stored per metre: 5906
    # the PDF takes its rows as they are: 8-bit RGB, every row led by filter type 0
    rows = np.frombuffer(__import__("zlib").decompress(weasy.png_idat(data)), dtype=np.uint8)
    rows = rows.reshape(23, 1 + 41 * 3)
    assert not rows[:, 0].any() and np.array_equal(rows[:, 1:].reshape(23, 41, 3), pixels)


@pytest.mark.parametrize(
    "bad",
    [
        np.zeros((4, 4, 4), np.uint8),
        np.zeros((4, 4, 3), np.float64),
        np.zeros((0, 4, 3), np.uint8),
        np.zeros((4, 4), np.uint8),
    ],
)
def test_png_rgb_refuses_what_is_not_8_bit_rgb(bad):
    with pytest.raises(ValueError, match="height x width x 3 uint8"):
        charts.png_rgb(bad, 150)


def test_legend_above_the_plot_and_title_are_drawn_whole():
    fig = charts.lines(
        months(13),
        {
            "本支行": np.linspace(0.1, 0.3, 13),
            "全行中位数": np.linspace(0.2, 0.25, 13),
            "Peer group": np.linspace(0.15, 0.2, 13),
        },
        title="Dormant share rose for six months 休眠客户占比连升六个月",
        percent=True,
    )
    ax = fig.axes[0]
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    title = ax.get_title(loc="left")
    assert title
    title_box = ax._left_title.get_window_extent(renderer)
    legend_box = ax.get_legend().get_window_extent(renderer)
    figure_box = fig.bbox
    for box in (title_box, legend_box):
        assert figure_box.x0 <= box.x0 and box.x1 <= figure_box.x1
        assert figure_box.y0 <= box.y0 and box.y1 <= figure_box.y1
    assert legend_box.y0 >= ax.bbox.y1 - 1  # above the plot, not on the data
    assert title_box.y0 >= legend_box.y1 - 1  # and under the title
    assert png_of(fig).mode == "RGB"


@pytest.mark.parametrize(
    "title",
    [
        "A title that states the finding at far greater length than any chart is wide " * 2,
        "助理客户经理：与全行同职级相比的KPI得分（0-100分，标出同职级中位数），共有3名客户经理低于同职级中位数",
    ],
)
def test_title_wider_than_the_figure_is_wrapped_not_shrunk(title):
    fig = charts.bars(["a", "b"], {"Branch": [1, 2], "Bank": [2, 1]}, title=title)
    ax = fig.axes[0]
    shown = ax.get_title(loc="left")
    assert "\n" in shown  # wrapped onto more lines ...
    assert "".join(shown.split()) == "".join(title.split())  # every character kept
    assert charts.title_text(ax) == title  # the alt text keeps the sentence as written
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    box = ax._left_title.get_window_extent(renderer)
    assert 0 <= box.x0 and box.x1 <= fig.bbox.width and box.y1 <= fig.bbox.height
    assert box.y0 >= ax.get_legend().get_window_extent(renderer).y1 - 1  # above the legend
    img = png_of(fig)
    # ... so the chart is drawn once at the usual size (and prints at full size)
    assert img.mode == "RGB"
    assert img.size == (
        round((charts.WIDTH - 0.1) * charts.DPI),
        round((charts.HEIGHT - 0.1) * charts.DPI),
    )
    assert not inked(img)[:, -3:].any() and not inked(img)[:3].any()


def test_legend_row_wider_than_the_figure_keeps_the_tight_bbox():
    names = {f"A rather long series name number {i}": [1, 2] for i in range(4)}
    fig = charts.bars(["a", "b"], names, title="Short")
    img = png_of(fig)
    # nothing to wrap: the old tight-bbox path, the image grows to hold the legend
    assert img.width > round((charts.WIDTH - 0.1) * charts.DPI)
    assert not inked(img)[:, -3:].any()


@pytest.mark.parametrize(
    ("text", "width", "expected"),
    [
        ("one two three four", 9, "one two\nthree\nfour"),
        ("one two", 20, "one two"),
        ("supercalifragilistic word", 5, "supercalifragilistic\nword"),  # a long word keeps a line
        ("本支行客户数下降", 3, "本支行\n客户数\n下降"),
        ("客户数，下降了", 3, "客户数，\n下降了"),  # the comma stays with its character
        ("KPI得分 0-100", 5, "KPI得分\n0-100"),
        ("first line\nsecond", 20, "first line\nsecond"),
    ],
)
def test_wrap_text_breaks_at_spaces_and_between_cjk_characters(text, width, expected):
    # a width in characters, counting a comma after a CJK character as part of it
    def fits(line):
        return len(line.replace("，", "")) <= width

    assert charts.wrap_text(text, fits) == expected


def test_figure_not_laid_out_keeps_the_tight_bbox():
    fig, ax = charts.new(width=5, height=2.4)
    ax.bar(["大众客户", "富裕客户", "私行客户"], [120, 40, 6], color=charts.BRANCH_COLOR)
    ax.set_title("客户数")
    img = png_of(fig)
    assert img.width < 5 * charts.DPI  # cropped to the content
    assert inked(img).any()


def test_scatter_draws_once_with_labels_inside():
    df = pd.DataFrame(
        {"x": [1.0, 2.0, 3.0], "y": [3.0, 1.0, 2.0], "who": ["等候时间", "Staff", "服务态度"]}
    )
    assert png_of(charts.scatter(df, "x", "y", title="IPA", label="who")).mode == "RGB"


@pytest.mark.parametrize("after_layout", [False, True])
def test_missing_glyph_is_an_error(after_layout):
    if after_layout:
        fig = charts.bars(["a", "b"], {"x": [1, 2]}, title="ok")
        fig.axes[0].text(0.1, 0.9, "\U0001f600", transform=fig.axes[0].transAxes)
        with pytest.raises(RenderError, match="pinned font"):
            charts.to_png(fig)
    else:
        for _ in range(2):  # every time, not once a process
            with pytest.raises(RenderError, match="pinned font"):
                charts.to_png(charts.bars(["a", "b"], {"x": [1, 2]}, title="坏 \U0001f600"))


def test_font_is_pinned():
    assert charts.setup() in charts.FONT_FILES


@pytest.mark.parametrize(
    ("ticks", "labels"),
    [
        ([0.0, 0.125, 0.25, 0.375], ["0.0%", "12.5%", "25.0%", "37.5%"]),
        ([0.01, 0.02, 0.03], ["1%", "2%", "3%"]),
        ([0.0, 0.2, 0.4], ["0%", "20%", "40%"]),
        ([0.001, 0.0015, 0.002], ["0.10%", "0.15%", "0.20%"]),
    ],
)
def test_percent_axis_decimals(ticks, labels):
    fig, ax = charts.new()
    charts.percent_axis(ax)
    ax.set_yticks(ticks)
    assert ax.yaxis.get_major_formatter().format_ticks(ticks) == labels
    assert ax.yaxis.get_major_formatter()(ticks[1]) == labels[1]  # one label alone
    charts.plt.close(fig)


def test_waterfall_and_effects_draw():
    from branchbook import charts

    charts.setup()
    fig = charts.waterfall(
        ["期初", "新增", "增长", "下降", "流失", "期末"],
        [100.0, 20.0, 30.0, -10.0, -15.0, 125.0],
        texts=["100", "+20", "+30", "-10", "-15", "125"],
        title="资产规模 比上月",
    )
    assert charts.to_png(fig).startswith(b"\x89PNG")
    fig = charts.effects(["a", "b"], {"rate": [0.2, -0.1], "mix": [0.05, 0.0]}, title="t")
    assert charts.to_png(fig).startswith(b"\x89PNG")


def test_horizontal_bars_name_the_value_axis_under_the_bars():
    """A chart's ``x`` text is the axis under the bars: for horizontal bars the values
    (the cluster chart had its segments' name there and the share beside the names)."""
    from branchbook import i18n

    for locale, share, cluster in (
        ("en", "Share of customers", "Cluster"),
        ("zh-CN", "客户占比", "客群"),
    ):
        assert i18n.t("segmentation.charts.clusters.x", locale) == share
        assert i18n.t("segmentation.charts.clusters.y", locale) == cluster
