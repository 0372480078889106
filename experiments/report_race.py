"""The report's sections on issue 39's fair race between the ways to train binary outputs:
why the ways row's score-function ways drew noise (group cause), seed 003's BGAN on its
own terms (seed003), the learning-rate sweep (race_sweep) and the races on the MLP and
on seed 003's CNN (race_mlp, race_cnn), with the equal-time figure."""
import os
import statistics

from binarygan.plots import plot_fid_against_minutes
from experiments.grid import (CAUSE_RUNS, CAUSE_VARIANTS, RACE_GROUP_WAYS, RACE_LEARNING_RATE,
                              RACE_LEARNING_RATES, RACE_SEEDS, RACE_WAYS, RACES)
from experiments.publish import figure_path, number
from experiments.statistics import beyond_spread, mean_and_spread, shown

# Seed 003's run is done when its samples are digits: this class entropy, and an FID
# within this factor of the paper's CNN with DBNs (WGAN-GP, protocol paper, seed 0).
DIGITS_CLASS_ENTROPY, DIGITS_FID_FACTOR = 0.95, 1.5
WAY_NAMES = {'bgan': 'BGAN', 'reinforce': 'REINFORCE'}


def binary(record):
    """The metrics of the run's samples as trained: the binary ones (the real-valued
    way's and Gumbel-sigmoid's, thresholded)."""
    variants = record['metrics']['variants']
    return variants.get('binary') or variants['threshold']


def epoch_means(record, key, form='.1f'):
    """'first → last' of a batch-log column's epoch means, '—' where not logged."""
    values = [epoch[key] for epoch in record.get('training_by_epoch', []) if key in epoch]
    return f"{values[0]:{form}} → {values[-1]:{form}}" if values else '—'


def cause_section(records):
    found = [(name, variant, records[f'cause/{variant}'][name]) for name in CAUSE_RUNS
             for variant in CAUSE_VARIANTS if name in records.get(f'cause/{variant}', {})]
    if not found:
        return []
    lines = ["## Why the ways row's BGAN and REINFORCE drew noise (issue 39, section 1)", "",
             "The paper's MLP, 5 epochs, seed 0, each way as the ways row ran it (BGAN: its "
             "joint steps, 20 samples per latent; REINFORCE: one sample per latent, the "
             "WGAN-GP critic's score as reward), then without batch normalization on the "
             "generator's output logits (`model.output_bn=false`), then with the slope "
             "annealed ×1.1 per epoch. Epoch means of the batch log: first → last epoch.", "",
             "| way | variant | FID along training | FID | class entropy | ink | preact. "
             "in [0, 0.1] ∪ [0.9, 1] | isolated on-pixels / image | effective sample size | "
             "G's gradient norm | D's loss |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, variant, record in found:
        m = binary(record)
        along = ', '.join(f"{float(row['fid']):.0f}" for row in record['along_training']
                          if row['variant'] in ('binary', 'threshold'))
        lines.append(
            f"| {WAY_NAMES[name]} | {variant} | {along} | {m['fid']:.2f} | "
            f"{m['class_entropy']:.3f} | {m['ink_density']:.3f} | "
            f"{record['metrics']['preactivated']['share_below_0.1_or_above_0.9']:.1%} | "
            f"{number(m.get('isolated_pixels'), '.2f')} | "
            f"{epoch_means(record, 'effective_sample_size')} | "
            f"{epoch_means(record, 'g_grad_norm')} | {epoch_means(record, 'd_loss', '.4f')} |")
    return lines


def seed003_section(records):
    record = records.get('race/cnn/seed0', {}).get('bgan')
    if record is None:
        return []
    paper = records.get('paper', {}).get('cnn_cnn_round')
    bar = paper and DIGITS_FID_FACTOR * binary(paper)['fid']
    m = binary(record)
    digits = m['class_entropy'] >= DIGITS_CLASS_ENTROPY and bar and m['fid'] <= bar
    steps = record['steps_per_epoch'] or 0
    along = '; '.join(f"step {int(row['epoch']) * steps:,}: {float(row['fid']):.1f} / "
                      f"{float(row['class_entropy']):.3f}" for row in record['along_training'])
    return [
        "## Seed 003's BGAN on its own terms", "",
        "kklemon/bgan-pytorch's binary MNIST: its DCGAN-like generator (transposed "
        "convolutions 128-64-32-16, LeakyReLU 0.2, batch normalization after the "
        "activation, a 1×1 convolution to unnormalized logits) and discriminator "
        "(convolutions 16-32-64-128, 4×4 stride 2, LeakyReLU, no batch normalization), "
        "z 64, PyTorch's initialization, Adam 1e-4 (0.5, 0.999) for both, 20 samples per "
        "latent, the pixel mean of log g, the discriminator's and generator's steps "
        "together. Its 32×32 images here are the project's binarized MNIST zero-padded "
        "(the discriminator pads, the generator's output is cropped back to 28×28), so "
        "that FID measures the model, not the data. Seed 0, "
        f"{record['epochs']} epochs ({record['steps']:,} generator steps), "
        f"{record['hours']:.2f} h on {record['machine']}.", "",
        f"FID {m['fid']:.2f}, class entropy {m['class_entropy']:.3f}, isolated on-pixels "
        f"{number(m.get('isolated_pixels'), '.2f')} per image, ink {m['ink_density']:.3f}. "
        + (f"The bar: class entropy ≥ {DIGITS_CLASS_ENTROPY} and FID ≤ {bar:.2f} "
           f"({DIGITS_FID_FACTOR} × the paper's CNN with DBNs): "
           f"{'met' if digits else 'not met'}." if bar else ""), "",
        f"FID / class entropy along training (5,000 samples): {along}.", "",
        "![seed 003's BGAN](race/cnn/seed0/bgan.png)"]


def sweep_section(records):
    found = {(name, rate): records.get(f'race/sweep/lr{rate:g}', {}).get(name)
             for name in RACE_WAYS for rate in RACE_LEARNING_RATES}
    if not any(found.values()):
        return []
    lines = ["## The race's learning-rate sweep (MLP, 3 epochs, seed 0)", "",
             "G's learning rate around every author's 1e-4 (D's stays 1e-4); FID after 3 "
             "epochs, 10,000 samples. The race trains each way at its chosen rate.", "",
             "| way | " + " | ".join(f"G lr {rate:g}" for rate in RACE_LEARNING_RATES)
             + " | chosen |", "|---|" + "---|" * (len(RACE_LEARNING_RATES) + 1)]
    for name, way in RACE_WAYS.items():
        cells = [number(found[name, rate] and binary(found[name, rate])['fid'], '.2f')
                 for rate in RACE_LEARNING_RATES]
        lines.append(f"| {way.description} | {' | '.join(cells)} | "
                     f"{number(RACE_LEARNING_RATE['mlp'].get(name), 'g')} |")
    return lines


def race_records(records, race):
    """{way: [records by seed]} of a race."""
    return {name: [records[f'race/{race}/seed{seed}'][name] for seed in RACE_SEEDS
                   if name in records.get(f'race/{race}/seed{seed}', {})]
            for name in RACE_GROUP_WAYS[race]}


def pace(record):
    """A run's minutes per epoch at its fastest epoch's pace: the epoch least slowed by
    other work on the machine."""
    return min(record['epoch_seconds']) / 60


def fids_along(record):
    """{epoch: FID} of the run's samples as trained, evaluated along training."""
    return {int(row['epoch']): float(row['fid']) for row in record['along_training']
            if row['variant'] in ('binary', 'threshold')}


def fid_curve(record):
    """(minutes, FIDs) along training, the minutes at the run's pace."""
    fids = fids_along(record)
    return [epoch * pace(record) for epoch in fids], list(fids.values())


def fid_at(record, minutes):
    """The FID along training of the last evaluation within ``minutes``; None before."""
    within = [fid for at, fid in zip(*fid_curve(record)) if at <= minutes + 1e-9]
    return within[-1] if within else None


def race_runs(records, race):
    """{way: [records by seed]} of the race's ways that have run, and the equal-time
    budget: the minutes when the quickest way's runs have all ended."""
    runs = {name: found for name, found in race_records(records, race).items() if found}
    budget = min((max(pace(record) * record['epochs'] for record in found)
                  for found in runs.values()), default=None)
    return runs, budget


def race_cells(found, budget, counted=True):
    """A way's results over its seeds: FID, class entropy, isolated on-pixels, minutes
    per epoch and the FID at the equal-time budget (``counted``: each with its seeds)."""
    metrics = [binary(record) for record in found]
    at_budget = [fid_at(record, budget) for record in found]
    return {'fid': shown([m['fid'] for m in metrics], 2, counted),
            'class_entropy': shown([m['class_entropy'] for m in metrics], 3, counted),
            'isolated': shown([m['isolated_pixels'] or 0. for m in metrics], 2, counted),
            'pace': f"{statistics.mean(map(pace, found)):.1f}",
            'at_budget': shown(at_budget, 2, counted) if None not in at_budget else '—'}


def race_section(records, race):
    runs, budget = race_runs(records, race)
    if not runs:
        return []
    networks = ("the paper's MLPs, no batch normalization on the output logits"
                if race == 'mlp' else "seed 003's DCGAN-like CNN (z 64, PyTorch's "
                "initialization)")
    lines = [f"## The race on the {race.upper()}: every way at its best", "",
             f"Networks: {networks}; 20 epochs, 10,000 samples, seeds 0–2; "
             + ("each way at the G learning rate its sweep chose. " if race == 'mlp'
                else "every author's G learning rate, 1e-4. ")
             + "Mean ± standard deviation over the seeds there are. Minutes: one thread, "
             "at each run's fastest epoch's pace (its other epochs shared the machine "
             f"with other work); FID at {budget:.0f} min: the FID along training (5,000 "
             "samples, after each epoch) when the quickest way's runs ended.", "",
             "| way | settings (whose) | G lr | seeds | FID | class entropy | isolated "
             f"on-pixels / image | generator updates | min / epoch | FID at {budget:.0f} "
             "min | grid |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, found in runs.items():
        way, cells = RACE_WAYS[name], race_cells(found, budget)
        lines.append(
            f"| {way.description} | {way.schedule} | "
            f"{found[0]['generator_learning_rate']:g} | "
            f"{', '.join(str(record['seed']) for record in found)} | {cells['fid']} | "
            f"{cells['class_entropy']} | {cells['isolated']} | {found[0]['steps']:,} | "
            f"{cells['pace']} | {cells['at_budget']} | "
            f"![{name}](race/{race}/seed{found[0]['seed']}/{name}.png) |")
    return lines + ["", race_conclusion(runs), ""] + race_evidence(runs)


def race_summary(records, race):
    """The README's table of a race (its settings and grids are in results.md) and the
    conclusion sentence."""
    runs, budget = race_runs(records, race)
    if not runs:
        return []
    lines = ["| way | seeds | FID | class entropy | isolated on-pixels / image | min / epoch | "
             f"FID at {budget:.0f} min |", "|---|---|---|---|---|---|---|"]
    for name, found in runs.items():
        cells = race_cells(found, budget, counted=False)
        lines.append(f"| {RACE_WAYS[name].description} | {len(found)} | {cells['fid']} | "
                     f"{cells['class_entropy']} | {cells['isolated']} | {cells['pace']} | "
                     f"{cells['at_budget']} |")
    return lines + ["", race_conclusion(runs)]


def race_evidence(runs):
    """How each way's first seed trained: its FID along training and its batch log's
    epoch means (first → last epoch), the evidence behind a way that fails."""
    lines = ["How each way trained (its first seed; epoch means of the batch log, first → "
             "last epoch):", "",
             "| way | seed | FID after epochs 1, 5, 10, 20 | D's loss | G's gradient norm | "
             "effective sample size |", "|---|---|---|---|---|---|"]
    for name, found in runs.items():
        record = found[0]
        fids = fids_along(record)
        along = ', '.join(number(fids.get(epoch), '.1f') for epoch in (1, 5, 10, 20))
        lines.append(f"| {RACE_WAYS[name].description} | {record['seed']} | {along} | "
                     f"{epoch_means(record, 'd_loss', '.3f')} | "
                     f"{epoch_means(record, 'g_grad_norm', '.3g')} | "
                     f"{epoch_means(record, 'effective_sample_size')} |")
    return lines


def race_conclusion(runs):
    """The sentences the spreads allow: the lowest mean FID, the ways level with it
    (apart by no more than the two spreads together) and those clearly behind; a way
    with one seed has no spread and is compared with none, and while a way has fewer
    than its seeds the sentences say they are provisional."""
    fids = {name: [binary(record)['fid'] for record in found] for name, found in runs.items()}
    words = {name: RACE_WAYS[name].description for name in fids}
    best = min(fids, key=lambda name: mean_and_spread(fids[name])[0])
    spread = [name for name in fids if name != best and len(fids[name]) > 1]
    sentences = [f"Lowest mean FID: {words[best]} ({shown(fids[best])})."]
    if min(map(len, fids.values())) < len(RACE_SEEDS):
        sentences.insert(0, f"Provisional, not every way has its {len(RACE_SEEDS)} seeds "
                            "yet.")
    if len(fids[best]) > 1:
        level = [name for name in spread if not beyond_spread(fids[best], fids[name])]
        behind = [name for name in spread if name not in level]
        if level:
            sentences.append("Level with it within the spreads: "
                             f"{'; '.join(map(words.get, level))}.")
        if behind:
            sentences.append("Behind it beyond the spreads: "
                             f"{'; '.join(map(words.get, behind))}.")
    single = [name for name in fids if len(fids[name]) == 1 and name != best]
    if max(map(len, fids.values())) == 1:
        sentences.append("One seed of each so far: no spread to compare them by.")
    elif single or len(fids[best]) == 1:
        sentences.append("Not compared yet, one seed so far: "
                         f"{'; '.join(map(words.get, [best] * (len(fids[best]) == 1) + single))}.")
    return ' '.join(sentences)


def fid_band(found):
    """A way's FID along training over its seeds ``found``: (minutes, mean, lowest,
    highest) at the evaluations all seeds have, at their mean minutes."""
    curves = [fid_curve(record) for record in found]
    length = min(len(fids) for _, fids in curves)
    minutes = [statistics.mean(at[i] for at, _ in curves) for i in range(length)]
    fids = [[run[i] for _, run in curves] for i in range(length)]
    return (minutes, [statistics.mean(at) for at in fids], [min(at) for at in fids],
            [max(at) for at in fids])


def race_figures(records, figs_dir):
    """race/<race>_fid_against_minutes.png: FID along training against training minutes,
    a line per way, the mean over its seeds shaded from the lowest to the highest (the
    equal-time view); the paths made."""
    made = []
    for race in RACES:
        bands = {f"{name} ({len(found)} seed{'s' * (len(found) > 1)})": fid_band(found)
                 for name, found in race_records(records, race).items() if found}
        if bands:
            path = os.path.join('race', f'{race}_fid_against_minutes.png')
            plot_fid_against_minutes(bands, figure_path(figs_dir, path))
            made.append(path)
    return made


def mlp_race_section(records):
    return race_section(records, 'mlp')


def cnn_race_section(records):
    return race_section(records, 'cnn')
