"""Evaluation figures: metrics over training and preactivation histograms (the paper's Fig. 4).

Drawn on matplotlib Figure objects, without pyplot: no display or global state needed.
"""
import csv

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator


def plot_training_metrics(csv_path, png_path):
    """FID and class entropy against the epoch, a line per variant, from eval/metrics.csv."""
    with open(csv_path, newline='') as f:
        rows = list(csv.DictReader(f))
    figure = Figure(figsize=(9, 3.5))
    fid_axes, entropy_axes = figure.subplots(1, 2)
    for variant in dict.fromkeys(row['variant'] for row in rows):
        own = [row for row in rows if row['variant'] == variant]
        epochs = [int(row['epoch']) for row in own]
        fid_axes.plot(epochs, [float(row['fid']) for row in own], marker='o', label=variant)
        entropy_axes.plot(epochs, [float(row['class_entropy']) for row in own], marker='o',
                          label=variant)
    fid_axes.set(xlabel='epoch', ylabel='FID (classifier features)', yscale='log')
    entropy_axes.set(xlabel='epoch', ylabel='class entropy / log 10', ylim=(0, 1.02))
    for axes in (fid_axes, entropy_axes):
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    fid_axes.legend()
    figure.tight_layout()
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
