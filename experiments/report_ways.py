"""The report's sections on the ways to train a generator with binary outputs: the ways
row of the paper's MLP (group ways) and issue 39's fair race."""
import os

from binarygan.plots import plot_metric_curves
from experiments.grid import PAPER_WAYS, WAY_RUNS, WAYS
from experiments.publish import figure_path, number


def minutes_per_epoch(record):
    """A run's training minutes per epoch, from its steps where it has a part of an epoch
    more (train.max_steps); None before its first whole epoch."""
    if record.get('partial_epoch'):
        epochs = record['steps'] / record['steps_per_epoch'] if record['steps_per_epoch'] else 0
    else:
        epochs = record['epochs']
    return record['hours'] * 60 / epochs if epochs else None


def way_records(records):
    """[(run, way, record or None)] of the ways comparison: the paper's, then the others."""
    return ([(name, way, records.get(folder, {}).get(name)) for folder, name, way in PAPER_WAYS]
            + [(name, way, records.get('ways', {}).get(name)) for name, way, *_ in WAYS])


def ways_section(records):
    lines = ["## Ways to train a generator with binary outputs (MLP, seed 0)", "",
             "The MLP generator with stochastic binary neurons (DBNs in the first row), the "
             "MLP critic, 20 epochs, protocol `paper`, trained by each way; WGAN-GP but for "
             "BGAN. REINFORCE and BGAN keep the slope at 1; BGAN trains as its authors' "
             "code does (20 samples per latent, Adam β2 0.999, one discriminator step per "
             "generator step). Gumbel-sigmoid's critic sees relaxed samples: it is "
             "binarized at test time, like the real-valued model. Built by `python "
             "reproduce.py --group ways`; the figure `ways/metrics_ways.png` shows FID and "
             "class entropy along training.", "",
             "| way | run | objective | variant | FID | inception score | class entropy | "
             "rarest digit | isolated on-pixels / image | components / image | "
             "min / epoch | machine |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, way, record in way_records(records):
        if record is None:
            lines.append(f"| {way} | {name} | not run yet |" + " |" * 9)
            continue
        marker = ' †' if record.get('note') else ''
        objective = record.get('gan_type', 'wgan-gp')
        minutes = minutes_per_epoch(record)
        for variant, m in record['metrics']['variants'].items():
            lines.append(
                f"| {way} | {name}{marker} | {objective} | {variant} | {m['fid']:.2f} | "
                f"{m['inception_score']:.2f} | {m['class_entropy']:.3f} | "
                f"{m['min_class_share']:.3f} | {number(m.get('isolated_pixels'))} | "
                f"{number(m.get('components'))} | {number(minutes, '.1f')} | "
                f"{record['machine']} |")
    return lines


def ways_figures(records, figs_dir):
    """ways/metrics_ways.png: FID and class entropy along training of every way; the
    paths made."""
    curves = {}
    for name, _, record in way_records(records):
        rows = (record or {}).get('along_training', [])
        for variant in dict.fromkeys(row['variant'] for row in rows):
            label = name if variant == 'binary' else f'{name} ({variant})'
            curves[label] = [row for row in rows if row['variant'] == variant]
    if not any(record for run, _, record in way_records(records) if run in WAY_RUNS):
        return []
    path = os.path.join('ways', 'metrics_ways.png')
    plot_metric_curves(curves, figure_path(figs_dir, path))
    return [path]
