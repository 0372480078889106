"""Studies beside the GAN that reuse its parts: the seeds' classifier experiments."""
import argparse
import sys

from binarygan import Diverged, UserError


class Parser(argparse.ArgumentParser):
    """Its errors are one line, as every other bad input."""

    def error(self, message):
        raise UserError(message)


def command(run):
    """Exit status of ``run()``: 0 done, 2 bad input, 3 a loss became NaN or infinite,
    130 interrupted; the errors in one line on stderr."""
    try:
        run()
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except Diverged as e:
        print(f"error: {e}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        print("interrupted; rerun the same command to resume from the last finished epoch",
              file=sys.stderr)
        return 130
    return 0
