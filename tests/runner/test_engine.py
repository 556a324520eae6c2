"""papermill's engine for reports: registered once, with whole saves of the notebook."""

from __future__ import annotations

from branchbook.runner import engine


def test_the_engine_is_registered_once_with_atomic_saves():
    from papermill.engines import papermill_engines
    from papermill.iorw import papermill_io

    name = engine.register_engine()
    assert engine.register_engine() == name
    assert papermill_engines.get_engine(name).__name__ == "Engine"
    assert getattr(papermill_io.get_handler("/"), "atomic_saves", False)
