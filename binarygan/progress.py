"""What training prints: a live progress bar on a terminal, one line per epoch."""
import sys
import time

BAR_WIDTH = 20
REFRESH_SECONDS = 0.5


def _clock(seconds):
    minutes, seconds = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f'{hours}:{minutes:02d}:{seconds:02d}' if hours else f'{minutes}:{seconds:02d}'


class Progress:
    """One line per epoch; in between, on a terminal, a bar with the losses,
    iterations per second and ETA, or with ``verbose`` a line per iteration
    (wherever the output goes)."""

    def __init__(self, verbose, num_epoch, num_batch, stream=None):
        self.verbose, self.num_epoch, self.num_batch = verbose, num_epoch, num_batch
        self.stream = stream or sys.stdout
        self.live = self.stream.isatty() and not verbose
        self.shown = False

    def start_epoch(self, first_batch):
        """Measure speed from here, at ``first_batch`` (not 0 in a resumed epoch)."""
        self.start, self.first_batch, self.last_shown = time.time(), first_batch, 0.

    def iteration(self, epoch, batch, step, seconds, d_loss, g_loss):
        if self.verbose:
            print(f"epoch {epoch:3d} | batch {batch:5d}/{self.num_batch} | step {step:6d} | "
                  f"{seconds * 1e3:7.1f} ms | d_loss {d_loss:10.4f} | g_loss {g_loss:10.4f}",
                  file=self.stream, flush=True)
            return
        now = time.time()
        if not self.live or now - self.last_shown < REFRESH_SECONDS:
            return
        self.last_shown, self.shown = now, True
        done = batch + 1
        rate = (done - self.first_batch) / max(now - self.start, 1e-9)
        filled = BAR_WIDTH * done // self.num_batch
        print(f"\repoch {epoch + 1}/{self.num_epoch} [{'#' * filled}{'.' * (BAR_WIDTH - filled)}] "
              f"{done}/{self.num_batch} | {rate:5.1f} it/s | ETA "
              f"{_clock((self.num_batch - done) / max(rate, 1e-9))} | d_loss {d_loss:9.4f} "
              f"| g_loss {g_loss:9.4f} ", end='', file=self.stream, flush=True)

    def clear(self):
        """Remove the bar before other output."""
        if self.shown:
            print('\r\033[K', end='', file=self.stream, flush=True)
            self.shown = False

    def epoch(self, epoch, step, seconds, d_loss, g_loss, slope):
        self.clear()
        print(f"epoch {epoch + 1:3d}/{self.num_epoch} | step {step:6d} | {seconds:7.1f} s | "
              f"d_loss {d_loss:10.4f} | g_loss {g_loss:10.4f} | slope {slope:.4f}",
              file=self.stream, flush=True)
