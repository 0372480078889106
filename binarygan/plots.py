"""Pictures: loss curves, the sample grids as an animation, metrics over training and
preactivation histograms (the paper's Fig. 4).

Drawn on matplotlib Figure objects, without pyplot: no display or global state needed.
"""
import csv
import glob
import os
import re

import imageio.v2 as imageio
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

FRAME_MS, LAST_FRAME_MS = 200, 2000


def _moving_average(values, window):
    return np.convolve(values, np.ones(window) / window, mode='valid')


def plot_losses(batch_csv, path):
    """A PNG of the critic and generator losses per generator step, raw and
    smoothed, from the batch log; returns ``path``, or None for an empty log."""
    with open(batch_csv, newline='') as f:
        rows = list(csv.DictReader(f))
    if not rows:
        return None
    steps = np.array([int(row['step']) for row in rows])
    window = max(1, len(rows) // 50)
    figure = Figure(figsize=(8, 6), layout='constrained')
    axes = figure.subplots(2, 1, sharex=True)
    for ax, key, label in zip(axes, ('d_loss', 'g_loss'), ('critic loss', 'generator loss')):
        values = np.array([float(row[key]) for row in rows])
        ax.plot(steps, values, linewidth=0.5, alpha=0.4, label='every step')
        ax.plot(steps[window - 1:], _moving_average(values, window), linewidth=1.5,
                label=f'mean of {window}')
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend(loc='upper right')
    axes[-1].set_xlabel('generator step')
    figure.savefig(path, dpi=100)
    return path


def sample_grid_files(sample_dir):
    """The fixed-noise sample grids in step order: the binary ones, or the raw
    outputs of a real-valued generator."""
    for kind in ('binary', 'raw'):
        paths = glob.glob(os.path.join(sample_dir, f'step_*_{kind}.png'))
        if paths:
            return sorted(paths, key=lambda p: int(re.search(r'step_(\d+)_', p).group(1)))
    return []


def animate_samples(sample_dir, path):
    """An animated GIF of the sample grids over training (the last frame held
    longer); returns ``path``, or None without sample grids."""
    paths = sample_grid_files(sample_dir)
    if not paths:
        return None
    frames = [imageio.imread(p) for p in paths]
    # Repeated frames are merged into one longer frame by the GIF writer.
    frames += [frames[-1]] * (LAST_FRAME_MS // FRAME_MS - 1)
    imageio.mimsave(path, frames, duration=FRAME_MS, loop=0)
    return path


def plot_training_metrics(csv_path, png_path):
    """FID and class entropy against the epoch, a line per variant, from eval/metrics.csv."""
    with open(csv_path, newline='') as f:
        rows = list(csv.DictReader(f))
    plot_metric_curves({variant: [row for row in rows if row['variant'] == variant]
                        for variant in dict.fromkeys(row['variant'] for row in rows)},
                       png_path)


def line_styles(count):
    """``count`` distinct (colour, line style) pairs: matplotlib's 10 colours, then
    again dashed, then dotted."""
    colours = [f'C{i}' for i in range(10)]
    return [(colours[i % 10], ('-', '--', ':', '-.')[i // 10 % 4]) for i in range(count)]


def plot_metric_curves(curves, png_path):
    """FID and class entropy against the epoch, a line per ``{label: metrics.csv rows}``,
    each line its own colour and style, the legend beside the axes."""
    figure = Figure(figsize=(10 + 2.5 * (len(curves) > 6), 4), layout='constrained')
    fid_axes, entropy_axes = figure.subplots(1, 2)
    for (label, rows), (colour, style) in zip(curves.items(), line_styles(len(curves))):
        epochs = [int(row['epoch']) for row in rows]
        for axes, key in ((fid_axes, 'fid'), (entropy_axes, 'class_entropy')):
            axes.plot(epochs, [float(row[key]) for row in rows], marker='o', markersize=3,
                      color=colour, linestyle=style, label=label)
    fid_axes.set(xlabel='epoch', ylabel='FID (classifier features)', yscale='log')
    entropy_axes.set(xlabel='epoch', ylabel='class entropy / log 10', ylim=(0, 1.02))
    for axes in (fid_axes, entropy_axes):
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    entropy_axes.legend(fontsize='small', loc='upper left', bbox_to_anchor=(1.02, 1))
    figure.savefig(png_path, dpi=100)


def plot_fid_against_minutes(bands, png_path):
    """FID along training against training minutes, a line per ``{label: (minutes, mean
    FIDs, lowest, highest)}``, shaded between the lowest and highest; the equal-time view."""
    figure = Figure(figsize=(10, 5), layout='constrained')
    axes = figure.subplots()
    for (label, (minutes, mean, low, high)), (colour, style) in zip(
            bands.items(), line_styles(len(bands))):
        axes.plot(minutes, mean, color=colour, linestyle=style, marker='.', label=label)
        axes.fill_between(minutes, low, high, color=colour, alpha=0.15, linewidth=0)
    axes.set(xlabel="training minutes (one thread, at each run's fastest epoch's pace)",
             ylabel='FID (classifier features)', yscale='log')
    axes.grid(alpha=0.3)
    axes.legend(fontsize='small', loc='upper left', bbox_to_anchor=(1.02, 1), ncol=1)
    figure.savefig(png_path, dpi=100)


def plot_preactivation_histograms(histograms, png_path):
    """Overlaid histograms ``{label: metrics.preactivation_histogram(...)}``, as shares of
    all values per bin on a log scale, where a notch and a U-shape are both visible."""
    figure = Figure(figsize=(6, 4))
    axes = figure.subplots()
    for label, histogram in histograms.items():
        counts = np.asarray(histogram['counts'], np.float64)
        axes.stairs(counts / counts.sum(), histogram['bin_edges'], label=label, linewidth=1.5)
    axes.set(xlabel='preactivated output', ylabel='share of values', yscale='log', xlim=(0, 1))
    axes.legend(fontsize='small')
    figure.tight_layout()
    figure.savefig(png_path, dpi=100)
