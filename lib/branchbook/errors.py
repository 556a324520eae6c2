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


class OutputError(BranchbookError, OSError):
    """A report, notebook or index file could not be written (disk full, no permission).

    Also an :class:`OSError` carrying the original ``errno``, so code that catches
    ``OSError`` keeps working; the message names the file and says why in words.
    """

    def __str__(self) -> str:  # the message, not OSError's "[Errno 28] ...: 'path'"
        return str(self.args[0]) if self.args else ""
