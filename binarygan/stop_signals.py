"""Let SIGINT (Ctrl-C) and SIGTERM stop training between two iterations."""
import signal
import threading

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopSignals:
    """While active, the first SIGINT or SIGTERM is recorded in ``received`` for the
    training loop to stop after its iteration; a second one acts at once, as usual."""

    def __enter__(self):
        self.received = None
        self.previous = {}
        if threading.current_thread() is threading.main_thread():  # Python's rule
            self.previous = {s: signal.signal(s, self._record) for s in STOP_SIGNALS}
        return self

    def _record(self, signum, frame):
        self.received = signum
        self._restore()

    def _restore(self):
        for s, handler in self.previous.items():
            # None: a handler not installed from Python; the default is the closest.
            signal.signal(s, signal.SIG_DFL if handler is None else handler)
        self.previous = {}

    def __exit__(self, *exc_info):
        self._restore()
