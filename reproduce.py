"""Reproduce the paper's four experiments under either protocol, the ablation that tells
the two protocols apart, and more seeds; then rebuild the figures and figs/results.md.

    python reproduce.py                              # the paper's grid, protocol 'paper'
    python reproduce.py --protocol original_code     # the grid as the authors' code ran it
    python reproduce.py --group ablation             # batch normalization x slope annealing
    python reproduce.py --group seeds --protocol original_code   # seeds 1 and 2 for claims 1, 5
    python reproduce.py --group ways                 # other ways to train binary outputs
    python reproduce.py --ray [ADDRESS]              # the runs as Ray tasks (docs/ray.md)
    python reproduce.py --runs mlp_mlp_round,mlp_mlp_bernoulli   # a subset of the group
    python reproduce.py --report-only                # figures and results.md from the records
    python reproduce.py data.training_data=...       # further overrides for every run

Each run is main.py in EXP_ROOT/<folder>/<run> (folder: the protocol, an ablation cell or
<protocol>/seed<k>, 'ways'), 20 epochs: one already trained that long is skipped, an interrupted
one resumes from its latest checkpoint, a finished one is evaluated once on
--num-samples samples. Its record (settings, metrics, preactivation histogram, metrics
along training, wall time, machine) then goes to FIGS_DIR/runs/<folder>/<run>.json and
its last sample grids to FIGS_DIR/<folder>/. The report is built from these records
alone, so a clone of the repository rebuilds it without the runs.
"""
import argparse
import os
import signal
import sys

from binarygan.configure import PROTOCOLS
from experiments import gan_run
from binarygan.exit_status import BAD_INPUT, INTERRUPTED
from experiments.cli import summary
from experiments.grid import GROUPS
from experiments.in_order import run_in_order
from experiments.records import RECORDS
from experiments.report import report


def parse_arguments(argv):
    parser = argparse.ArgumentParser(description=summary(__doc__))
    parser.add_argument('--protocol', default='paper', choices=list(PROTOCOLS),
                        help="the protocol of the grid and the seeds (default: paper)")
    parser.add_argument('--group', default='grid', choices=list(GROUPS),
                        help='; '.join(f"{name}: {group.description}"
                                       for name, group in GROUPS.items()))
    parser.add_argument('--runs', help="comma-separated runs of the group (default: all of "
                        "them); an unknown one is refused with the group's list")
    parser.add_argument('--epochs', type=int,
                        help="epochs per run (default: the group's, 20 but where its "
                             "description says)")
    parser.add_argument('--num-samples', type=int, default=10000,
                        help="samples per final evaluation")
    parser.add_argument('--exp-root', default=os.path.join('exp', 'reproduction'))
    parser.add_argument('--figs-dir', default='figs')
    parser.add_argument('--report-only', action='store_true',
                        help="only rebuild the figures and results.md from the records")
    parser.add_argument('--ray', nargs='?', const='local', metavar='ADDRESS',
                        help="run the group's runs as Ray tasks, side by side: on a local Ray "
                             "instance that this command starts and stops, or on the Ray "
                             "cluster at ADDRESS (HEAD:6379), whose nodes all see --exp-root; "
                             "needs pip install -r requirements-ray.txt (docs/ray.md)")
    parser.add_argument('--cpus-per-run', type=int, default=1,
                        help="with --ray on machines without GPUs: the CPUs each run asks for "
                             "(default 1); with GPUs a run asks for one GPU")
    parser.add_argument('overrides', nargs='*', help="key=value for every run's main.py")
    args = parser.parse_args(argv)
    if args.ray and '=' in args.ray:  # `--ray key=value ...`: an override, not an address
        args.overrides.insert(0, args.ray)
        args.ray = 'local'
    return args


def main(argv=None):
    args = parse_arguments(argv)
    names = args.runs.split(',') if args.runs else None
    group = GROUPS[args.group]
    valid = list(group.names_offered)
    if args.epochs is None:
        args.epochs = group.epochs
    unknown = [name for name in names or [] if name not in valid]
    if unknown:
        print(f"error: unknown run {unknown[0]!r} of group {args.group}; valid: "
              f"{', '.join(valid)}", file=sys.stderr)
        return BAD_INPUT
    if args.epochs < 1 or args.num_samples < 2 or args.cpus_per_run < 1:
        print("error: --epochs must be at least 1, --num-samples at least 2 and "
              "--cpus-per-run at least 1", file=sys.stderr)
        return BAD_INPUT
    exp_root, figs_dir = os.path.abspath(args.exp_root), os.path.abspath(args.figs_dir)
    runs = group.runs(args.protocol, names)
    failed = 0  # with --ray: the first failed run's exit status, after the report
    previous = signal.signal(signal.SIGTERM, stop_on_signal)
    try:
        if not args.report_only and args.ray:
            from experiments import on_ray  # only here: without --ray, no Ray
            try:
                failed = on_ray.run_grid_on_ray(
                    runs, None if args.ray == 'local' else args.ray, args.cpus_per_run,
                    exp_root, figs_dir, args.epochs, args.num_samples, args.overrides)
            except on_ray.Refused as e:
                print(f"error: {e}", file=sys.stderr)
                return BAD_INPUT
        elif not args.report_only:
            run_in_order(runs, lambda run: gan_run.run(
                run[0], run[1], run[2] + args.overrides, exp_root, figs_dir, args.epochs,
                args.num_samples), lambda run: f'{run[0]}/{run[1]}')
    except gan_run.GridError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.status
    except (gan_run.Stop, KeyboardInterrupt) as e:
        print(f"{e if isinstance(e, gan_run.Stop) else 'interrupted'}; every run has "
              "saved a checkpoint: rerun the same command to resume", file=sys.stderr)
        return 128 + e.signum if isinstance(e, gan_run.Stop) else INTERRUPTED
    finally:
        signal.signal(signal.SIGTERM, previous)
    if not report(args.figs_dir):
        if failed:
            return failed
        print(f"error: no run records in {os.path.join(args.figs_dir, RECORDS)}: train and "
              "evaluate runs first (python reproduce.py)", file=sys.stderr)
        return BAD_INPUT
    return failed


def stop_on_signal(signum, frame):
    """SIGTERM (as `timeout` or a scheduler sends it) stops the grid as Ctrl-C does."""
    raise gan_run.Stop(signum)


if __name__ == '__main__':
    sys.exit(main())
