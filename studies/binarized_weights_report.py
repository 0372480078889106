"""The binarized-weights study's report, from its records alone: results.md (a row per
configuration beside the accuracies reported for it) and training_curves.png."""
import os

import numpy as np

from experiments import records as run_records
from experiments.publish import publish
from experiments.records import RECORDS
from experiments.statistics import shown
from studies.binarized_weights_network import CONFIGS

# Questions answered by comparing configurations over the epochs all their runs have, each
# against a reference configuration: (title, reference, what the reference is, the
# configurations, a last sentence).
COMPARISONS = (
    ("The baseline's gap, one trait of the seed's code at a time", 'seed_baseline_dropout',
     "the seed's words",
     ('seed_baseline_dropout', 'seed_baseline_as_it_ran', 'seed_baseline_seed_dropout',
      'seed_baseline_frozen_output', 'seed_baseline_file_order'),
     "The seed reports 96.87 % after 200 epochs."),
    ("Stochastic binarization's deficit against the step", 'seed_binary_deterministic',
     "the seed's binarized MLP",
     ('seed_binary_deterministic', 'seed_binary_stochastic',
      'seed_binary_deterministic_step_x10', 'seed_binary_stochastic_step_x10'),
     "Stochastic runs: sign(W) at test."),
)

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
    for comparison in COMPARISONS:
        lines += comparison_section(records, *comparison)
    lines += ["", "Configurations:", ""]
    lines += [f"- `{name}`: {config['description']}." for name, config in CONFIGS.items()]
    return '\n'.join(lines) + '\n'


def comparison_section(records, title, reference, what, names, last_sentence):
    """``names`` over the epochs all their runs have (the shortest run's): each one's test
    accuracy at its first epoch of best validation accuracy within them, against
    ``reference``'s over the same epochs; nothing until the reference and another have run."""
    runs = {name: records[name] for name in names if name in records}
    if reference not in runs or len(runs) < 2:
        return []
    horizon = min(len(run['rows']) for found in runs.values() for run in found)

    chosen = {name: [selected_test_accuracy(run['rows'][:horizon]) for run in found]
              for name, found in runs.items()}
    reference_accuracy = np.mean([100 * accuracy for _, accuracy in chosen[reference]])
    lines = ["", f"## {title}", "",
             f"Each configuration over its first {horizon} epochs (the shortest run's): test "
             "accuracy at the first epoch of best validation accuracy within them, and its "
             f"difference from `{reference}` ({what}) over the same epochs. {last_sentence}",
             "",
             f"| configuration | test accuracy % (epochs 1–{horizon}) | best epoch | "
             f"against `{reference}` (points) | validation accuracy % at epoch {horizon} |",
             "|---|---|---|---|---|"]
    for name, found in runs.items():
        values = [100 * accuracy for _, accuracy in chosen[name]]
        validation = [100 * run['rows'][horizon - 1]['val_accuracy'] for run in found]
        lines.append(f"| {name} | {shown(values)} | "
                     f"{', '.join(str(epoch) for epoch, _ in chosen[name])} | "
                     f"{np.mean(values) - reference_accuracy:+.2f} | {shown(validation)} |")
    return lines


def plot_training_curves(records, path):
    """Training loss and test accuracy (sign W) per epoch, a line per run."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator
    import matplotlib
    figure = Figure(figsize=(14, 4.5))
    loss_axes, accuracy_axes = figure.subplots(1, 2)
    runs = [(name, run) for name, name_runs in records.items() for run in name_runs]
    # A colour of its own for each run, beyond the default cycle's ten.
    colours = matplotlib.colormaps['tab10' if len(runs) <= 10 else 'tab20'].colors
    for (name, run), colour in zip(runs, colours * len(runs)):
        label = name if len(records[name]) == 1 else f"{name} (seed {run['seed']})"
        epochs = [row['epoch'] for row in run['rows']]
        loss_axes.plot(epochs, [row['train_loss'] for row in run['rows']], label=label,
                       color=colour)
        accuracy_axes.plot(epochs, [100 * row['test_accuracy'] for row in run['rows']],
                           label=label, color=colour)
    loss_axes.set(title='training loss (BinaryConnect: squared hinge)', xlabel='epoch',
                  yscale='log')
    # From 80 %: the final accuracies, 89 to 99 %, apart (the first epochs run lower).
    accuracy_axes.set(title='test accuracy (%), sign(W) at test', xlabel='epoch',
                      ylim=(80, 100))
    for axes in (loss_axes, accuracy_axes):
        axes.grid(alpha=0.3)
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    accuracy_axes.legend(fontsize='small', loc='upper left', bbox_to_anchor=(1.02, 1))
    figure.tight_layout()
    figure.savefig(path, dpi=100)

