"""Charts: one style for every report, Chinese labels with a pinned CJK font.

matplotlib does not use the system's font fallback, so without a pinned font Chinese
labels become boxes. :func:`setup` adds the Noto Sans CJK collection by file,
selects the Simplified Chinese face by name and checks that matplotlib resolves
that name to the pinned file; a "Glyph missing" warning while drawing is turned into
an error (:func:`to_png`). The palette is Okabe-Ito, safe for colour-blind readers.

A chart is laid out once (:func:`layout`, tight layout with a 0.1 in margin) and
drawn once: :func:`to_png` saves the canvas as it is, an opaque RGB PNG, instead of
``savefig(bbox_inches="tight")``, which draws the figure twice and writes RGBA (that
WeasyPrint then splits into colour and an alpha mask for every PDF).

Every function returns a :class:`matplotlib.figure.Figure`; the caller passes
the title (a title that states the finding) and axis labels already translated.
"""

from __future__ import annotations

import base64
import contextlib
import io
import re
import struct
import warnings
import zlib
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.legend import Legend  # noqa: E402
from matplotlib.text import Text  # noqa: E402
from matplotlib.ticker import Formatter, FuncFormatter  # noqa: E402

from . import speedups  # noqa: E402
from .errors import RenderError  # noqa: E402

FONT_FAMILY = "Noto Sans CJK SC"
FONT_FILES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Bold.ttc",
)
# Okabe-Ito: distinguishable with the common forms of colour blindness.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#F0E442", "#000000"]
BRANCH_COLOR, BANK_COLOR, ALERT_COLOR = PALETTE[0], "#999999", PALETTE[3]
WIDTH, HEIGHT, DPI = 7.2, 3.4, 150

_ready = False


def setup() -> str:
    """Pin the CJK font and the house style; return the font file in use."""
    global _ready
    files = [f for f in FONT_FILES if Path(f).is_file()]
    if not files:
        raise RenderError(
            "the CJK font Noto Sans CJK is not installed (Debian package fonts-noto-cjk; "
            "`make setup` installs it): Chinese chart labels would render as boxes"
        )
    if not _ready:
        for f in files:
            font_manager.fontManager.addfont(f)
        plt.rcParams.update(
            {
                "font.family": [FONT_FAMILY],
                "axes.unicode_minus": False,
                "axes.prop_cycle": matplotlib.cycler(color=PALETTE),
                "axes.spines.top": False,
                "axes.spines.right": False,
                "axes.grid": True,
                "grid.color": "#e5e5e5",
                "grid.linewidth": 0.6,
                "axes.axisbelow": True,
                "axes.titlesize": 11,
                "axes.titleweight": "bold",
                "axes.titlelocation": "left",
                "axes.labelsize": 9,
                "xtick.labelsize": 8,
                "ytick.labelsize": 8,
                "legend.fontsize": 8,
                "legend.frameon": False,
                "figure.dpi": DPI,
                "savefig.dpi": DPI,
                "figure.autolayout": False,
            }
        )
        speedups.install("mpl", fonts=files)  # text measures shared, fonts from memory
        _ready = True
    resolved = font_manager.findfont(FONT_FAMILY, fallback_to_default=False)
    if resolved not in files:
        raise RenderError(f"matplotlib resolved {FONT_FAMILY!r} to {resolved}, not the pinned font")
    return resolved


def new(width: float = WIDTH, height: float = HEIGHT, ncols: int = 1):
    """A figure and axes in the house style."""
    setup()
    fig, ax = plt.subplots(1, ncols, figsize=(width, height))
    return fig, ax


# The margin round a chart's content. Charts used to be saved with
# bbox_inches="tight" (pad 0.1 in) after tight_layout (pad 1.08 x 10 pt = 0.15 in):
# :func:`layout` trims the figure by the difference and lays it out with a 0.1 in
# pad, so the PNG has the same size and the same plot area as before, drawn once.
PAD_IN = 0.1
_OLD_PAD_EM = 1.08
_LAID_OUT = "_branchbook_laid_out"  # laid out, and fits: to_png may draw it once
_TRIMMED = "_branchbook_trimmed"
# How a chart's PNG is compressed (:func:`png_rgb`): every row unfiltered, zlib level 3.
# Measured on the demo's 84 charts of two branches: Pillow's default (adaptive filter
# per row, level 6) takes 11.2 ms a chart for 52.4 KB; no filter at level 3 takes 4.0 ms
# for 53.5 KB (level 6: 7.7 ms, 47.6 KB). A chart is mostly flat colour, which the
# filters do not help, and the PDF takes the same compressed rows as they are.
PNG_COMPRESS_LEVEL = 3


@contextlib.contextmanager
def _missing_glyph_is_an_error():
    """matplotlib's "Glyph ... missing" warning as a :class:`RenderError`. Text is
    measured (and warned about) when the figure is laid out, so both steps check."""
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=r".*Glyph .* missing.*")
        try:
            yield
        except UserWarning as exc:
            raise RenderError(f"chart text cannot be drawn with the pinned font: {exc}") from None


def layout(fig: Figure) -> Figure:
    """Fit the content into ``fig`` (tight layout, :data:`PAD_IN` margin), once.

    :func:`to_png` then saves the figure as drawn. Call it after the last change
    that can move anything out of the axes (titles, legends, labels).
    """
    em_in = plt.rcParams["font.size"] / 72
    if not getattr(fig, _TRIMMED, False):
        setattr(fig, _TRIMMED, True)
        trim = _OLD_PAD_EM * em_in - PAD_IN
        w, h = fig.get_size_inches()
        fig.set_size_inches(w - 2 * trim, h - 2 * trim)
    _tight(fig, PAD_IN / em_in)
    # A title wider than the figure cannot be fitted by tight layout: it is wrapped
    # onto more lines and the figure laid out again. Anything still past the edge (a
    # very wide legend row) keeps the tight-bbox save, which widens the image, so the
    # page prints it smaller.
    fits = isinstance(fig.canvas, FigureCanvasAgg)
    if fits and _past_the_edge(fig, _titles_and_legends(fig)):
        if _wrap_titles(fig):
            _tight(fig, PAD_IN / em_in)
        fits = not _past_the_edge(fig, _titles_and_legends(fig))
    setattr(fig, _LAID_OUT, fits)
    return fig


def _tight(fig: Figure, pad: float) -> None:
    """Tight layout; a missing glyph closes the figure and raises :class:`RenderError`."""
    try:
        with _missing_glyph_is_an_error():
            fig.tight_layout(pad=pad)
    except RenderError:
        plt.close(fig)
        raise


# Where a line of a title may break: after a space, or between two CJK characters (a
# closing punctuation mark stays with the character before it).
_CJK = "\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f"
_BREAKS = re.compile(f"[{_CJK}][，。、；：！？）》」』,.;:!?)]*|[^\\s{_CJK}]+\\s*|\\s+")


def wrap_text(text: str, fits) -> str:
    """``text`` broken into lines that each satisfy ``fits(line)`` where possible
    (greedy, at spaces and between CJK characters; a word too long alone keeps a line)."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for token in _BREAKS.findall(paragraph):
            candidate = line + token
            if line and not fits(candidate.rstrip()):
                lines.append(line.rstrip())
                line = token.lstrip()
            else:
                line = candidate
        lines.append(line.rstrip())
    return "\n".join(lines)


def _wrap_titles(fig: Figure) -> bool:
    """Wrap each title that reaches past the figure's right edge; whether any was."""
    renderer = fig.canvas.get_renderer()
    right = fig.bbox.width - PAD_IN * fig.dpi
    changed = False
    for ax in fig.axes:
        for title in (
            ax.title,
            getattr(ax, "_left_title", None),
            getattr(ax, "_right_title", None),
        ):
            if title is None or not title.get_visible() or not title.get_text():
                continue
            box = title.get_window_extent(renderer)
            if box.x1 <= fig.bbox.width + 0.5:
                continue
            text, x0 = title.get_text(), box.x0
            probe = Text(fontproperties=title.get_fontproperties(), figure=fig)

            def fits(line: str, probe=probe, x0=x0) -> bool:
                probe.set_text(line)
                return x0 + probe.get_window_extent(renderer).width <= right

            wrapped = wrap_text(text, fits)
            if wrapped != text:
                title.set_text(wrapped)
                setattr(title, _UNWRAPPED, text)
                changed = True
    return changed


_UNWRAPPED = "_branchbook_unwrapped"


def title_text(ax) -> str:
    """The axes' title as written (before any wrapping): left, centre, then right."""
    for title in (getattr(ax, "_left_title", None), ax.title, getattr(ax, "_right_title", None)):
        if title is not None and title.get_text():
            return getattr(title, _UNWRAPPED, title.get_text())
    return ""


def _past_the_edge(fig: Figure, artists) -> bool:
    """Whether any of ``artists`` (texts, legends) reaches past the figure's edge."""
    renderer = fig.canvas.get_renderer()
    width, height = fig.bbox.width + 0.5, fig.bbox.height + 0.5
    for artist in artists:
        if artist is None or not artist.get_visible():
            continue
        if isinstance(artist, Text) and not artist.get_text():
            continue
        box = artist.get_window_extent(renderer)
        if box.x0 < -0.5 or box.y0 < -0.5 or box.x1 > width or box.y1 > height:
            return True
    return False


def _inside(artist) -> bool:
    """Whether ``artist`` is clipped to its axes (so it cannot be drawn past them)."""
    return bool(
        artist.get_clip_on() and artist.get_clip_path() is not None and artist.axes is not None
    )


def _titles_and_legends(fig: Figure) -> list:
    out = [*fig.texts, *fig.legends]
    for ax in fig.axes:
        out += [ax.title, getattr(ax, "_left_title", None), getattr(ax, "_right_title", None)]
        out += [a for a in ax.get_children() if isinstance(a, Legend)]
    return out


def _draw_rgb(fig: Figure) -> np.ndarray | None:
    """The figure drawn once on a white canvas, as an RGB array; ``None`` if any text
    or legend lies past the figure's edge or anything is drawn on the edge (the caller
    then saves with the tight bbox, which grows the image to hold it)."""
    fig.set_dpi(DPI)
    fig.patch.set_facecolor("white")
    fig.patch.set_alpha(1.0)
    fig.canvas.draw()
    texts = [*fig.texts, *fig.legends]
    for ax in fig.axes:
        texts += [a for a in ax.get_children() if isinstance(a, (Text, Legend)) and not _inside(a)]
    if _past_the_edge(fig, texts):
        return None
    rgba = np.asarray(fig.canvas.buffer_rgba())
    edges = np.concatenate([rgba[0], rgba[-1], rgba[:, 0], rgba[:, -1]])
    if (edges[:, :3] != 255).any():
        return None
    return rgba[:, :, :3]


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_rgb(rgb: np.ndarray, dpi: float) -> bytes:
    """An 8-bit RGB PNG of ``rgb`` (height x width x 3, uint8), with its resolution.

    Rows are stored unfiltered (filter type 0) and compressed at
    :data:`PNG_COMPRESS_LEVEL`; any PNG reader (and a PDF, which takes the rows as
    they are) reads it as it reads Pillow's.
    """
    rgb = np.asarray(rgb)
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3 or 0 in rgb.shape[:2]:
        raise ValueError(
            f"expected a non-empty height x width x 3 uint8 array, got {rgb.dtype} {rgb.shape}"
        )
    height, width = rgb.shape[:2]
    rows = np.zeros((height, 1 + 3 * width), dtype=np.uint8)  # column 0: the filter type
    rows[:, 1:] = rgb.reshape(height, 3 * width)
    per_metre = round(dpi / 0.0254)
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            _png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)),
            _png_chunk(b"pHYs", struct.pack(">IIB", per_metre, per_metre, 1)),
            _png_chunk(b"IDAT", zlib.compress(rows.tobytes(), PNG_COMPRESS_LEVEL)),
            _png_chunk(b"IEND", b""),
        )
    )


def to_png(fig: Figure) -> bytes:
    """PNG bytes of ``fig`` (then closed). A missing glyph is an error, not a box.

    A figure laid out by :func:`layout` is drawn once and saved as an opaque RGB
    PNG; any other figure (or one with content past its edge) is saved as before,
    with ``bbox_inches="tight"``.
    """
    buf = io.BytesIO()
    with _missing_glyph_is_an_error():
        try:
            rgb, bbox = None, "tight"
            if getattr(fig, _LAID_OUT, False) and isinstance(fig.canvas, FigureCanvasAgg):
                rgb = _draw_rgb(fig)
                if rgb is None:  # drawn already: take the tight box from that drawing
                    bbox = fig.get_tightbbox(fig.canvas.get_renderer()).padded(
                        plt.rcParams["savefig.pad_inches"]
                    )
            if rgb is not None:
                buf.write(png_rgb(rgb, DPI))
            else:
                fig.savefig(buf, format="png", bbox_inches=bbox, facecolor="white")
        finally:
            plt.close(fig)
    return buf.getvalue()


def to_data_uri(fig: Figure) -> str:
    """``data:image/png;base64,...`` of ``fig``, for a self-contained page."""
    return "data:image/png;base64," + base64.b64encode(to_png(fig)).decode("ascii")


LEGEND_COLUMNS = 4
_LEGEND_ROW_PT, _TITLE_PAD_PT = 13.0, 6.0


def legend(ax, *, minimum: int = 2) -> int:
    """The legend in a row above the plot, under the title: never on top of the data.

    Shown when the axes have at least ``minimum`` labelled series; up to
    :data:`LEGEND_COLUMNS` entries a row. Returns the number of legend rows, which
    :func:`_finish` uses to lift the title clear of the legend.
    """
    handles, labels = ax.get_legend_handles_labels()
    if len(handles) < max(minimum, 1):
        return 0
    ncol = min(len(handles), LEGEND_COLUMNS)
    ax.legend(
        handles,
        labels,
        loc="lower left",
        bbox_to_anchor=(0.0, 1.0),
        ncol=ncol,
        borderaxespad=0.3,
        handlelength=1.4,
        columnspacing=1.4,
    )
    return -(-len(handles) // ncol)


def _finish(fig, ax, title: str, xlabel: str = "", ylabel: str = "", legend_rows: int = 0):
    ax.set_title(title, pad=_TITLE_PAD_PT + _LEGEND_ROW_PT * legend_rows)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return layout(fig)


def _percent_digits(ticks: Sequence[float]) -> int:
    """As many decimals as the ticks (in %) need to differ and be exact, up to 2."""
    for digits in (0, 1, 2):
        if len({round(t, digits) for t in ticks}) == len(ticks) and all(
            abs(t - round(t, digits)) < 1e-9 for t in ticks
        ):
            break
    return digits


class _PercentFormatter(Formatter):
    """0-1 as percent; the decimals are chosen once for all the ticks of the axis."""

    def __init__(self):
        super().__init__()
        self._digits: int | None = None

    def set_locs(self, locs):
        super().set_locs(locs)
        self._digits = _percent_digits([t * 100 for t in locs])

    def __call__(self, v, pos=None):
        digits = self._digits
        if digits is None or pos is None:
            digits = _percent_digits([t * 100 for t in self.axis.get_majorticklocs()])
        return f"{v * 100:.{digits}f}%"


def percent_axis(ax, axis: str = "y") -> None:
    """Show a 0-1 axis as percentages, with as many decimals as the ticks need to
    differ (12.5% stays 12.5%, not 13%; 1%, 2%, 3% keep none)."""
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(_PercentFormatter())


def bars(
    labels: Sequence[str],
    series: dict[str, Sequence[float]],
    *,
    title: str,
    xlabel: str = "",
    ylabel: str = "",
    percent: bool = False,
    horizontal: bool = False,
    colors: Sequence[str] | None = None,
) -> Figure:
    """Grouped bars: one group per label, one bar per series (e.g. branch vs bank)."""
    fig, ax = new()
    n = max(len(series), 1)
    x = np.arange(len(labels))
    width = 0.8 / n
    colors = list(colors or [BRANCH_COLOR, BANK_COLOR] + PALETTE[1:])
    for i, (name, values) in enumerate(series.items()):
        pos = x - 0.4 + width * (i + 0.5)
        vals = np.asarray(values, dtype=float)
        if horizontal:
            ax.barh(pos, vals, height=width, label=name, color=colors[i % len(colors)])
        else:
            ax.bar(pos, vals, width=width, label=name, color=colors[i % len(colors)])
    if horizontal:
        ax.set_yticks(x, labels)
        ax.invert_yaxis()
        ax.grid(axis="y", visible=False)
        if percent:
            percent_axis(ax, "x")
    else:
        ax.set_xticks(x, labels)
        ax.grid(axis="x", visible=False)
        if percent:
            percent_axis(ax, "y")
    return _finish(fig, ax, title, xlabel, ylabel, legend(ax))


def lines(
    x: Sequence[str],
    series: dict[str, Sequence[float]],
    *,
    title: str,
    xlabel: str = "",
    ylabel: str = "",
    percent: bool = False,
    band: tuple[Sequence[float], Sequence[float]] | None = None,
) -> Figure:
    """Trend lines over periods; the first series is drawn as the branch, a band optional."""
    fig, ax = new()
    pos = np.arange(len(x))
    for i, (name, values) in enumerate(series.items()):
        color = [BRANCH_COLOR, BANK_COLOR][i] if i < 2 else PALETTE[i % len(PALETTE)]
        ax.plot(pos, np.asarray(values, dtype=float), marker="o", ms=3, label=name, color=color)
    if band is not None:
        ax.fill_between(pos, band[0], band[1], color=BANK_COLOR, alpha=0.2, linewidth=0)
    # at most about seven labels, so 13 or 24 months never run into each other
    step = max(1, -(-len(x) // 7))
    ax.set_xticks(pos[::step], [str(v) for v in x][::step], rotation=0)
    if percent:
        percent_axis(ax, "y")
    return _finish(fig, ax, title, xlabel, ylabel, legend(ax))


def lorenz(curves: dict[str, pd.DataFrame], *, title: str, xlabel: str, ylabel: str) -> Figure:
    """Lorenz curves: each frame has columns ``customer_share`` and ``aum_share`` (0-1)."""
    fig, ax = new(width=5.2, height=3.6)
    ax.plot([0, 1], [0, 1], color="#bbbbbb", linestyle="--", linewidth=1)
    for i, (name, df) in enumerate(curves.items()):
        ax.plot(
            df["customer_share"],
            df["aum_share"],
            label=name,
            color=[BRANCH_COLOR, BANK_COLOR][i % 2],
            linewidth=1.8,
        )
    percent_axis(ax, "x")
    percent_axis(ax, "y")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    return _finish(fig, ax, title, xlabel, ylabel, legend(ax, minimum=1))


def histogram(
    samples: dict[str, Sequence[float]],
    *,
    bins: int | Sequence[float] = 20,
    title: str,
    xlabel: str = "",
    ylabel: str = "",
    density: bool = True,
    vline: float | None = None,
) -> Figure:
    """Overlaid distributions (e.g. branch against bank), normalised to compare shapes."""
    fig, ax = new()
    for i, (name, values) in enumerate(samples.items()):
        v = np.asarray(values, dtype=float)
        v = v[np.isfinite(v)]
        if v.size:
            ax.hist(
                v,
                bins=bins,
                density=density,
                alpha=0.55 if i else 0.8,
                label=name,
                color=[BRANCH_COLOR, BANK_COLOR][i % 2],
            )
    if vline is not None:
        ax.axvline(vline, color=ALERT_COLOR, linestyle="--", linewidth=1)
    return _finish(fig, ax, title, xlabel, ylabel, legend(ax))


def scatter(
    df: pd.DataFrame,
    x: str,
    y: str,
    *,
    title: str,
    xlabel: str = "",
    ylabel: str = "",
    label: str | None = None,
    hlines: Sequence[float] = (),
    vlines: Sequence[float] = (),
    highlight: str | None = None,
) -> Figure:
    """Points with optional labels, reference lines and a boolean highlight column."""
    fig, ax = new()
    colors = BRANCH_COLOR
    if highlight is not None and highlight in df:
        colors = np.where(df[highlight].astype(bool), ALERT_COLOR, BRANCH_COLOR)
    ax.scatter(df[x], df[y], c=colors, s=22, alpha=0.85)
    if label:
        for _, row in df.iterrows():
            ax.annotate(
                str(row[label]),
                (row[x], row[y]),
                fontsize=7,
                xytext=(3, 3),
                textcoords="offset points",
            )
    for h in hlines:
        ax.axhline(h, color="#bbbbbb", linestyle="--", linewidth=1)
    for v in vlines:
        ax.axvline(v, color="#bbbbbb", linestyle="--", linewidth=1)
    return _finish(fig, ax, title, xlabel, ylabel)


def funnel(
    points: pd.DataFrame,
    limits: pd.DataFrame,
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    p0: float,
    label: str | None = None,
) -> Figure:
    """A funnel plot: ``points`` has ``n``, ``rate`` (and ``outside``); ``limits`` has ``n``
    and lower/upper columns named ``lo95``, ``hi95``, ``lo998``, ``hi998``."""
    fig, ax = new()
    ax.axhline(p0, color="#555555", linewidth=1)
    for lo, hi, style in (("lo95", "hi95", "--"), ("lo998", "hi998", ":")):
        ax.plot(limits["n"], limits[lo], color=BANK_COLOR, linestyle=style, linewidth=1)
        ax.plot(limits["n"], limits[hi], color=BANK_COLOR, linestyle=style, linewidth=1)
    out = points.get("outside", pd.Series(False, index=points.index)).astype(bool)
    ax.scatter(points["n"], points["rate"], c=np.where(out, ALERT_COLOR, BRANCH_COLOR), s=24)
    if label:
        for _, row in points[out].iterrows():
            ax.annotate(
                str(row[label]),
                (row["n"], row["rate"]),
                fontsize=7,
                xytext=(3, 3),
                textcoords="offset points",
            )
    percent_axis(ax, "y")
    return _finish(fig, ax, title, xlabel, ylabel)


RISE_COLOR, FALL_COLOR = PALETTE[2], PALETTE[3]


def waterfall(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    title: str,
    xlabel: str = "",
    ylabel: str = "",
    texts: Sequence[str] | None = None,
    scale: float = 1.0,
) -> Figure:
    """A bridge as a waterfall: the first and last values are totals (opening,
    closing) drawn from zero in the branch colour; the values between are the parts,
    each bar floating from the running total, rises green and falls vermillion.

    ``scale`` divides every value for the axis (1e4 for an axis in 万元); ``texts``
    are the labels written on the bars (already formatted), one per value.
    """
    fig, ax = new()
    v = np.asarray(values, dtype=float) / scale
    v = np.where(np.isfinite(v), v, 0.0)
    x = np.arange(len(v))
    bottoms, heights, colors = [], [], []
    running = 0.0
    for i, value in enumerate(v):
        if i == 0 or i == len(v) - 1:
            bottoms.append(0.0)
            heights.append(value)
            colors.append(BRANCH_COLOR)
            running = value
        else:
            bottoms.append(running if value >= 0 else running + value)
            heights.append(abs(value))
            colors.append(RISE_COLOR if value >= 0 else FALL_COLOR)
            running += value
    ax.bar(x, heights, bottom=bottoms, color=colors, width=0.6)
    for i in range(len(v) - 1):  # connectors: the running total carried to the next bar
        level = bottoms[i] + heights[i] if (i == 0 or v[i] >= 0) else bottoms[i]
        ax.plot([i + 0.3, i + 0.7], [level, level], color="#888888", linewidth=0.8)
    if texts is not None:
        for i, text in enumerate(texts):
            ax.annotate(
                text,
                (i, bottoms[i] + heights[i]),
                xytext=(0, 2),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=7,
            )
    ax.set_xticks(x, list(labels))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda t, _pos: f"{t:,.0f}"))
    ax.grid(axis="x", visible=False)
    ax.margins(y=0.12)
    # parts small against the totals would be slivers on an axis from zero: show the
    # band the running total moves in (the totals' bars are then cut; their values are
    # written on them)
    moving = [bottoms[i] for i in range(1, len(v) - 1)] + [
        bottoms[i] + heights[i] for i in range(1, len(v) - 1)
    ]
    if moving and min(v[0], v[-1]) > 0:
        low, high = min([*moving, v[0], v[-1]]), max([*moving, v[0], v[-1]])
        span = high - low
        if 0 < span < 0.5 * high:
            ax.set_ylim(max(0.0, low - 0.6 * span), high + 0.35 * span)
    return _finish(fig, ax, title, xlabel, ylabel)


def effects(
    labels: Sequence[str],
    series: dict[str, Sequence[float]],
    *,
    title: str,
    xlabel: str = "",
    ylabel: str = "",
) -> Figure:
    """Rate and mix effects per segment as horizontal bars around a zero line, one
    group per segment (e.g. product, manager), one bar per effect; values in the unit
    of the axis (percentage points: the caller multiplies a ratio change by 100)."""
    fig, ax = new(height=max(HEIGHT, 0.9 + 0.32 * len(labels)))
    n = max(len(series), 1)
    y = np.arange(len(labels))
    height = 0.8 / n
    colors = [PALETTE[0], PALETTE[1], *PALETTE[2:]]
    for i, (name, values) in enumerate(series.items()):
        pos = y - 0.4 + height * (i + 0.5)
        vals = np.asarray(values, dtype=float)
        ax.barh(pos, vals, height=height, label=name, color=colors[i % len(colors)])
    ax.axvline(0.0, color="#555555", linewidth=0.8)
    ax.set_yticks(y, list(labels))
    ax.invert_yaxis()
    ax.grid(axis="y", visible=False)
    return _finish(fig, ax, title, xlabel, ylabel, legend(ax))
