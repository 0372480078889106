"""Running many runs one after the other on this machine, each announced by a line; a
run already done is skipped by the run function itself, so the same command resumes."""


def run_in_order(runs, run_one, label):
    """``run_one(run)`` for each of ``runs``, after the line '== run i/n: label(run)'."""
    for number, run in enumerate(runs, 1):
        print(f"== run {number}/{len(runs)}: {label(run)}", flush=True)
        run_one(run)
