"""The binary-activations study's report, from its records alone: results.md (the seed's
table beside each variant's runs, and which layers trained), test_accuracy.png and
accuracy_vs_seed.png."""
import os
import statistics

from experiments import records as run_records
from experiments.publish import publish
from experiments.records import RECORDS
from experiments.statistics import mean_and_spread, shown
from studies.binary_activations_network import LAYERS
from studies.binary_activations_table import EPOCHS, ROWS, SOURCE, VARIANTS

def load_records(study_dir):
    """{(variant, row): [records, by seed]} of the records under STUDY_DIR/runs."""
    grouped = {}
    for runs in run_records.load(os.path.join(study_dir, RECORDS)).values():
        for record in runs.values():
            grouped.setdefault((record['variant'], record['row']), []).append(record)
    return grouped


def report(study_dir):
    """results.md and the figures in ``study_dir`` from its records alone; False, with
    nothing written, when there is none."""
    records = load_records(study_dir)
    figures = {'test_accuracy.png': lambda path: plot_test_accuracy(records, path),
               'accuracy_vs_seed.png': lambda path: plot_accuracy_vs_seed(records, path)}
    if records:
        publish(study_dir, results_markdown(records), figures)
    return bool(records)


def numbers_table(records, loss_key, accuracy_key):
    lines = ["| row | the seed's label | the seed's loss | the seed's accuracy | "
             + " | ".join(f"`{variant}` loss | `{variant}` accuracy" for variant in VARIANTS)
             + " | Δ accuracy, `seed` − the seed's (points) |",
             "|---|---|---|---|" + "---|---|" * len(VARIANTS) + "---|"]
    for row in ROWS:
        cells = []
        for variant in VARIANTS:
            runs = records.get((variant, row.name))
            if not VARIANTS[variant].applies(row):
                cells.append("n/a | n/a")
            elif not runs:
                cells.append("not run | not run")
            else:
                cells.append(f"{shown([r[loss_key] for r in runs], 4)} | "
                             f"{shown([r[accuracy_key] for r in runs], 2)}")
        ours = records.get(('seed', row.name))
        difference = '—'
        if ours:
            change = statistics.mean(r[accuracy_key] for r in ours) - row.seed_accuracy
            difference = f"{change:+.2f}" + (" (within a point)" if abs(change) <= 1. else "")
        lines.append(f"| `{row.name}` | {row.label} | {row.seed_loss} | {row.seed_accuracy:.2f} | "
                     + " | ".join(cells) + f" | {difference} |")
    return lines


def moved_table(records):
    """Which layers training moved from their initialization, per run kind."""
    lines = ["| variant | row | layers left exactly at initialization | largest weight change "
             "per layer (" + ", ".join(LAYERS) + ") |", "|---|---|---|---|"]
    for variant in VARIANTS:
        for row in ROWS:
            runs = records.get((variant, row.name))
            if not runs:
                continue
            frozen = [name for name in LAYERS if all(r['weights_moved'][name] == 0. for r in runs)]
            largest = ', '.join(f"{max(r['weights_moved'][name] for r in runs):.3g}"
                                for name in LAYERS)
            lines.append(f"| {variant} | `{row.name}` | {', '.join(frozen) or 'none'} | "
                         f"{largest} |")
    return lines


def results_markdown(records):
    every = [r for runs in records.values() for r in runs]
    machines = sorted({r['machine'] for r in every})
    minutes = [r['minutes'] / len(r['epochs']) for r in every if r['epochs']]
    lines = [
        "# Binary activations in a classifier (seed 002)", "",
        f"The seed's table, from {SOURCE}, beside this project's TensorFlow runs of the "
        "same network and training: conv 5×5 (16) + batch normalization + max pooling → "
        "activation → conv 5×5 (32) + batch normalization + max pooling → activation → "
        "dense (10); SGD, learning rate 0.1, momentum 0.9, batch 64, "
        f"{EPOCHS} epochs on a random 90% of the 60,000 training images; the activation is "
        "the hard sigmoid (hardtanh(slope·x) + 1) / 2 or binary neurons drawing from it. "
        "Test numbers on the 10,000 test images, the seed's way: the epoch of lowest loss "
        "on the 6,000 held-out training images. Mean ± standard deviation (number of "
        "seeds) where there are several. Built by `python -m studies.binary_activations "
        "--report-only` from the records in `runs/`; see docs/binary_activations.md.", "",
        "Variants: " + '; '.join(f"**{name}**: {variant.description}"
                                 for name, variant in VARIANTS.items())
        + ". n/a: the variant does not apply to the row (deterministic neurons have no "
        "distribution for REINFORCE to score; annealing is a straight-through trick).", "",
        "## Test loss and accuracy (%), the seed's way", ""]
    lines += numbers_table(records, 'test_loss', 'test_accuracy')
    lines += ["", "## After the last epoch", ""]
    lines += numbers_table(records, 'last_test_loss', 'last_test_accuracy')
    lines += ["", "## What trained", "",
              "Layers whose weights did not change at all, in every seed's run: the seed's "
              "\"REINFORCE\" leaves the layers before its binary activations at their "
              "initialization.", ""]
    lines += moved_table(records)
    if minutes:
        lines += ["", f"{len(every)} runs; {statistics.mean(minutes):.2f} min per epoch on "
                  f"average on {'; '.join(machines)}."]
    return '\n'.join(lines) + '\n'


def plot_test_accuracy(records, path):
    """Test accuracy along training, a panel per variant and a line per row (mean over
    seeds)."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator
    figure = Figure(figsize=(6 * len(VARIANTS), 5))
    for axes, variant in zip(figure.subplots(1, len(VARIANTS), sharey=True), VARIANTS):
        for row in ROWS:
            runs = records.get((variant, row.name))
            if runs:
                length = min(len(r['epochs']) for r in runs)
                axes.plot(range(1, length + 1),
                          [statistics.mean(r['epochs'][i]['test_accuracy'] for r in runs)
                           for i in range(length)], marker='.', label=row.name)
        axes.set(title=variant, xlabel='epoch', ylabel='test accuracy (%)')
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.grid(alpha=0.3)
        if axes.lines:
            axes.legend(fontsize='x-small')
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def plot_accuracy_vs_seed(records, path):
    """Each row's test accuracy in each variant beside the seed's."""
    from matplotlib.figure import Figure
    figure = Figure(figsize=(9, 6))
    axes = figure.subplots()
    positions = range(len(ROWS))
    axes.scatter([row.seed_accuracy for row in ROWS], positions, marker='x', color='black',
                 label="the seed's table", zorder=3)
    for variant in VARIANTS:
        found = [(i, [r['test_accuracy'] for r in records[(variant, row.name)]])
                 for i, row in enumerate(ROWS) if records.get((variant, row.name))]
        if found:
            axes.errorbar([mean_and_spread(v)[0] for _, v in found], [i for i, _ in found],
                          xerr=[mean_and_spread(v)[1] for _, v in found], fmt='o',
                          label=variant, alpha=0.8)
    axes.set_yticks(list(positions), [row.name for row in ROWS], fontsize='small')
    axes.invert_yaxis()
    axes.set(xlabel='test accuracy (%)')
    axes.grid(alpha=0.3)
    axes.legend(fontsize='small')
    figure.tight_layout()
    figure.savefig(path, dpi=100)

