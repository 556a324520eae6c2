"""Measured speed patches to other libraries' internals: in one place, behind one switch.

Each module here makes one library faster without changing what it gives, and says
what it changes, what it saved when measured and which test checks the result is the
same:

- :mod:`.mpl`: matplotlib's Agg text measures shared by every figure, font heights
  computed once per font, the pinned CJK fonts read from memory;
- :mod:`.weasy`: WeasyPrint given the page's stylesheets parsed once a process, the
  charts' PNG data as it is, a lighter user-agent sheet, images by reference;
- :mod:`.nbclient`: a kernel's outputs made without validating each one on its own;
- :mod:`.jupyter_client`: a kernel client that is ready as soon as the kernel is;
- :mod:`.ipykernel`: a kernel's stdout and stderr flushed only when they hold something;
- :mod:`.jsonschema`: jsonschema imported without a grammar nobody uses (installed
  by the package itself as it is imported, before anything can import nbformat);
- :mod:`.cpython`: hot code run on one large frame-stack chunk.

``BRANCHBOOK_SPEEDUPS=0`` (or ``false``, ``no``, ``off``) in the environment turns every
one of them off: each library then runs as it is shipped, for a bug report upstream, a
new version to try, or to check that a report is the same without them
(``tests/speedups/test_switch.py``). The switch is read when a patch would be installed,
in the runner and, through the environment, in every kernel and renderer.

What is not here, though made for speed, because it is branchbook's own output and
not a patch to anyone's internals: the charts' PNG encoder and single draw
(:mod:`branchbook.charts`), the printed tables' column widths
(:mod:`branchbook.print_layout`), the fork server (``BRANCHBOOK_WARM``) and the
engine's sparser saves (:mod:`branchbook.runner.engine`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

SWITCH = "BRANCHBOOK_SPEEDUPS"
PATCHES = ("jsonschema", "mpl", "weasy", "nbclient")  # the ones :func:`install` applies


def enabled() -> bool:
    """Whether the speed patches are on (the default); ``BRANCHBOOK_SPEEDUPS=0`` turns
    them off."""
    value = os.environ.get(SWITCH, "1").strip().lower()
    return value not in ("0", "false", "no", "off")


def install(*names: str, fonts: Sequence[str] = ()) -> bool:
    """Install the named patches (idempotent); whether they are on.

    ``names`` are from :data:`PATCHES`: each imports the library it patches, so a
    process names those it uses (the runner never imports WeasyPrint or matplotlib for
    nothing). ``fonts``: the font files matplotlib's Agg renderer may read from memory
    (``mpl``). With the switch off nothing is installed and this returns ``False``.
    The other speedups (:mod:`.jupyter_client`, :mod:`.ipykernel`, :mod:`.cpython`)
    are classes and functions their callers choose with :func:`enabled`.
    """
    unknown = [n for n in names if n not in PATCHES]
    if unknown or not names:
        raise ValueError(
            f"names are expected to be some of ({', '.join(PATCHES)}). Got {list(names)} instead."
        )
    if not enabled():
        return False
    if "jsonschema" in names:
        from . import jsonschema

        jsonschema.install()
    if "mpl" in names:
        from . import mpl

        mpl.install(fonts)
    if "weasy" in names:
        from . import weasy

        weasy.install()
    if "nbclient" in names:
        from . import nbclient

        nbclient.install()
    return True
