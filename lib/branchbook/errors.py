"""The project's exceptions: one root, a few precise children."""


class BranchbookError(Exception):
    """Root of every error branchbook raises on purpose."""


class ParamsError(BranchbookError):
    """A parameter file or value broke its rule (names the file and the key)."""


class DataContractError(BranchbookError):
    """A warehouse table broke the data contract (names table, column, rule, keys)."""


class WarehouseError(BranchbookError):
    """The warehouse could not be opened or read."""


class NotebookRunError(BranchbookError):
    """A report notebook failed, hung or was killed while executing."""


class RenderError(BranchbookError):
    """An executed notebook could not be rendered to HTML or PDF."""
