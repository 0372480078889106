"""The exit statuses of the project's commands (main.py, reproduce.py, the studies), and
the one line each problem gets instead of a traceback."""
import sys

from binarygan import Diverged, Interrupted, UserError

DONE, BAD_INPUT, DIVERGED, INTERRUPTED = 0, 2, 3, 130


def exit_status(run, resume_hint="rerun the same command to resume"):
    """The exit status of ``run()``: 0 done (or the status it returns), 2 bad input, 3 a
    loss became NaN or infinite, 128 + the signal's number after SIGINT or SIGTERM
    stopped training (a checkpoint saved), 130 interrupted otherwise; the problem in one
    line on stderr, with ``resume_hint`` where resuming helps."""
    try:
        return run() or DONE
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return BAD_INPUT
    except Diverged as e:
        print(f"error: {e}", file=sys.stderr)
        return DIVERGED
    except Interrupted as e:
        print(f"{e}; {resume_hint}", file=sys.stderr)
        return 128 + e.signum
    except KeyboardInterrupt:  # before training started, or a second Ctrl-C
        print(f"interrupted; {resume_hint}", file=sys.stderr)
        return INTERRUPTED
