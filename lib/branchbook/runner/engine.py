"""papermill's engine for reports: the executed notebook saved whole, and less often."""

from __future__ import annotations

import threading

from .. import iorw, speedups

_ENGINE = "branchbook"
_ENGINE_LOCK = threading.Lock()


def register_engine() -> str:
    """papermill's nbclient engine, saving the executed notebook less often.

    papermill rewrites the whole notebook (charts included, 1-2 MB) at the start and
    the end of every cell: some 40 writes a report. This engine writes it when the
    notebook starts, when a cell fails, and every 30 s in between (so a long cell still
    leaves evidence); at the end only when the engine fails (a dead kernel, a time
    limit), since papermill writes the finished notebook itself right after (each write
    of a finished report: 5-10 ms of the runner's CPU validating and indenting it).
    With the speedups on, outputs are made by :func:`branchbook.speedups.nbclient.output_from_msg`.
    """
    from papermill.engines import NBClientEngine, NotebookExecutionManager, papermill_engines

    with _ENGINE_LOCK:
        if _ENGINE in papermill_engines._engines:
            return _ENGINE
        iorw.atomic_notebook_saves()  # each save of the executed notebook whole or not at all
        # the outputs of this process's notebooks are validated with the whole notebook
        speedups.install("nbclient")

        class SparseSaves(NotebookExecutionManager):
            _must = False

            def save(self, **kwargs):
                due = (self.now() - self.last_save_time).total_seconds() >= self.autosave_cell_every
                if self._must or due:
                    super().save(**kwargs)

            def _forced(self, method, *args, **kwargs):
                self._must = True
                try:
                    return method(*args, **kwargs)
                finally:
                    self._must = False

            def notebook_start(self, **kwargs):
                return self._forced(super().notebook_start, **kwargs)

            def cell_exception(self, cell, cell_index=None, **kwargs):
                return self._forced(super().cell_exception, cell, cell_index, **kwargs)

            def notebook_complete(self, save: bool = True, **kwargs):
                if save:
                    return self._forced(super().notebook_complete, **kwargs)
                return super().notebook_complete(**kwargs)  # saves only if 30 s are due

        class Engine(NBClientEngine):
            @classmethod
            def execute_notebook(
                cls,
                nb,
                kernel_name,
                output_path=None,
                progress_bar=True,
                log_output=False,
                autosave_cell_every=30,
                **kwargs,
            ):
                nb_man = SparseSaves(
                    nb,
                    output_path=output_path,
                    progress_bar=progress_bar,
                    log_output=log_output,
                    autosave_cell_every=autosave_cell_every,
                )
                nb_man.notebook_start()
                try:
                    cls.execute_managed_notebook(
                        nb_man, kernel_name, log_output=log_output, **kwargs
                    )
                except BaseException:
                    nb_man.cleanup_pbar()
                    nb_man.notebook_complete()  # saved: papermill writes nothing after this
                    raise
                nb_man.cleanup_pbar()
                # papermill writes the notebook next (with the error marker if a cell failed)
                nb_man.notebook_complete(save=False)
                return nb_man.nb

        papermill_engines.register(_ENGINE, Engine)
    return _ENGINE
