"""Let SIGINT (Ctrl-C) and SIGTERM stop training between two iterations."""
import os
import signal
import threading

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
STOPPING = "stopping after this iteration... (Ctrl-C again to stop at once)"


class StopSignals:
    """While active, the first SIGINT or SIGTERM is recorded in ``received`` for the
    training loop to stop after its iteration, and said at once on stderr (an iteration
    can take many seconds); a second one acts at once, as usual."""

    def __enter__(self):
        self.received = None
        self.previous = {}
        if threading.current_thread() is threading.main_thread():  # Python's rule
            self.previous = {s: signal.signal(s, self._record) for s in STOP_SIGNALS}
        return self

    def _record(self, signum, frame):
        self.received = signum
        self._restore()
        # os.write: the interrupted code may be inside a write to sys.stderr, which a
        # buffered write from here would re-enter. On a terminal, the line of a progress
        # bar is replaced (the bar goes on below).
        erase = '\r\033[K' if os.isatty(2) else ''
        os.write(2, f"{erase}{STOPPING}\n".encode())

    def _restore(self):
        for s, handler in self.previous.items():
            # None: a handler not installed from Python; the default is the closest.
            signal.signal(s, signal.SIG_DFL if handler is None else handler)
        self.previous = {}

    def __exit__(self, *exc_info):
        self._restore()
