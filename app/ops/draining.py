"""A gunicorn sync worker that, on SIGTERM, serves the connections already waiting before it exits.

gunicorn's sync worker stops accepting at once on SIGTERM: connections queued on the listening socket (sent
while every worker was busy, or just as the signal came) are reset when the last worker closes it, and behind
nginx each becomes a 502. This worker, once its request in progress is done, keeps accepting until the queue
has stayed empty for GUNICORN_DRAIN_QUIET_SECONDS, within gunicorn's graceful_timeout."""
import errno
import os
import select
import time

from gunicorn.workers.sync import SyncWorker

_AGAIN = (errno.EAGAIN, errno.EWOULDBLOCK, errno.ECONNABORTED)


class DrainingSyncWorker(SyncWorker):
    """gunicorn's sync worker, draining its listening sockets on SIGTERM."""

    def run(self):
        super().run()
        if self.ppid == os.getppid():  # a worker orphaned by its master just stops
            self.drain()

    def drain(self) -> None:
        """Serve queued connections until none came for the quiet period (or graceful_timeout is near)."""
        quiet = float(os.environ.get("GUNICORN_DRAIN_QUIET_SECONDS") or 0.5)
        deadline = time.monotonic() + max(1.0, self.cfg.graceful_timeout - 1.0)
        last_served = time.monotonic()
        while time.monotonic() < deadline and time.monotonic() - last_served < quiet:
            self.notify()
            if self._accept_one():
                last_served = time.monotonic()
            else:
                select.select(self.sockets, [], [], 0.05)

    def _accept_one(self) -> bool:
        for listener in self.sockets:
            try:
                self.accept(listener)
                return True
            except OSError as error:
                if error.errno not in _AGAIN:
                    raise
        return False
