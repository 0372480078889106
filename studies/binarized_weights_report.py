"""The binarized-weights study's report, from its records alone: results.md (a row per
configuration beside the accuracies reported for it) and training_curves.png."""
import os

import numpy as np

from experiments import records as run_records
from experiments.publish import publish
from experiments.records import RECORDS
from experiments.statistics import shown
from studies.binarized_weights_network import CONFIGS

# This study's reading of the seed's baseline (its words), which the seed's traits
# (seed_baseline_* configurations) are compared with.
REFERENCE_BASELINE = 'seed_baseline_dropout'

# Test accuracies reported for a configuration: (accuracy, source).
REPORTED = {
    'seed_baseline_dropout': (0.9687, "seed 004, 200 epochs"),
    'seed_baseline_as_it_ran': (0.9687, "seed 004, 200 epochs"),
    'seed_binary_deterministic': (0.9372, "seed 004, 200 epochs"),
    'binaryconnect_deterministic': (1 - 0.0129, "BinaryConnect's paper, another setting: "
                                                "3 x 1024 units, 1000 epochs"),
    'binaryconnect_stochastic': (1 - 0.0115, "BinaryConnect's README, 250 epochs, real "
                                             "weights at test"),
}


def load_records(study_dir):
    """{config: [records by seed]} under STUDY_DIR/runs."""
    found = run_records.load(os.path.join(study_dir, RECORDS))
    return {name: list(found[name].values()) for name in CONFIGS if name in found}


def report(study_dir):
    """results.md and training_curves.png in ``study_dir`` from its records; False, with
    nothing written, when there is none."""
    records = load_records(study_dir)
    figures = {'training_curves.png': lambda path: plot_training_curves(records, path)}
    if records:
        publish(study_dir, results_markdown(records), figures)
    return bool(records)


def selected_test_accuracy(rows, suffix=''):
    """(epoch, test accuracy) at the first epoch of best validation accuracy, as the seed
    and BinaryConnect report it; ``suffix`` '_real_weights' for the real-valued rule."""
    best = max(rows, key=lambda row: row['val_accuracy' + suffix])
    return int(best['epoch']), best['test_accuracy' + suffix]


def megabits(bits):
    return f"{bits / 1e6:.2f} Mbit"


def results_markdown(records):
    lines = [
        "# Binarized weights (seed 004's experiment 1)", "",
        "An MLP 784-2048-2048-2048-10 (ReLU) on MNIST: 50,000 training images, the last "
        "10,000 of MNIST's training file for validation, the 10,000 test images. Test "
        "accuracy at the first epoch of best validation accuracy (the seed's and "
        "BinaryConnect's rule), with the binarized weights sign(W) at test; stochastic "
        "runs also with the real-valued weights W (BinaryConnect's test rule for them). "
        "Model size: 1 bit per binarized weight, 32 bits per other number (biases, batch "
        "normalization). See docs/binarized_weights.md. Built by `python -m "
        "studies.binarized_weights --report-only` from the records in `runs/`.", "",
        "| configuration | epochs | test accuracy % (sign W) | best epoch | with real "
        "weights W % | last epoch % (sign W) | reported % | model size | smaller than at 32 "
        "bits | s / epoch | machine |",
        "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, config in CONFIGS.items():
        runs = records.get(name)
        reported = (f"{100 * REPORTED[name][0]:.2f} ({REPORTED[name][1]})"
                    if name in REPORTED else "—")
        if not runs:
            lines.append(f"| {name} | not run yet | | | | | {reported} | | | | |")
            continue
        chosen = [selected_test_accuracy(run['rows']) for run in runs]
        real = (shown([100 * selected_test_accuracy(run['rows'], '_real_weights')[1]
                       for run in runs])
                if config['binarization'] == 'stochastic' else "—")
        last = shown([100 * run['rows'][-1]['test_accuracy'] for run in runs])
        seconds = shown([float(np.mean([row['seconds'] for row in run['rows']]))
                         for run in runs], 1)
        run = runs[0]
        smaller = (f"{run['full_precision_bits'] / run['size_bits']:.1f}×"
                   if config['binarization'] else "—")
        lines.append(
            f"| {name} | {', '.join(str(run['epochs']) for run in runs)} | "
            f"{shown([100 * accuracy for _, accuracy in chosen])} | "
            f"{', '.join(str(epoch) for epoch, _ in chosen)} | {real} | {last} | {reported} | "
            f"{megabits(run['size_bits'])} | {smaller} | {seconds} | {run['machine']}, "
            f"threads: {run['intra_op_threads']} |")
    lines += baseline_gap_section(records)
    lines += ["", "Configurations:", ""]
    lines += [f"- `{name}`: {config['description']}." for name, config in CONFIGS.items()]
    return '\n'.join(lines) + '\n'


def baseline_gap_section(records):
    """The seed's baseline, one trait of its code at a time: every baseline configuration
    over the epochs all of them have, against this study's reading of the seed's words
    (REFERENCE_BASELINE) over the same epochs; nothing until a trait has run."""
    runs = {name: records[name] for name in CONFIGS
            if name.startswith('seed_baseline') and name in records}
    if REFERENCE_BASELINE not in runs or len(runs) < 2:
        return []
    horizon = min(len(run['rows']) for found in runs.values() for run in found)

    chosen = {name: [selected_test_accuracy(run['rows'][:horizon]) for run in found]
              for name, found in runs.items()}
    reference = np.mean([100 * accuracy for _, accuracy in chosen[REFERENCE_BASELINE]])
    lines = ["", "## The baseline's gap, one trait of the seed's code at a time", "",
             f"Every baseline configuration over its first {horizon} epochs (the shortest "
             "run's): test accuracy at the first epoch of best validation accuracy within "
             f"them, and its difference from `{REFERENCE_BASELINE}` (the seed's words) over "
             "the same epochs. The seed reports 96.87 % after 200 epochs.", "",
             f"| configuration | test accuracy % (epochs 1–{horizon}) | best epoch | "
             f"against `{REFERENCE_BASELINE}` (points) | validation accuracy % at epoch "
             f"{horizon} |", "|---|---|---|---|---|"]
    for name, found in runs.items():
        values = [100 * accuracy for _, accuracy in chosen[name]]
        validation = [100 * run['rows'][horizon - 1]['val_accuracy'] for run in found]
        lines.append(f"| {name} | {shown(values)} | "
                     f"{', '.join(str(epoch) for epoch, _ in chosen[name])} | "
                     f"{np.mean(values) - reference:+.2f} | {shown(validation)} |")
    return lines


def plot_training_curves(records, path):
    """Training loss and test accuracy (sign W) per epoch, a line per run."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator
    figure = Figure(figsize=(11, 4))
    loss_axes, accuracy_axes = figure.subplots(1, 2)
    for name, runs in records.items():
        for run in runs:
            label = name if len(runs) == 1 else f"{name} (seed {run['seed']})"
            epochs = [row['epoch'] for row in run['rows']]
            loss_axes.plot(epochs, [row['train_loss'] for row in run['rows']], label=label)
            accuracy_axes.plot(epochs, [100 * row['test_accuracy'] for row in run['rows']],
                               label=label)
    loss_axes.set(title='training loss (BinaryConnect: squared hinge)', xlabel='epoch',
                  yscale='log')
    accuracy_axes.set(title='test accuracy (%), sign(W) at test', xlabel='epoch')
    for axes in (loss_axes, accuracy_axes):
        axes.grid(alpha=0.3)
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    accuracy_axes.legend(fontsize='small')
    figure.tight_layout()
    figure.savefig(path, dpi=100)

