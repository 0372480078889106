"""Reproduce the paper's four experiments: train, evaluate, rebuild figures and table.

    python reproduce.py                           # the whole grid, 20 epochs each
    python reproduce.py --runs mlp_mlp_round,mlp_mlp_bernoulli   # a subset
    python reproduce.py --epochs 2 --exp-root exp/quick --figs-dir exp/quick/figs
    python reproduce.py --report-only             # figures and results.md from disk
    python reproduce.py data.training_data=...    # further overrides for every run

A run already trained for the epochs asked is skipped, an interrupted one resumes
from its latest checkpoint (main.py does that), a finished one is evaluated once on
--num-samples samples. The figures and FIGS_DIR/results.md are then rebuilt from
whatever is on disk, runs not trained yet included as such.
"""
import argparse
import csv
import json
import os
import platform
import shutil
import subprocess
import sys
import time

from binarygan.evaluate import HISTOGRAM_JSON, METRICS_CSV, METRICS_JSON, compare_preactivations
from binarygan.plots import plot_metric_curves, sample_grid_files

ROOT = os.path.dirname(os.path.abspath(__file__))

# (run, experiment, G preset, D preset, objective, optimizer): the paper's settings;
# run names as in the original README's figs/.
GRID = [
    ('mlp_mlp_round', 'I-II', 'mlp_round', 'mlp', 'wgan-gp', 'adam'),
    ('mlp_mlp_bernoulli', 'I-II', 'mlp_bernoulli', 'mlp', 'wgan-gp', 'adam'),
    ('mlp_mlp_real', 'I-II', 'mlp_real', 'mlp', 'wgan-gp', 'adam'),
    ('gan_mlp_mlp_round', 'III', 'mlp_round', 'mlp_bn', 'gan', 'adam'),
    ('gan_mlp_mlp_bernoulli', 'III', 'mlp_bernoulli', 'mlp_bn', 'gan', 'adam'),
    ('wgan_mlp_mlp_round', 'III', 'mlp_round', 'mlp', 'wgan', 'rmsprop'),
    ('wgan_mlp_mlp_bernoulli', 'III', 'mlp_bernoulli', 'mlp', 'wgan', 'rmsprop'),
    ('cnn_cnn_round', 'IV', 'cnn_round', 'cnn', 'wgan-gp', 'adam'),
    ('cnn_cnn_bernoulli', 'IV', 'cnn_bernoulli', 'cnn', 'wgan-gp', 'adam'),
    ('cnn_cnn_real', 'IV', 'cnn_real', 'cnn', 'wgan-gp', 'adam'),
]
RUNS = {run[0]: run for run in GRID}
# Final sample grids copied to FIGS_DIR as <run><suffix>.png (the original README's names).
GRID_FIGURES = {'binary': '', 'preactivated': '_preactivated',
                'raw': '', 'threshold': '_test_round', 'bernoulli': '_test_bernoulli'}
RUN_INFO = 'reproduce.json'
# Runs drawn beside an experiment's own in its FID and class-entropy figure: the
# baseline its claim compares with, the binary-neuron MLP WGAN-GP runs of experiment I
# (for the objectives of III and the CNNs of IV).
MLP_WGAN_GP_RUNS = ['mlp_mlp_round', 'mlp_mlp_bernoulli']
CURVE_BASELINES = {'III': MLP_WGAN_GP_RUNS, 'IV': MLP_WGAN_GP_RUNS}
# Two FIDs are similar within this factor; one beats another only when lower by more
# than this share, so that the noise of a 10,000-sample estimate does not decide a verdict.
SIMILAR_FID_FACTOR = 1.5
FID_MARGIN = 0.05
BETTER_MEANS = f" (better: an FID lower by more than {FID_MARGIN:.0%})"


class GridError(Exception):
    """Stops the grid with a one-line message and an exit status."""

    def __init__(self, message, status):
        super().__init__(message)
        self.status = status


def read_rows(path):
    if not os.path.exists(path):
        return []
    with open(path, newline='') as f:
        return list(csv.DictReader(f))


def read_json(path):
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def machine():
    """The CPU model and core count, and the GPU if nvidia-smi names one."""
    cpu = platform.processor() or platform.machine()
    try:
        with open('/proc/cpuinfo') as f:
            cpu = next(line.split(':', 1)[1].strip() for line in f
                       if line.startswith('model name'))
    except (OSError, StopIteration):
        pass
    description = f"{cpu}, {os.cpu_count()} cores"
    try:
        gpu = subprocess.run(['nvidia-smi', '--query-gpu=name', '--format=csv,noheader'],
                             capture_output=True, text=True, timeout=10).stdout.strip()
        if gpu:
            description += f", {gpu.splitlines()[0]}"
    except (OSError, subprocess.SubprocessError):
        pass
    return description


def train_run(name, exp_root, epochs, overrides):
    """Train (or resume) a run until it has ``epochs`` epochs; False if it diverged."""
    _, _, preset_g, preset_d, gan_type, optimizer = RUNS[name]
    exp_dir = os.path.join(exp_root, name)
    done = len(read_rows(os.path.join(exp_dir, 'logs', 'epoch.csv')))
    if done >= epochs:
        print(f"[{name}] trained for {done} epochs: skipped", flush=True)
        return True
    print(f"[{name}] {'resuming at epoch ' + str(done + 1) if done else 'training'} "
          f"({epochs} epochs)", flush=True)
    command = [sys.executable, os.path.join(ROOT, 'main.py'), f'preset_g={preset_g}',
               f'preset_d={preset_d}', f'gan_type={gan_type}', f'optimizer={optimizer}',
               f'exp.exp_name={name}', f'exp.exp_root={exp_root}',
               f'train.num_epoch={epochs}', 'evaluate_along_training=true', *overrides]
    status = subprocess.run(command).returncode
    if status == 3:  # diverged: the message is printed; the other runs go on
        return False
    if status:
        raise GridError(f"[{name}] main.py stopped with status {status}; run the same "
                        "command again to go on", status)
    info = read_json(os.path.join(exp_dir, RUN_INFO)) or {}
    info.update(machine=machine(), finished=time.strftime('%Y-%m-%d %H:%M:%S'))
    with open(os.path.join(exp_dir, RUN_INFO), 'w') as f:
        json.dump(info, f, indent=2)
    return True


def evaluate_run(name, exp_root, num_samples):
    """Evaluate the run's latest checkpoint unless that is already done."""
    exp_dir = os.path.join(exp_root, name)
    epochs = read_rows(os.path.join(exp_dir, 'logs', 'epoch.csv'))
    metrics = read_json(os.path.join(exp_dir, 'eval', METRICS_JSON))
    if (metrics and epochs and metrics['step'] == int(epochs[-1]['step'])
            and metrics['num_samples'] == num_samples):
        print(f"[{name}] evaluated at step {metrics['step']}: skipped", flush=True)
        return
    print(f"[{name}] evaluating {num_samples} samples", flush=True)
    status = subprocess.run([sys.executable, '-m', 'binarygan.evaluate', exp_dir,
                             '--num-samples', str(num_samples)], cwd=ROOT).returncode
    if status:
        raise GridError(f"[{name}] evaluation stopped with status {status}", status)


# -- report -----------------------------------------------------------------
def run_record(name, exp_root):
    """What is on disk about a run: epochs, wall time, machine, final metrics."""
    exp_dir = os.path.join(exp_root, name)
    epochs = read_rows(os.path.join(exp_dir, 'logs', 'epoch.csv'))
    return {
        'name': name, 'exp_dir': exp_dir,
        'epochs': len(epochs),
        'hours': sum(float(row['seconds']) for row in epochs) / 3600,
        'machine': (read_json(os.path.join(exp_dir, RUN_INFO)) or {}).get('machine', ''),
        'metrics': read_json(os.path.join(exp_dir, 'eval', METRICS_JSON)),
        'along_training': read_rows(os.path.join(exp_dir, 'eval', METRICS_CSV)),
    }


def copy_final_grids(record, figs_dir):
    """The last sample grids of a run into ``figs_dir``; returns the file names."""
    samples = os.path.join(record['exp_dir'], 'samples')
    grids = sample_grid_files(samples)
    if not grids:
        return []
    last = os.path.basename(grids[-1]).rsplit('_', 1)[0]  # 'step_NNNNNN'
    copied = []
    for kind, suffix in GRID_FIGURES.items():
        source = os.path.join(samples, f'{last}_{kind}.png')
        if os.path.exists(source):
            target = f"{record['name']}{suffix}.png"
            shutil.copyfile(source, os.path.join(figs_dir, target))
            copied.append(target)
    return copied


def share(record, key):
    return record['metrics']['preactivated'][key]


def best(record, metric='fid'):
    """The run's best variant by ``metric`` (binary runs have one)."""
    variants = record['metrics']['variants']
    return min(variants.values(), key=lambda values: values[metric])


def clearly_lower(fid, other):
    return fid < (1. - FID_MARGIN) * other


def similar(fid, other):
    return max(fid, other) / min(fid, other) <= SIMILAR_FID_FACTOR


def tally(holds, missing):
    """A claim's verdict from the checks of it that hold; unclear, for want of
    ``missing``, when there are none."""
    if not holds:
        return f'unclear ({missing})'
    return 'agrees' if all(holds) else 'partly agrees' if any(holds) else 'does not agree'


def verdicts(records):
    """The paper's claims with a verdict from the numbers: [(claim, verdict, evidence)]."""
    def have(*names):
        return all(records.get(name) and records[name]['metrics'] for name in names)

    def fid(name, variant=None):
        variants = records[name]['metrics']['variants']
        return variants[variant or next(iter(variants))]['fid']

    claims = []
    pairs = [(f'{prefix}_round', f'{prefix}_bernoulli') for prefix in
             ('mlp_mlp', 'gan_mlp_mlp', 'wgan_mlp_mlp', 'cnn_cnn')]
    present = [pair for pair in pairs if have(*pair)]
    claims.append((
        "DBNs and SBNs reach similar quality.",
        tally([similar(fid(a), fid(b)) for a, b in present], 'no DBN/SBN pair evaluated'),
        '; '.join(f"{a}: FID {fid(a):.2f} vs {b}: {fid(b):.2f}" for a, b in present)
        + (f" (similar: within a factor {SIMILAR_FID_FACTOR})" if present else "")))

    trio = ('mlp_mlp_round', 'mlp_mlp_bernoulli', 'mlp_mlp_real')
    if have(*trio):
        mid = {name: share(records[name], 'share_0.4_to_0.6') for name in trio}
        ends = {name: share(records[name], 'share_below_0.1_or_above_0.9') for name in trio}
        notch = {name: histogram_notch(records[name]) for name in trio}
        dbn, sbn, real = trio
        # The DBNs' notch: a dip at 0.5 at least 5 % deeper than the real-valued model's.
        holds = (mid[dbn] > mid[sbn], notch[dbn] < 0.95 * notch[real], ends[sbn] > ends[dbn],
                 ends[real] > ends[sbn])
        verdict = ('agrees' if all(holds) else 'does not agree' if not any(holds)
                   else f'partly agrees ({sum(holds)} of 4 hold)')
        evidence = ("share in [0.4, 0.6]: " + ', '.join(f"{name} {mid[name]:.1%}" for name in trio)
                    + "; share in [0, 0.1] ∪ [0.9, 1]: "
                    + ', '.join(f"{name} {ends[name]:.1%}" for name in trio)
                    + "; density in (0.46, 0.54) over that in (0.38, 0.46) ∪ (0.54, 0.62): "
                    + ', '.join(f"{name} {notch[name]:.2f}" for name in trio))
    else:
        verdict, evidence = 'unclear (MLP WGAN-GP runs not all evaluated)', ''
    claims.append(("DBN preactivations: a flatter histogram (more values in the middle than "
                   "SBNs) with a notch around 0.5; SBN preactivations: closer to 0 and 1; the "
                   "real-valued model: more U-shaped than SBNs, without a notch.",
                   verdict, evidence))

    comparisons = [(binary, real) for binary, real in
                   (('mlp_mlp_round', 'mlp_mlp_real'), ('mlp_mlp_bernoulli', 'mlp_mlp_real'),
                    ('cnn_cnn_round', 'cnn_cnn_real'), ('cnn_cnn_bernoulli', 'cnn_cnn_real'))
                   if have(binary, real)]
    wins = [clearly_lower(fid(binary), min(fid(real, 'threshold'), fid(real, 'bernoulli')))
            for binary, real in comparisons]
    claims.append((
        "Binary neurons do better than the real-valued model binarized at test time "
        "(threshold or Bernoulli).",
        tally(wins, 'no pair evaluated'),
        '; '.join(f"{binary}: FID {fid(binary):.2f} vs {real} threshold "
                  f"{fid(real, 'threshold'):.2f}, Bernoulli {fid(real, 'bernoulli'):.2f}"
                  for binary, real in comparisons)
        + (BETTER_MEANS if comparisons else "")))

    evidence, holds = [], []
    for neurons in ('round', 'bernoulli'):
        gp, wgan, gan = (f'{prefix}mlp_mlp_{neurons}' for prefix in ('', 'wgan_', 'gan_'))
        if have(gp, wgan, gan):
            gp_m, gan_m = best(records[gp]), best(records[gan])
            holds += [similar(fid(gp), fid(wgan)),
                      gan_m['class_entropy'] < gp_m['class_entropy']
                      and gan_m['min_class_share'] < gp_m['min_class_share']]
            evidence.append(
                f"{neurons}: FID WGAN-GP {fid(gp):.2f}, WGAN {fid(wgan):.2f}, GAN "
                f"{fid(gan):.2f}; class entropy / rarest digit WGAN-GP "
                f"{gp_m['class_entropy']:.3f} / {gp_m['min_class_share']:.3f}, GAN "
                f"{gan_m['class_entropy']:.3f} / {gan_m['min_class_share']:.3f}")
    claims.append((
        "WGAN is close to WGAN-GP, while the GAN objective suffers mode collapse.",
        tally(holds, 'objective runs not all evaluated'),
        '; '.join(evidence)))

    pairs = [(f'mlp_mlp_{n}', f'cnn_cnn_{n}') for n in ('round', 'bernoulli', 'real')
             if have(f'mlp_mlp_{n}', f'cnn_cnn_{n}')]
    wins = [clearly_lower(best(records[cnn])['fid'], best(records[mlp])['fid'])
            for mlp, cnn in pairs]
    claims.append((
        "CNNs beat MLPs, with fewer parameters (0.53M vs 1.47M).",
        tally(wins, 'no MLP/CNN pair evaluated'),
        '; '.join(f"{cnn}: best FID {best(records[cnn])['fid']:.2f} vs {mlp}: "
                  f"{best(records[mlp])['fid']:.2f}" for mlp, cnn in pairs)
        + (BETTER_MEANS if pairs else "")))
    return claims


def histogram_notch(record):
    """Density of the preactivated outputs in (0.46, 0.54) over that in the 0.08 wide
    windows beside it: below 1 where the histogram dips at 0.5 (a U-shape's curvature
    alone also gives a little below 1)."""
    histogram = read_json(os.path.join(record['exp_dir'], 'eval', HISTOGRAM_JSON))
    edges, counts = histogram['bin_edges'], histogram['counts']
    centres = [(a + b) / 2 for a, b in zip(edges, edges[1:])]
    middle = [c for x, c in zip(centres, counts) if 0.46 < x < 0.54]
    beside = [c for x, c in zip(centres, counts) if 0.38 < x < 0.46 or 0.54 < x < 0.62]
    return (sum(middle) / len(middle)) / max(sum(beside) / len(beside), 1e-12)


def results_markdown(records, claims, epochs):
    """figs/results.md: one row per run and variant, then the claims."""
    floor = next((r['metrics']['fid_train_vs_test'] for r in records.values()
                  if r['metrics']), None)
    lines = ["# Results", "",
             f"Paper's grid, {epochs} epochs per run, evaluated on the samples of the "
             "latest checkpoint against the 10,000 binarized MNIST test images with the "
             "project's reference classifier (`python -m binarygan.evaluate`). "
             + (f"Floor: `fid_train_vs_test` = {floor:.3f} (10,000 real training images)."
                if floor is not None else ""), "",
             "| run | exp. | G | D | objective | variant | fid | inception score | class "
             "entropy | min class share | ink density | preact. in [0.4, 0.6] | preact. in "
             "[0, 0.1] ∪ [0.9, 1] | epochs | wall time (h) | machine |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, experiment, preset_g, preset_d, gan_type, _ in GRID:
        record = records[name]
        head = f"| {name} | {experiment} | {preset_g} | {preset_d} | {gan_type} "
        if not record['metrics']:
            lines.append(head + f"| — | not evaluated yet ({record['epochs']} epochs "
                         "trained) |" + " |" * 9)
            continue
        for variant, m in record['metrics']['variants'].items():
            lines.append(
                head + f"| {variant} | {m['fid']:.2f} | {m['inception_score']:.2f} | "
                f"{m['class_entropy']:.3f} | {m['min_class_share']:.3f} | "
                f"{m['ink_density']:.3f} | {share(record, 'share_0.4_to_0.6'):.1%} | "
                f"{share(record, 'share_below_0.1_or_above_0.9'):.1%} | "
                f"{record['epochs']} | {record['hours']:.2f} | {record['machine']} |")
    data_ink = next((r['metrics']['data_ink_density'] for r in records.values()
                     if r['metrics']), None)
    if data_ink is not None:
        lines += ["", f"Ink density of the test images: {data_ink:.3f}."]
    lines += ["", "## The paper's claims", "",
              "| claim | verdict | numbers |", "|---|---|---|"]
    lines += [f"| {claim} | {verdict} | {evidence} |" for claim, verdict, evidence in claims]
    return '\n'.join(lines) + '\n'


def report(exp_root, figs_dir, epochs):
    """Rebuild the figures and results.md from what is on disk."""
    os.makedirs(figs_dir, exist_ok=True)
    records = {name: run_record(name, exp_root) for name in RUNS}
    made = []
    for record in records.values():
        if record['metrics']:  # finished and evaluated: its last grids are final
            made += copy_final_grids(record, figs_dir)
    train_grid = next((os.path.join(r['exp_dir'], 'samples', 'x_train.png')
                       for r in records.values()
                       if os.path.exists(os.path.join(r['exp_dir'], 'samples', 'x_train.png'))),
                      None)
    if train_grid:
        shutil.copyfile(train_grid, os.path.join(figs_dir, 'train.png'))
        made.append('train.png')
    for arch in ('mlp', 'cnn'):
        trio = [records[f'{arch}_{arch}_{n}'] for n in ('round', 'bernoulli', 'real')]
        evaluated = [r['exp_dir'] for r in trio if r['metrics']]
        if len(evaluated) > 1:
            compare_preactivations(evaluated, os.path.join(
                figs_dir, f'{arch}_preactivation_histograms.png'))
            made.append(f'{arch}_preactivation_histograms.png')
    for experiment in dict.fromkeys(run[1] for run in GRID):
        own = [run[0] for run in GRID if run[1] == experiment]
        if not any(records[name]['along_training'] for name in own):
            continue
        curves = {}
        for name in CURVE_BASELINES.get(experiment, []) + own:
            for variant in dict.fromkeys(r['variant'] for r in records[name]['along_training']):
                rows = [r for r in records[name]['along_training'] if r['variant'] == variant]
                label = name if variant == 'binary' else f'{name} ({variant})'
                curves[label] = rows
        plot_metric_curves(curves, os.path.join(figs_dir, f'metrics_exp_{experiment}.png'))
        made.append(f'metrics_exp_{experiment}.png')
    with open(os.path.join(figs_dir, 'results.md'), 'w') as f:
        f.write(results_markdown(records, verdicts(records), epochs))
    made.append('results.md')
    print(f"Report: {len(made)} files in {figs_dir}: {', '.join(made)}")
    return records


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--runs', help="comma-separated runs (default: all): " +
                        ', '.join(RUNS))
    parser.add_argument('--epochs', type=int, default=20)
    parser.add_argument('--num-samples', type=int, default=10000,
                        help="samples per final evaluation")
    parser.add_argument('--exp-root', default=os.path.join('exp', 'reproduction'))
    parser.add_argument('--figs-dir', default='figs')
    parser.add_argument('--report-only', action='store_true',
                        help="only rebuild the figures and results.md from disk")
    parser.add_argument('overrides', nargs='*', help="key=value for every run's main.py")
    args = parser.parse_args(argv)
    names = args.runs.split(',') if args.runs else list(RUNS)
    unknown = [name for name in names if name not in RUNS]
    if unknown:
        print(f"error: unknown run {unknown[0]!r}; valid: {', '.join(RUNS)}", file=sys.stderr)
        return 2
    if args.epochs < 1 or args.num_samples < 2:
        print("error: --epochs must be at least 1 and --num-samples at least 2",
              file=sys.stderr)
        return 2
    exp_root = os.path.abspath(args.exp_root)
    try:
        if not args.report_only:
            for number, name in enumerate(names, 1):
                print(f"== run {number}/{len(names)}: {name}", flush=True)
                if train_run(name, exp_root, args.epochs, args.overrides):
                    evaluate_run(name, exp_root, args.num_samples)
    except GridError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.status
    except KeyboardInterrupt:
        return 130
    report(exp_root, args.figs_dir, args.epochs)
    return 0


if __name__ == '__main__':
    sys.exit(main())
