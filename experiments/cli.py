"""What the experiments' command lines share: one line for bad input (exit statuses:
binarygan/exit_status.py), and the parsing of comma-separated names and seeds."""
import argparse

from binarygan import UserError

class Parser(argparse.ArgumentParser):
    """Its errors are one line, as every other bad input."""

    def error(self, message):
        raise UserError(message)


def summary(doc):
    """A module docstring's first paragraph as one line: a command's --help description."""
    return ' '.join(doc.split('\n\n')[0].split())


def names(text, valid, what):
    """The comma-separated names of ``text`` (all of ``valid`` when empty); UserError for
    one not in ``valid``."""
    chosen = list(dict.fromkeys(name for name in (text or '').split(',') if name))
    unknown = [name for name in chosen if name not in valid]
    if unknown:
        raise UserError(f"unknown {what} {unknown[0]!r}; valid: {', '.join(valid)}")
    return chosen or list(valid)


def seeds(text, option='--seeds'):
    """Distinct integers from 0, comma-separated; UserError otherwise."""
    try:
        values = [int(value) for value in text.split(',')]
    except ValueError:
        values = [-1]
    if any(value < 0 for value in values) or len(set(values)) != len(values):
        raise UserError(f"{option} takes distinct integers from 0 separated by commas, "
                        f"not {text!r}")
    return values
