"""ipykernel: the kernel's standard streams without a thread round trip for nothing.

Before every ``display`` ipykernel flushes stdout and stderr, and a flush from the
main thread hands two callbacks to the IOPub thread and waits for the second: two
thread switches per stream, even when nothing was written. A report page makes some
60 displays and prints nothing, so each report's kernel paid about 120 of these.
:class:`QuietOutStream` skips the hand-over when the stream holds nothing and has no
flush pending; otherwise it flushes as ipykernel does. Order is kept: a message is
queued on the same IOPub thread after any flush already running there.

Used by every report kernel, when the speedups are on, through
``--IPKernelApp.outstream_class`` (see ``branchbook.runner.kernels.kernel_arguments``).
"""

from __future__ import annotations

from ipykernel.iostream import OutStream


class QuietOutStream(OutStream):
    """An :class:`~ipykernel.iostream.OutStream` whose flush is free when there is nothing to send."""

    def _idle(self) -> bool:
        if self._flush_pending or self._subprocess_flush_pending or self.echo is not None:
            return False
        with self._buffer_lock:
            return not any(buffer.tell() for buffer in self._buffers.values())

    def flush(self) -> None:
        if self._idle():
            return
        super().flush()
