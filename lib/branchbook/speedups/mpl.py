"""matplotlib's Agg renderer: text measured once a process, font heights once a font,
the pinned fonts read from memory.

Each patch gives the same numbers matplotlib computes, so the same pixels
(``tests/speedups/test_mpl.py`` draws a chart both ways and compares them). Installed by
:func:`branchbook.charts.setup` through ``speedups.install("mpl", fonts=...)``.
"""

from __future__ import annotations

import functools
import io
import os
import threading
from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib import font_manager
from matplotlib.backends import backend_agg
from matplotlib.backends.backend_agg import RendererAgg

# matplotlib caches the measured size of each text per renderer, and every figure has a
# renderer of its own: each chart measured its tick labels, legend and title again
# (about 7 of the 20 ms its layout took, measured on a grouped bar chart with CJK labels).
# An Agg renderer's measure depends only on the text, the font properties, mathtext or
# not, the dpi and the hinting settings, so the measures are shared by every Agg
# renderer of the process. Kernels and renderers live for one report: the cache too.
_METRICS: dict[tuple, tuple[float, float, float]] = {}


_METRICS_MAX = 8192


def _agg_text_metrics(original):
    def metrics(renderer, text, fontprop, ismath, dpi):
        if type(renderer) is not RendererAgg:
            return original(renderer, text, fontprop, ismath, dpi)
        rc = plt.rcParams
        key = (text, fontprop.copy(), ismath, dpi, rc["text.hinting"], rc["text.hinting_factor"])
        found = _METRICS.get(key)
        if found is None:
            # a missing glyph warns here, and raises inside layout() and to_png(); a
            # failed measure is not stored
            found = renderer.get_text_width_height_descent(text, fontprop, ismath=ismath)
            if len(_METRICS) >= _METRICS_MAX:
                _METRICS.clear()
            _METRICS[key] = found
        return found

    metrics.original = original
    return metrics


def install(fonts: Sequence[str] = ()) -> bool:
    """Share text measures between the Agg renderers of this process, give them the
    font heights once per font and size, and open the Agg renderer's chains of the font
    files ``fonts`` on their bytes in memory (idempotent).

    Patches matplotlib's private ``text._get_text_metrics_with_cache``; if a matplotlib
    version lacks it, charts are made as before (each figure measures its own texts).
    Returns whether the measures are shared.
    """
    import matplotlib.text as mtext

    _PINNED.update(_realpath(f) for f in fonts if Path(f).is_file())
    current = getattr(mtext, "_get_text_metrics_with_cache", None)
    if current is None:
        return False
    if getattr(current, "original", None) is None:
        mtext._get_text_metrics_with_cache = _agg_text_metrics(current)
    if not hasattr(RendererAgg, "_get_font_height_metrics"):
        RendererAgg._get_font_height_metrics = _font_height_metrics
    if getattr(backend_agg.get_font, "original", None) is None:
        backend_agg.get_font = _agg_get_font(backend_agg.get_font)
    return True


# FreeType reads a glyph's outline from the font file when it draws the glyph, and
# matplotlib hands it the file as a Python file object: a seek and a read (two system
# calls and a Python call) per outline, 20,000 or so a report from the 19 MB CJK
# collections. The Agg renderer's fonts are therefore opened on the file's bytes, read
# once per process (the fork server's copy is shared by every kernel it forks). Only
# chains made entirely of the pinned CJK files are; any other font goes through
# matplotlib unchanged. matplotlib's other renderers (PDF, SVG embed the file by its
# name) never see these font objects.
_FONT_BYTES: dict[str, bytes] = {}


def _font_file(path: str) -> io.BytesIO:
    data = _FONT_BYTES.get(path)
    if data is None:
        data = _FONT_BYTES[path] = Path(path).read_bytes()
    return io.BytesIO(data)


@functools.lru_cache(maxsize=16)
def _memory_font(paths: tuple, kerning_factor: float, last_resort: bool, thread_id: int):
    """The font chain matplotlib's ``font_manager._get_font`` builds for ``paths``
    (``(path, face index)`` pairs), with the pinned files read from memory."""
    from matplotlib import cbook, ft2font

    def face(path: str, index: int, **kwargs):
        return ft2font.FT2Font(
            _font_file(path), face_index=index, _kerning_factor=kerning_factor, **kwargs
        )

    fallback = [face(path, index) for path, index in paths[1:]]
    if last_resort:  # as matplotlib: a last font that draws a box, with a warning
        resort = ft2font.FT2Font(
            os.path.realpath(cbook._get_data_path("fonts", "ttf", "LastResortHE-Regular.ttf")),
            _kerning_factor=kerning_factor,
            _warn_if_used=True,
        )
        resort.set_charmap(0)
        fallback.append(resort)
    (path, index), *_ = paths
    return face(path, index, _fallback_list=fallback)


os.register_at_fork(after_in_child=_memory_font.cache_clear)  # as matplotlib does for its own


_realpath = functools.lru_cache(maxsize=64)(os.path.realpath)  # as matplotlib's: no stat a text
_PINNED: set[str] = set()  # the font files read from memory (their real paths)


def _agg_get_font(original):
    """``original`` (the ``get_font`` of matplotlib's Agg backend), opening chains of
    the pinned files (:func:`install`'s ``fonts``) on their bytes in memory."""
    pinned = _PINNED

    def get_font(font_filepaths, *args, **kwargs):
        items = (
            [font_filepaths]
            if isinstance(font_filepaths, (str, bytes, os.PathLike))
            else list(font_filepaths)
        )
        paths = tuple(
            (_realpath(getattr(f, "path", f)), getattr(f, "face_index", 0)) for f in items
        )
        if args or kwargs or not paths or any(p not in pinned for p, _ in paths):
            return original(font_filepaths, *args, **kwargs)
        font = _memory_font(
            paths,
            plt.rcParams["text.kerning_factor"],
            plt.rcParams["font.enable_last_resort"],
            threading.get_ident(),
        )
        font._set_transform([[0x10000, 0], [0, 0x10000]], [0, 0])  # as get_font does
        return font

    get_font.original = original
    return get_font


# Every time matplotlib lays out or draws a text (several hundred times a chart) it
# sizes the line from the font's OS/2 or hhea table: it finds the font file, gets the
# font and converts both tables to dicts. matplotlib asks the renderer first
# (``_get_font_height_metrics``, the hook its PDF and PS renderers fill); Agg has none.
# This one gives the same three numbers, computed once per font properties and dpi:
# 13,228 lookups and 26,476 table reads in 12 reports (cProfile, 0.8 s of 23).
_HEIGHTS: dict[tuple, tuple] = {}


def _font_height_metrics(renderer, prop) -> tuple:
    """``(ascent, descent, line gap)`` in pixels of ``prop``'s font at the renderer's
    dpi, as ``matplotlib.text.Text._get_layout`` computes them; ``(None, None, None)``
    (matplotlib then measures) for a font without those tables."""
    key = (prop.copy(), renderer.dpi)
    found = _HEIGHTS.get(key)
    if found is None:
        font = font_manager.get_font(font_manager.fontManager._find_fonts_by_props(prop))
        found = (None, None, None)
        for table_name, gap, ascent, descent in (
            ("OS/2", "sTypoLineGap", "sTypoAscender", "sTypoDescender"),
            ("hhea", "lineGap", "ascent", "descent"),
        ):
            table = font.get_sfnt_table(table_name)
            if table is None:
                continue
            # the same operations in the same order as matplotlib: the same floats
            units_per_em = font.get_sfnt_table("head")["unitsPerEm"]
            scale = 1 / units_per_em * prop.get_size_in_points() * renderer.dpi / 72
            found = (table[ascent] * scale, -table[descent] * scale, table[gap] * scale)
            break
        if len(_HEIGHTS) >= _METRICS_MAX:
            _HEIGHTS.clear()
        _HEIGHTS[key] = found
    return found
