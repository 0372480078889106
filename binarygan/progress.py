"""What training prints: one line per epoch; in between a bar on a terminal, a line a
minute elsewhere, or a line per iteration with ``verbose``.

The bar is drawn here, not by keras.utils.Progbar (or tqdm): both take the time left
from the mean time of the unit they count, and an iteration here takes 100 or 5 critic
steps by the critic schedule, so the time left comes from seconds per critic step and per
generator step (Eta), which neither can be given."""
import sys
import time

BAR_WIDTH = 20
REFRESH_SECONDS = 0.5   # the bar on a terminal
LINE_SECONDS = 60.      # a line when the output is not a terminal


def clock(seconds):
    """'1:02:03', '2:03', or '?' for None."""
    if seconds is None:
        return '?'
    minutes, seconds = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f'{hours}:{minutes:02d}:{seconds:02d}' if hours else f'{minutes}:{seconds:02d}'


class Eta:
    """The seconds left until generator step ``last_step``, from those of the iterations
    so far: an iteration of n critic steps and one generator step takes a * n + b seconds,
    a and b fitted by least squares. Until two values of n have been seen, b is taken
    equal to a (a generator step costs about a critic step). ``critic_steps_before(step)``:
    the critic steps of generator steps 0 to step - 1."""

    def __init__(self, last_step, critic_steps_before):
        self.last_step, self.critic_steps_before = last_step, critic_steps_before
        self.count = self.sum_n = self.sum_nn = self.sum_t = self.sum_nt = 0.

    def add(self, n_critic, seconds):
        """An iteration of ``n_critic`` critic steps took ``seconds``."""
        self.count += 1
        self.sum_n += n_critic
        self.sum_nn += n_critic * n_critic
        self.sum_t += seconds
        self.sum_nt += n_critic * seconds

    def seconds_left(self, steps_done):
        """After ``steps_done`` generator steps; None before any iteration was added."""
        if not self.count:
            return None
        spread = self.count * self.sum_nn - self.sum_n ** 2  # exact: integer sums
        if spread > 0:
            a = (self.count * self.sum_nt - self.sum_n * self.sum_t) / spread
            b = (self.sum_t - a * self.sum_n) / self.count
        else:
            a = b = self.sum_t / (self.sum_n + self.count)
        critic_steps = (self.critic_steps_before(self.last_step)
                        - self.critic_steps_before(steps_done))
        return max(0., a * critic_steps + b * (self.last_step - steps_done))


class Progress:
    """Steps done of the run's ``last_step`` (the step cap, or all epochs), where they are
    and the time left, on a bar that a terminal redraws, else in a line a minute (or with
    ``verbose`` a line per iteration, wherever the output goes); a line per epoch."""

    def __init__(self, verbose, num_epoch, num_batch, last_step, critic_steps_before,
                 stream=None):
        self.verbose, self.num_epoch, self.num_batch = verbose, num_epoch, num_batch
        self.last_step = last_step
        self.eta = Eta(last_step, critic_steps_before)
        self.stream = stream or sys.stdout
        self.live = self.stream.isatty() and not verbose
        self.start = self.last_shown = time.time()
        self.previous = None  # the end of the previous iteration, if it is to be measured
        self.compiled = set()  # the numbers of critic steps that iterations have had
        self.shown = False

    def position(self, steps_done):
        """'epoch 2/20' when ``steps_done`` generator steps end an epoch, else
        'epoch 3/20, batch 40/1093'; epochs and batches counted from 1."""
        epoch, batch = divmod(steps_done, self.num_batch)
        if batch == 0 and epoch:
            return f"epoch {epoch}/{self.num_epoch}"
        return f"epoch {epoch + 1}/{self.num_epoch}, batch {batch}/{self.num_batch}"

    def iteration(self, step, n_critic, seconds, d_loss, g_loss):
        """Generator step ``step`` (from 0) is done, after ``n_critic`` critic steps; the
        networks' steps took ``seconds``. The time since the previous call goes into the
        ETA, except for the first iteration of each number of critic steps (which traces
        and compiles the steps for it) and the first after the end of an epoch."""
        now = time.time()
        if self.previous is not None and n_critic in self.compiled:
            self.eta.add(n_critic, now - self.previous)
        self.previous = now
        self.compiled.add(n_critic)
        done = step + 1
        eta = clock(self.eta.seconds_left(done))
        status = f"step {done}/{self.last_step} | {self.position(done)}"
        losses = f"d_loss {d_loss:10.4f} | g_loss {g_loss:10.4f}"
        if self.verbose:
            print(f"{status} | {seconds * 1e3:7.1f} ms | {losses} | ETA {eta}",
                  file=self.stream, flush=True)
            return
        if now - self.last_shown < (REFRESH_SECONDS if self.live else LINE_SECONDS):
            return
        self.last_shown = now
        if not self.live:
            print(f"{status} | {clock(now - self.start)} elapsed, ETA {eta} | {losses}",
                  file=self.stream, flush=True)
            return
        self.shown = True
        filled = BAR_WIDTH * done // self.last_step
        epoch = -(-done // self.num_batch)
        print(f"\r[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] step {done}/{self.last_step} "
              f"| epoch {epoch}/{self.num_epoch} | ETA {eta} | d_loss {d_loss:9.4f} | "
              f"g_loss {g_loss:9.4f} ", end='', file=self.stream, flush=True)

    def clear(self):
        """Remove the bar before other output."""
        if self.shown:
            print('\r\033[K', end='', file=self.stream, flush=True)
            self.shown = False

    def epoch(self, epoch, step, seconds, d_loss, g_loss, slope):
        """Epoch ``epoch`` (from 0) ended at ``step`` after ``seconds``. The next
        iteration is not measured: the time until then goes to the end of the epoch
        (checkpoint, evaluation)."""
        self.clear()
        print(f"epoch {epoch + 1:3d}/{self.num_epoch} | step {step:6d} | {seconds:7.1f} s | "
              f"d_loss {d_loss:10.4f} | g_loss {g_loss:10.4f} | slope {slope:.4f}",
              file=self.stream, flush=True)
        self.previous = None
