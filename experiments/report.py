"""The GAN grid's report, built from the records alone: figs/results.md (both protocols,
the ablation, the seeds, the ways, the paper's claims with their verdicts) and its
figures. A new section is a function that returns its lines, added to
``results_markdown``."""
import os
import statistics

from binarygan.configure import PROTOCOLS
from binarygan.logs import replacing
from binarygan.metrics import notch_ratio
from binarygan.plots import plot_metric_curves, plot_preactivation_histograms
from experiments import records as run_records
from experiments.claims import best, verdicts, with_seeds
from experiments.grid import ABLATION_CELLS, ABLATION_RUNS, GRID, GROUPS, RUNS, SEED_RUNS
from experiments.records import RECORDS
from experiments.report_race import (cause_section, cnn_race_section, mlp_race_section,
                                     race_figures, seed003_section, sweep_section)
from experiments.report_readme import readme_tables
from experiments.publish import figure_path, number
from experiments.report_ways import ways_figures, ways_section
from experiments.statistics import shown

# Runs drawn beside an experiment's own in its FID and class-entropy figure: the
# binary-neuron MLP WGAN-GP runs of experiment I (for the objectives of III and the CNNs
# of IV).
MLP_WGAN_GP_RUNS = ['mlp_mlp_round', 'mlp_mlp_bernoulli']
CURVE_BASELINES = {'III': MLP_WGAN_GP_RUNS, 'IV': MLP_WGAN_GP_RUNS}


def run_rows(runs):
    """Rows of the run table of one folder: a row per run and variant."""
    lines = []
    for name, experiment, preset_g, preset_d, gan_type, _ in GRID:
        record = runs.get(name)
        if record is None:
            continue
        marker = ' †' if record.get('note') else ''
        head = f"| {name}{marker} | {experiment} | {preset_g} | {preset_d} | {gan_type} "
        preactivated = record['metrics']['preactivated']
        notch = record['histogram'] and notch_ratio(record['histogram'])
        for variant, m in record['metrics']['variants'].items():
            lines.append(
                head + f"| {variant} | {m['fid']:.2f} | {m['inception_score']:.2f} | "
                f"{m['class_entropy']:.3f} | {m['min_class_share']:.3f} | "
                f"{m['ink_density']:.3f} | {number(m.get('isolated_pixels'))} | "
                f"{number(m.get('components'))} | {preactivated['share_0.4_to_0.6']:.1%} | "
                f"{preactivated['share_below_0.1_or_above_0.9']:.1%} | {number(notch, '.2f')} | "
                f"{record['epochs']} | {record['hours']:.2f} | {record['seed']} | "
                f"{record['machine']} |")
    return lines


RUN_TABLE_HEAD = [
    "| run | exp. | G | D | objective | variant | FID | inception score | class entropy | "
    "rarest digit | ink | isolated on-pixels / image | components / image | preact. in "
    "[0.4, 0.6] | preact. in [0, 0.1] ∪ [0.9, 1] | notch at 0.5 | epochs | wall time (h) | "
    "seed | machine |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]


def headline_rows(records):
    """Both protocols side by side: FID, class entropy and isolated on-pixels per run and
    variant (seed 0)."""
    protocols = list(PROTOCOLS)
    lines = ["| run | variant | " + " | ".join(
        f"FID `{p}` | class entropy `{p}` | isolated / image `{p}`" for p in protocols) + " |",
        "|---|---|" + "---|---|---|" * len(protocols)]
    for name in RUNS:
        found = [records.get(protocol, {}).get(name) for protocol in protocols]
        variants = next((r['metrics']['variants'] for r in found if r), None)
        for variant in variants or []:
            cells = []
            for record in found:
                m = record and record['metrics']['variants'].get(variant)
                cells.append("— | — | —" if not m else
                             f"{m['fid']:.2f} | {m['class_entropy']:.3f} | "
                             f"{number(m.get('isolated_pixels'), '.2f')}")
            lines.append(f"| {name} | {variant} | " + " | ".join(cells) + " |")
    return lines


def ablation_section(records):
    lines = ["## Ablation: batch normalization × slope annealing (WGAN-GP, seed 0)", "",
             "Batch normalization with batch statistics (`batch`, the paper's text) or as "
             "the original code ran it (`affine`: a learned scale and shift); slope annealed "
             "(×1.1 after every epoch, the paper's text) or fixed at 1 (the original code). "
             "`batch` + annealed is the `paper` protocol's run, `affine` + fixed the "
             "`original_code` protocol's.", "",
             "| run | batch normalization | slope | FID | class entropy | ink | isolated "
             "on-pixels / image | components / image | preact. in [0.4, 0.6] | notch at 0.5 |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    effects = []
    for name in ABLATION_RUNS:
        cells = {cell: records.get(folder, {}).get(name)
                 for cell, (folder, _) in ABLATION_CELLS.items()}
        if not any(cells.values()):
            continue
        for (bn_mode, slope), record in cells.items():
            if record is None:
                lines.append(f"| {name} | {bn_mode} | {slope} | not run yet |" + " |" * 6)
                continue
            m = best(record)
            notch = record['histogram'] and notch_ratio(record['histogram'])
            marker = ' †' if record.get('note') else ''
            lines.append(
                f"| {name}{marker} | {bn_mode} | {slope} | {m['fid']:.2f} | "
                f"{m['class_entropy']:.3f} | {m['ink_density']:.3f} | "
                f"{number(m.get('isolated_pixels'))} | {number(m.get('components'))} | "
                f"{record['metrics']['preactivated']['share_0.4_to_0.6']:.1%} | "
                f"{number(notch, '.2f')} |")
        if all(cells.values()):
            def effects_on(value):
                """(batch -> affine, annealed -> fixed): each factor's mean change over the
                other factor's two settings."""
                values = {cell: value(record) for cell, record in cells.items()}
                return (statistics.mean(values[('affine', s)] - values[('batch', s)]
                                        for s in ('annealed', 'fixed')),
                        statistics.mean(values[(b, 'fixed')] - values[(b, 'annealed')]
                                        for b in ('batch', 'affine')))
            measures = {
                'FID': (lambda record: best(record)['fid'], '+.2f'),
                'isolated on-pixels per image': (
                    lambda record: best(record)['isolated_pixels'] or 0., '+.3f'),
                'share of preactivated outputs in [0.4, 0.6]': (
                    lambda record: record['metrics']['preactivated']['share_0.4_to_0.6'],
                    '+.1%')}
            changes = {label: (effects_on(value), form)
                       for label, (value, form) in measures.items()}
            for factor, index in (('batch → affine normalization', 0),
                                  ('annealed → fixed slope', 1)):
                effects.append(f"{name}, {factor}: " + ', '.join(
                    f"{label} {format(change[index], form)}"
                    for label, (change, form) in changes.items())
                    + " (mean over the other factor's two settings).")
    return lines + ([""] + effects if effects else [])


def seeds_section(records):
    lines = ["## Seeds (claims 1 and 5)", "",
             "Mean ± standard deviation over the seeds that are in; a verdict counts a "
             "difference only when it is larger than the two spreads together.", "",
             "| protocol | run | seeds | FID | class entropy | isolated on-pixels / image |",
             "|---|---|---|---|---|---|"]
    found = False
    for protocol in PROTOCOLS:
        runs = with_seeds(records, protocol)
        for name in SEED_RUNS:
            if len(runs.get(name, [])) > 1:
                found = True
                chosen = [best(record) for record in runs[name]]
                lines.append(
                    f"| {protocol} | {name} | "
                    f"{', '.join(str(r['seed']) for r in runs[name])} | "
                    f"{shown([m['fid'] for m in chosen])} | "
                    f"{shown([m['class_entropy'] for m in chosen], 3)} | "
                    + (shown([m['isolated_pixels'] for m in chosen], 3)
                       if all(m.get('isolated_pixels') is not None for m in chosen) else '—')
                    + " |")
    return lines if found else lines[:2] + ["No run with more than one seed yet."]


def trained_how(records):
    """What the records say of their runs' length and evaluation, in words."""
    every = [record for runs in records.values() for record in runs.values()]
    epochs = sorted({record['epochs'] for record in every})
    samples = sorted({record['metrics']['num_samples'] for record in every
                      if 'num_samples' in record['metrics']})  # an early record lacks it
    partial = [record for record in every if record.get('partial_epoch')]
    alike = len(epochs) == 1 and not partial

    def listed(values):
        return ' or '.join([', '.join(values[:-1]), values[-1]][-len(values):])
    trained = (f"Every run trained {epochs[0]} epochs" if alike
               else f"The runs trained {listed([str(n) for n in epochs])} epochs"
               + (f" ({len(partial)} with a part of an epoch more)" if partial else "")
               + " (each table gives a run's epochs)")
    evaluated = ("was evaluated on " if alike else "were evaluated on ") + (
        f"{samples[0]:,} samples" if len(samples) == 1
        else f"{listed([f'{n:,}' for n in samples])} samples (each table's runs their own)"
    ) + (" of its last checkpoint" if alike else " of their last checkpoints")
    return trained, evaluated


def header(records):
    # The newest evaluation (older records lack the artifact numbers).
    metrics = max((record for runs in records.values() for record in runs.values()),
                  key=lambda record: ('data_isolated_pixels' in record['metrics'],
                                      record.get('finished', '')))['metrics']
    trained, evaluated = trained_how(records)
    return ["# Results", "",
            f"{trained} on binarized MNIST (70,000 images) and {evaluated} against the 10,000 "
            "binarized test images with the project's reference classifier "
            "(`python -m binarygan.evaluate`). Two protocols: `paper` follows the paper's "
            "text (slope ×1.1 after every epoch, batch normalization with batch "
            "statistics); `original_code` runs as the authors' code did (slope fixed at 1, "
            "batch normalization as a learned scale and shift, RMSProp's accumulators "
            "starting at 1). Built by `python reproduce.py --report-only` from the records "
            "in `figs/runs/`.", "",
            f"Floor: FID of 10,000 real training images {metrics['fid_train_vs_test']:.3f}. "
            f"Test images: ink {metrics['data_ink_density']:.3f}"
            + (f", isolated on-pixels {metrics['data_isolated_pixels']:.3f} and components "
               f"{metrics['data_components']:.3f} per image"
               if 'data_isolated_pixels' in metrics else "") + ". "
            "Notch at 0.5: the lower count of the two 0.005-wide histogram bins that meet "
            "at 0.5 over the mean of the 4 bins on each side (1: no dip; the paper's "
            "Figure 4 shows about 1/13)."]


def protocol_sections(records):
    """Both protocols side by side, then each one's table."""
    lines = ["## Both protocols", ""] + headline_rows(records)
    for protocol in PROTOCOLS:
        runs = records.get(protocol, {})
        lines += ["", f"## Protocol `{protocol}`", ""]
        if not runs:
            lines.append("No run evaluated yet.")
            continue
        notes = sorted({record['note'] for record in runs.values() if record.get('note')})
        lines += RUN_TABLE_HEAD + run_rows(runs) + [""] + [f"† {note}." for note in notes]
        missing = [name for name in RUNS if name not in runs]
        if missing:
            lines.append(f"Not run yet: {', '.join(missing)}.")
    return lines


def claims_section(records):
    claims = {protocol: verdicts(with_seeds(records, protocol)) for protocol in PROTOCOLS}
    lines = ["## The paper's claims", "",
             "| claim | " + " | ".join(f"`{p}`" for p in PROTOCOLS) + " | numbers |",
             "|---|" + "---|" * len(PROTOCOLS) + "---|"]
    for i, (claim, _, _) in enumerate(claims['paper']):
        evidence = ' '.join(f"**{protocol}:** {claims[protocol][i][2] or '—'}"
                            for protocol in PROTOCOLS)
        lines.append(f"| {claim} | "
                     + " | ".join(claims[protocol][i][1] for protocol in PROTOCOLS)
                     + f" | {evidence} |")
    return lines


def other_runs_section(name, group, records):
    """A group without a section of its own: a row per run and variant, if it has run."""
    found = [(folder, run, record) for folder in sorted(group.folders())
             for run, record in records.get(folder, {}).items()]
    if not found:
        return []
    lines = [f"## Group `{name}`: {group.description}", "",
             "| folder | run | variant | FID | class entropy | isolated on-pixels / image | "
             "epochs | generator steps | hours | seed | machine |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for folder, run, record in found:
        for variant, m in record['metrics']['variants'].items():
            lines.append(f"| {folder} | {run} | {variant} | {m['fid']:.2f} | "
                         f"{m['class_entropy']:.3f} | {number(m.get('isolated_pixels'))} | "
                         f"{record['epochs']} | {record.get('steps', '—')} | "
                         f"{record['hours']:.2f} | {record['seed']} | {record['machine']} |")
    return lines


# Each group's section of results.md, in GROUPS's order; a group without one gets
# other_runs_section. The claims come last.
SECTIONS = {'grid': protocol_sections, 'ablation': ablation_section, 'seeds': seeds_section,
            'ways': ways_section, 'cause': cause_section, 'seed003': seed003_section,
            'race_sweep': sweep_section, 'race_mlp': mlp_race_section,
            'race_cnn': cnn_race_section}


def results_markdown(records):
    """figs/results.md: the runs of each protocol, the ablation, the seeds, the ways, the
    claims."""
    lines = header(records)
    for name, group in GROUPS.items():
        section = (SECTIONS[name](records) if name in SECTIONS
                   else other_runs_section(name, group, records))
        if section:
            lines += [""] + section
    lines += [""] + claims_section(records)
    return '\n'.join(lines) + '\n'


def report(figs_dir):
    """Rebuild the figures and results.md from the records in FIGS_DIR/runs; False, with
    nothing written, when there is none."""
    records = run_records.load(os.path.join(figs_dir, RECORDS))
    if not any(records.values()):
        return False
    made = []
    for folder, runs in records.items():
        for arch in ('mlp', 'cnn'):
            trio = {f"{name} ({runs[name]['protocol']})": runs[name]['histogram']
                    for name in (f'{arch}_{arch}_{n}' for n in ('round', 'bernoulli', 'real'))
                    if name in runs and runs[name]['histogram']}
            if len(trio) > 1:
                path = os.path.join(folder, f'{arch}_preactivation_histograms.png')
                plot_preactivation_histograms(trio, figure_path(figs_dir, path))
                made.append(path)
        for experiment in dict.fromkeys(run[1] for run in GRID):
            own = [run[0] for run in GRID if run[1] == experiment]
            if not any(runs.get(name, {}).get('along_training') for name in own):
                continue
            curves = {}
            for name in CURVE_BASELINES.get(experiment, []) + own:
                rows = runs.get(name, {}).get('along_training', [])
                for variant in dict.fromkeys(row['variant'] for row in rows):
                    label = name if variant == 'binary' else f'{name} ({variant})'
                    curves[label] = [row for row in rows if row['variant'] == variant]
            path = os.path.join(folder, f'metrics_exp_{experiment}.png')
            plot_metric_curves(curves, figure_path(figs_dir, path))
            made.append(path)
    for name in ABLATION_RUNS:
        cells = {f"BN {bn_mode}, slope {slope}": records[folder][name]['histogram']
                 for (bn_mode, slope), (folder, _) in ABLATION_CELLS.items()
                 if records.get(folder, {}).get(name, {}).get('histogram')}
        if len(cells) > 1:
            path = os.path.join('ablation', f'{name}_preactivation_histograms.png')
            plot_preactivation_histograms(cells, figure_path(figs_dir, path))
            made.append(path)
    made += ways_figures(records, figs_dir) + race_figures(records, figs_dir)
    for name, text in (('results.md', results_markdown(records)),
                       ('readme_tables.md', readme_tables(records))):
        with replacing(os.path.join(figs_dir, name)) as f:
            f.write(text)
        made.append(name)
    print(f"Report: {len(made)} files in {figs_dir}: {', '.join(made)}")
    return True
