"""Running reports: the plan, the kernels that execute the notebooks, the fork server
that starts them warm, and the manifest that records what was published.

:func:`branchbook.run` (``branchbook run``) is :func:`.orchestrate.run`. Modules, from
the top: :mod:`.orchestrate` (one run of a period), :mod:`.executors` (here on threads,
or on a Dask cluster), :mod:`.execute` (one report made and published), :mod:`.engine`
(papermill's engine), :mod:`.kernels` (kernel managers), :mod:`.forkclient` and
:mod:`.forkserver` (warm kernels and renderers), :mod:`.plan` and :mod:`.manifest`.
"""
