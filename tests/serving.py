"""waitress serving an app from a thread inside the test process, stopped cleanly."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def served(app, threads: int = 4) -> Iterator[str]:
    """Serve ``app`` with waitress on a free local port; yields its base URL.

    ``server.run()`` never returns, and closing its sockets from another thread while its loop
    sits in ``select`` on them made that loop die with EBADF (a thread exception pytest warns
    about). So the loop here runs one poll at a time and is stopped, and joined, before the
    workers are shut down and the sockets closed.
    """
    import waitress

    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=threads)
    stop = threading.Event()

    def run() -> None:
        while not stop.is_set():
            server.asyncore.loop(timeout=0.05, map=server._map, count=1)

    thread = threading.Thread(target=run, name="waitress", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        stop.set()
        thread.join(timeout=5)
        server.task_dispatcher.shutdown(timeout=1)
        server.asyncore.close_all(server._map)
