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
import csv
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time

from binarygan.configure import PROTOCOLS
from binarygan.evaluate import HISTOGRAM_JSON, METRICS_CSV, METRICS_JSON
from binarygan.metrics import notch_ratio
from binarygan.plots import plot_metric_curves, plot_preactivation_histograms, sample_grid_files

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
# Other ways to train a generator with binary outputs than the paper's (issue 20), on its
# MLP benchmark, protocol 'paper': (run, way, G preset, D preset, objective, optimizer,
# overrides). The paper's own ways (the sigmoid-adjusted estimator with DBNs and SBNs, and
# the real-valued model) are the grid's mlp_mlp_* runs. The score-function ways (REINFORCE,
# BGAN) keep the slope at 1: annealing it is a straight-through trick, and it would only
# sharpen the distribution they sample. BGAN as its authors train it: Adam with beta2
# 0.999, one discriminator step per generator step, no batch normalization in D.
WAYS = [
    ('straight_through', 'straight-through (identity), SBNs', 'mlp_bernoulli', 'mlp',
     'wgan-gp', 'adam', ['model.gradient_estimator=straight_through']),
    ('reinforce', 'REINFORCE, leave-one-out baseline', 'mlp_bernoulli', 'mlp', 'wgan-gp',
     'adam', ['model.gradient_estimator=reinforce', 'train.slope_annealing_rate=1.0']),
    ('gumbel_sigmoid', 'Gumbel-sigmoid (relaxed samples)', 'mlp_bernoulli', 'mlp',
     'wgan-gp', 'adam', ['model.gradient_estimator=gumbel_sigmoid']),
    ('straight_through_gumbel', 'straight-through Gumbel', 'mlp_bernoulli', 'mlp',
     'wgan-gp', 'adam', ['model.gradient_estimator=straight_through_gumbel']),
    ('bgan', 'Boundary-Seeking GAN, 20 samples per latent', 'mlp_bernoulli', 'mlp', 'bgan',
     'adam', ['model.beta2=0.999', 'train.n_critic=1', 'train.n_critic_warmup=1',
              'train.slope_annealing_rate=1.0']),
]
WAY_RUNS = {run[0]: run for run in WAYS}
# The paper's ways in the comparison: (folder, run, way).
PAPER_WAYS = [('paper', 'mlp_mlp_round', 'sigmoid-adjusted straight-through, DBNs (paper)'),
              ('paper', 'mlp_mlp_bernoulli', 'sigmoid-adjusted straight-through, SBNs (paper)'),
              ('paper', 'mlp_mlp_real', 'real-valued, binarized at test time (paper)')]
# The ablation that separates the protocols' two differences for WGAN-GP runs (where
# RMSProp's start plays no part): {(batch normalization, slope): (folder, overrides)}.
# Two of its cells are the protocols' own runs.
ABLATION_CELLS = {
    ('batch', 'annealed'): ('paper', ['protocol=paper']),
    ('batch', 'fixed'): ('ablation/bn_batch-slope_fixed',
                         ['protocol=paper', 'train.slope_annealing_rate=1.0']),
    ('affine', 'annealed'): ('ablation/bn_affine-slope_annealed',
                             ['protocol=paper', 'model.bn_mode=affine']),
    ('affine', 'fixed'): ('original_code', ['protocol=original_code']),
}
ABLATION_RUNS = ['mlp_mlp_round', 'cnn_cnn_round', 'mlp_mlp_bernoulli', 'cnn_cnn_bernoulli']
# More seeds of the comparisons behind claims 1 (DBNs vs SBNs) and 5 (CNNs vs MLPs).
SEED_RUNS = ['mlp_mlp_round', 'mlp_mlp_bernoulli', 'cnn_cnn_round', 'cnn_cnn_bernoulli']
EXTRA_SEEDS = (1, 2)
# Issue 39's fair race between the ways to train binary outputs. Each way as its authors
# run it: (run, way, output neurons, objective, overrides). The straight-through ways
# anneal the slope (the paper's protocol); the score-function ways keep it at 1 (their
# authors have none); BGAN takes its discriminator's and generator's steps together
# (one each), Adam beta2 0.999, as both of its references.
SCORE_FUNCTION_SLOPE = 'train.slope_annealing_rate=1.0'
BGAN_SCHEDULE = ['model.beta2=0.999', 'train.n_critic=1', 'train.n_critic_warmup=1',
                 SCORE_FUNCTION_SLOPE]
RACE_WAYS = [
    ('sigmoid_adjusted_dbn', 'sigmoid-adjusted straight-through, DBNs (Dong & Yang)', 'round',
     'wgan-gp', []),
    ('sigmoid_adjusted_sbn', 'sigmoid-adjusted straight-through, SBNs (Dong & Yang)',
     'bernoulli', 'wgan-gp', []),
    ('real_valued', 'real-valued, binarized at test time', 'real', 'wgan-gp', []),
    ('straight_through', 'plain straight-through, SBNs', 'bernoulli', 'wgan-gp',
     ['model.gradient_estimator=straight_through']),
    ('gumbel_sigmoid', 'Gumbel-sigmoid (relaxed samples)', 'bernoulli', 'wgan-gp',
     ['model.gradient_estimator=gumbel_sigmoid']),
    ('straight_through_gumbel', 'straight-through Gumbel', 'bernoulli', 'wgan-gp',
     ['model.gradient_estimator=straight_through_gumbel']),
    ('reinforce', 'REINFORCE, 1 sample per latent, the batch as baseline', 'bernoulli',
     'wgan-gp', ['model.gradient_estimator=reinforce', SCORE_FUNCTION_SLOPE]),
    ('reinforce_multi', 'REINFORCE, 20 samples per latent, leave-one-out among them, '
     'normalized rewards', 'bernoulli', 'wgan-gp',
     ['model.gradient_estimator=reinforce', 'model.samples_per_latent=20',
      'model.normalize_rewards=true', SCORE_FUNCTION_SLOPE]),
    ('bgan', 'Boundary-Seeking GAN, 20 samples per latent (Hjelm et al.)', 'bernoulli', 'bgan',
     BGAN_SCHEDULE),
]
RACE_WAY_RUNS = {way[0]: way for way in RACE_WAYS}
# The two races' networks: the paper's MLPs without batch normalization on the output
# logits (which caps how far a pixel's mean logit moves), and seed 003's DCGAN-like CNN
# (kklemon/bgan-pytorch: its z of 64 and PyTorch's initialization; BGAN with its mean
# log-likelihood; MNIST's 28x28 padded to its 32x32). Seed 003's BGAN as it runs is the
# CNN race's BGAN (Adam 1e-4 (0.5, 0.999) for both networks, M = 20, steps together).
RACES = {
    'mlp': {'g': 'mlp', 'd': 'mlp', 'overrides': ['model.output_bn=false'], 'bgan': []},
    'cnn': {'g': 'dcgan', 'd': 'dcgan',
            'overrides': ['model.z_dim=64', 'model.weight_init=torch_default'],
            'bgan': ['model.log_likelihood=mean']},
}
RACE_LEARNING_RATES = (3e-5, 1e-4, 3e-4)  # G's, around every author's 1e-4
RACE_SEEDS = (0, 1, 2)
# Each way's G learning rate in the races, the best of the sweep (race_sweep); a way not
# here keeps its authors' 1e-4.
RACE_LEARNING_RATE = {}
# The ways of each race: all on the MLP; on the CNN the paper's, BGAN and the best other.
RACE_GROUP_WAYS = {'mlp': list(RACE_WAY_RUNS), 'cnn': ['sigmoid_adjusted_dbn', 'bgan']}
# Section 1 of issue 39: why the ways row's BGAN and REINFORCE drew noise. Each on the
# paper's MLP as that row ran it, without batch normalization on the output logits, and
# with slope annealing: {variant: overrides}.
CAUSE_VARIANTS = {'as_the_ways_row': [], 'output_bn_off': ['model.output_bn=false'],
                  'slope_annealed': ['train.slope_annealing_rate=1.1']}
CAUSE_RUNS = {'bgan': ('bgan', BGAN_SCHEDULE),
              'reinforce': ('wgan-gp', ['model.gradient_estimator=reinforce',
                                        SCORE_FUNCTION_SLOPE])}
GROUPS = ('grid', 'ablation', 'seeds', 'ways', 'cause', 'seed003', 'race_sweep', 'race_mlp',
          'race_cnn')
# Each group's epochs when --epochs is not given.
GROUP_EPOCHS = {'cause': 5, 'race_sweep': 3}
# Final sample grids copied to FIGS_DIR/<folder>/ as <run><suffix>.png (the original
# README's names).
GRID_FIGURES = {'binary': '', 'preactivated': '_preactivated',
                'raw': '', 'threshold': '_test_round', 'bernoulli': '_test_bernoulli'}
RUN_INFO = 'reproduce.json'
RECORDS = 'runs'  # FIGS_DIR/runs/<folder>/<run>.json
# Runs drawn beside an experiment's own in its FID and class-entropy figure: the
# binary-neuron MLP WGAN-GP runs of experiment I (for the objectives of III and the CNNs
# of IV).
MLP_WGAN_GP_RUNS = ['mlp_mlp_round', 'mlp_mlp_bernoulli']
CURVE_BASELINES = {'III': MLP_WGAN_GP_RUNS, 'IV': MLP_WGAN_GP_RUNS}
# Two FIDs are similar within this factor; one beats another only when lower by more
# than this share, so that the noise of a 10,000-sample estimate does not decide a verdict;
# with several seeds, a difference counts only when larger than the two runs' spreads.
SIMILAR_FID_FACTOR = 1.5
FID_MARGIN = 0.05
BETTER_MEANS = (f" (better: an FID lower by more than {FID_MARGIN:.0%} and, with seeds, "
                "by more than the two spreads together)")
# The DBNs' notch: the bins at 0.5 below this share of their neighbours (the paper's
# Figure 4: about 1/13).
NOTCH_BELOW = 0.5


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


def preset_settings(preset_g, preset_d, gan_type, optimizer):
    return [f'preset_g={preset_g}', f'preset_d={preset_d}', f'gan_type={gan_type}',
            f'optimizer={optimizer}']


def race_way(race, name, learning_rate=None):
    """main.py's settings of a way of RACE_WAYS in a race of RACES."""
    _, _, neurons, gan_type, overrides = RACE_WAY_RUNS[name]
    networks = RACES[race]
    settings = preset_settings(f"{networks['g']}_{neurons}", networks['d'], gan_type, 'adam')
    settings += ['protocol=paper', *networks['overrides'], *overrides]
    if gan_type == 'bgan':
        settings += networks['bgan']
    if learning_rate is not None:
        settings.append(f'model.generator_learning_rate={learning_rate:g}')
    return settings


def group_runs(group, protocol, names):
    """[(folder, run, main.py settings)] of a group, for the runs ``names`` (None: its
    own)."""
    if group == 'grid':
        return [(protocol, name, [*preset_settings(*RUNS[name][2:]), f'protocol={protocol}'])
                for name in names or RUNS]
    if group == 'ablation':
        return [(folder, name, [*preset_settings(*RUNS[name][2:]), *overrides])
                for name in names or ABLATION_RUNS
                for folder, overrides in ABLATION_CELLS.values()]
    if group == 'ways':
        return [('ways', name, [*preset_settings(*WAY_RUNS[name][2:6]), 'protocol=paper',
                                *WAY_RUNS[name][-1]])
                for name in names or WAY_RUNS]
    if group == 'cause':
        return [(f'cause/{variant}', name,
                 [*preset_settings('mlp_bernoulli', 'mlp', CAUSE_RUNS[name][0], 'adam'),
                  'protocol=paper', *CAUSE_RUNS[name][1], *overrides])
                for name in names or CAUSE_RUNS for variant, overrides in CAUSE_VARIANTS.items()]
    if group == 'seed003':  # seed 003's BGAN on its own terms: the CNN race's, seed 0
        return [('race/cnn/seed0', 'bgan', [*race_way('cnn', 'bgan'), 'seed=0'])]
    if group == 'race_sweep':
        return [(f'race/sweep/lr{rate:g}', name, race_way('mlp', name, rate))
                for name in names or RACE_WAY_RUNS for rate in RACE_LEARNING_RATES]
    if group in ('race_mlp', 'race_cnn'):
        race = group.split('_')[1]
        return [(f'race/{race}/seed{seed}', name,
                 [*race_way(race, name, RACE_LEARNING_RATE.get(name)), f'seed={seed}'])
                for seed in RACE_SEEDS for name in names or RACE_GROUP_WAYS[race]]
    return [(f'{protocol}/seed{seed}', name, [*preset_settings(*RUNS[name][2:]),
                                              f'protocol={protocol}', f'seed={seed}'])
            for name in names or SEED_RUNS for seed in EXTRA_SEEDS]


def die_with_parent():
    """A preexec_fn for a run's child process (main.py, the evaluation): on Linux the
    kernel kills the child when this process dies (prctl PR_SET_PDEATHSIG), so that a
    grid killed outright, e.g. a Ray worker lost under ray_grid.py, leaves no main.py
    training on and holding its experiment's lock, which would refuse the retry. SIGKILL,
    not SIGTERM: the lock goes at once, and the retry resumes from the latest checkpoint.
    Ctrl-C is as before (subprocess.run kills the child then too). The kernel watches the
    thread that started the child: call it from a thread that outlives the run (the grid's
    own, a Ray task's). None elsewhere."""
    if not sys.platform.startswith('linux'):
        return None
    import ctypes
    import signal
    prctl, parent = ctypes.CDLL(None, use_errno=True).prctl, os.getpid()

    def preexec():  # in the child, between fork and exec (the setting survives exec)
        prctl(1, signal.SIGKILL)  # 1: PR_SET_PDEATHSIG
        if os.getppid() != parent:  # the parent died before that
            os._exit(1)
    return preexec


def train_run(folder, name, exp_root, epochs, overrides):
    """Train (or resume) a run with main.py's settings ``overrides`` until it has
    ``epochs`` epochs; False if it diverged."""
    exp_dir = os.path.join(exp_root, folder, name)
    done = len(read_rows(os.path.join(exp_dir, 'logs', 'epoch.csv')))
    if done >= epochs:
        print(f"[{folder}/{name}] trained for {done} epochs: skipped", flush=True)
        return True
    print(f"[{folder}/{name}] {'resuming at epoch ' + str(done + 1) if done else 'training'} "
          f"({epochs} epochs)", flush=True)
    command = [sys.executable, os.path.join(ROOT, 'main.py'),
               f'exp.exp_name={name}', f'exp.exp_root={os.path.join(exp_root, folder)}',
               f'train.num_epoch={epochs}', 'evaluate_along_training=true', *overrides]
    status = subprocess.run(command, preexec_fn=die_with_parent()).returncode
    if status == 3:  # diverged: the message is printed; the other runs go on
        return False
    if status:
        raise GridError(f"[{folder}/{name}] main.py stopped with status {status}; run the "
                        "same command again to go on", status)
    info = read_json(os.path.join(exp_dir, RUN_INFO)) or {}
    info.update(machine=machine(), finished=time.strftime('%Y-%m-%d %H:%M:%S'))
    with open(os.path.join(exp_dir, RUN_INFO), 'w') as f:
        json.dump(info, f, indent=2)
    return True


def evaluate_run(exp_dir, num_samples, label):
    """Evaluate the run's latest checkpoint unless that is already done (by this
    evaluation: metrics of an earlier version lack the artifact numbers)."""
    epochs = read_rows(os.path.join(exp_dir, 'logs', 'epoch.csv'))
    metrics = read_json(os.path.join(exp_dir, 'eval', METRICS_JSON))
    if (metrics and epochs and metrics['step'] == int(epochs[-1]['step'])
            and metrics['num_samples'] == num_samples and 'data_components' in metrics):
        print(f"[{label}] evaluated at step {metrics['step']}: skipped", flush=True)
        return
    print(f"[{label}] evaluating {num_samples} samples", flush=True)
    status = subprocess.run([sys.executable, '-m', 'binarygan.evaluate', exp_dir,
                             '--num-samples', str(num_samples)], cwd=ROOT,
                            preexec_fn=die_with_parent()).returncode
    if status:
        raise GridError(f"[{label}] evaluation stopped with status {status}", status)


def archive_run(folder, name, exp_root, figs_dir):
    """Write the evaluated run's record to FIGS_DIR/runs/<folder>/<run>.json and copy its
    last sample grids to FIGS_DIR/<folder>/."""
    exp_dir = os.path.join(exp_root, folder, name)
    config = read_json(os.path.join(exp_dir, 'config.json'))
    epochs = read_rows(os.path.join(exp_dir, 'logs', 'epoch.csv'))
    info = read_json(os.path.join(exp_dir, RUN_INFO)) or {}
    metrics = read_json(os.path.join(exp_dir, 'eval', METRICS_JSON))
    histogram = read_json(os.path.join(exp_dir, 'eval', HISTOGRAM_JSON))
    metrics.pop('checkpoint')  # a path on the machine that trained it
    record = {
        'run': name, 'folder': folder,
        'protocol': config['setup']['protocol'], 'seed': config['exp']['seed'],
        'bn_mode': config['model']['bn_mode'], 'gan_type': config['model']['gan_type'],
        'gradient_estimator': config['model']['gradient_estimator'],
        'slope_annealing_rate': config['train']['slope_annealing_rate'],
        'learning_rate': config['model']['learning_rate'],
        'generator_learning_rate': config['model'].get('generator_learning_rate'),
        'output_bn': config['model'].get('output_bn', True),
        'samples_per_latent': config['model'].get('samples_per_latent'),
        'epochs': len(epochs),
        'steps': int(epochs[-1]['step']) if epochs else 0,
        'hours': round(sum(float(row['seconds']) for row in epochs) / 3600, 3),
        'epoch_seconds': [round(float(row['seconds']), 1) for row in epochs],
        'machine': info.get('machine', ''), 'finished': info.get('finished', ''),
        'metrics': metrics,
        'histogram': {key: histogram[key] for key in ('bin_edges', 'counts')},
        'along_training': read_rows(os.path.join(exp_dir, 'eval', METRICS_CSV)),
    }
    path = os.path.join(figs_dir, RECORDS, folder, f'{name}.json')
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        json.dump(record, f, indent=1)
    copy_final_grids(exp_dir, name, os.path.join(figs_dir, folder))
    train_grid = os.path.join(exp_dir, 'samples', 'x_train.png')
    if os.path.exists(train_grid):
        shutil.copyfile(train_grid, os.path.join(figs_dir, 'train.png'))


def copy_final_grids(exp_dir, name, target_dir):
    """The last sample grids of a run into ``target_dir`` as <run><suffix>.png."""
    samples = os.path.join(exp_dir, 'samples')
    grids = sample_grid_files(samples)
    if not grids:
        return
    os.makedirs(target_dir, exist_ok=True)
    last = os.path.basename(grids[-1]).rsplit('_', 1)[0]  # 'step_NNNNNN'
    for kind, suffix in GRID_FIGURES.items():
        source = os.path.join(samples, f'{last}_{kind}.png')
        if os.path.exists(source):
            shutil.copyfile(source, os.path.join(target_dir, f"{name}{suffix}.png"))


# -- records --------------------------------------------------------------------
def load_records(figs_dir):
    """{folder: {run: record}} of every record under FIGS_DIR/runs."""
    records = {}
    base = os.path.join(figs_dir, RECORDS)
    for parent, _, names in os.walk(base):
        for file_name in sorted(names):
            if file_name.endswith('.json'):
                folder = os.path.relpath(parent, base).replace(os.sep, '/')
                records.setdefault(folder, {})[file_name[:-5]] = read_json(
                    os.path.join(parent, file_name))
    return records


def with_seeds(records, protocol):
    """{run: [record of seed 0, records of the extra seeds...]} of a protocol."""
    runs = {name: [record] for name, record in records.get(protocol, {}).items()}
    for seed in EXTRA_SEEDS:
        for name, record in records.get(f'{protocol}/seed{seed}', {}).items():
            runs.setdefault(name, []).append(record)
    return runs


def fid(record, variant=None):
    variants = record['metrics']['variants']
    return variants[variant or next(iter(variants))]['fid']


def best(record, metric='fid'):
    """The run's best variant by ``metric`` (binary runs have one)."""
    return min(record['metrics']['variants'].values(), key=lambda values: values[metric])


def mean_and_spread(values):
    """Mean and sample standard deviation (0 for one value)."""
    return statistics.mean(values), statistics.stdev(values) if len(values) > 1 else 0.


def shown(values, digits=2):
    mean, spread = mean_and_spread(values)
    if len(values) == 1:
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {spread:.{digits}f} ({len(values)} seeds)"


def beyond_spread(a, b):
    """Whether the means of ``a`` and ``b`` differ by more than their spreads together."""
    (mean_a, spread_a), (mean_b, spread_b) = mean_and_spread(a), mean_and_spread(b)
    return abs(mean_a - mean_b) > spread_a + spread_b


def clearly_lower(a, b):
    """FIDs ``a`` (over seeds) clearly lower than ``b``: by the margin and the spreads."""
    return statistics.mean(a) < (1. - FID_MARGIN) * statistics.mean(b) and beyond_spread(a, b)


def similar(a, b):
    """FIDs within the similarity factor, or apart by no more than their spreads."""
    mean_a, mean_b = statistics.mean(a), statistics.mean(b)
    return (max(mean_a, mean_b) / min(mean_a, mean_b) <= SIMILAR_FID_FACTOR
            or not beyond_spread(a, b))


def tally(holds, missing):
    """A claim's verdict from the checks of it that hold; unclear, for want of
    ``missing``, when there are none."""
    if not holds:
        return f'unclear ({missing})'
    return 'agrees' if all(holds) else 'partly agrees' if any(holds) else 'does not agree'


def verdicts(runs):
    """The paper's claims with a verdict from the numbers: [(claim, verdict, evidence)];
    ``runs`` is with_seeds() of one protocol."""
    def have(*names):
        return all(name in runs for name in names)

    def fids(name, variant=None):
        return [fid(record, variant) for record in runs[name]]

    def share(name, key):
        return runs[name][0]['metrics']['preactivated'][key]

    claims = []
    pairs = [(f'{prefix}_round', f'{prefix}_bernoulli') for prefix in
             ('mlp_mlp', 'gan_mlp_mlp', 'wgan_mlp_mlp', 'cnn_cnn')]
    present = [pair for pair in pairs if have(*pair)]
    claims.append((
        "DBNs and SBNs reach similar quality.",
        tally([similar(fids(a), fids(b)) for a, b in present], 'no DBN/SBN pair evaluated'),
        '; '.join(f"{a}: FID {shown(fids(a))} vs {b}: {shown(fids(b))}" for a, b in present)
        + (f" (similar: within a factor {SIMILAR_FID_FACTOR}, or apart by no more than the "
           "spreads)" if present else "")))

    trio = ('mlp_mlp_round', 'mlp_mlp_bernoulli', 'mlp_mlp_real')
    if have(*trio):
        dbn, sbn, real = trio
        mid = {name: share(name, 'share_0.4_to_0.6') for name in trio}
        ends = {name: share(name, 'share_below_0.1_or_above_0.9') for name in trio}
        notch = {name: runs[name][0]['histogram'] and notch_ratio(runs[name][0]['histogram'])
                 for name in trio}
        holds = [mid[dbn] > mid[sbn], ends[sbn] > ends[dbn], ends[real] > ends[sbn]]
        if notch[dbn] is not None:
            holds.append(notch[dbn] < NOTCH_BELOW)
        verdict = ('agrees' if all(holds) else 'does not agree' if not any(holds)
                   else f'partly agrees ({sum(holds)} of {len(holds)} hold)')
        evidence = ("share in [0.4, 0.6]: " + ', '.join(f"{name} {mid[name]:.1%}" for name in trio)
                    + "; share in [0, 0.1] ∪ [0.9, 1]: "
                    + ', '.join(f"{name} {ends[name]:.1%}" for name in trio)
                    + "; lower of the two 0.005-wide bins at 0.5 over their 8 neighbours "
                    f"(a notch: below {NOTCH_BELOW}): "
                    + ', '.join(f"{name} " + ('not measured' if notch[name] is None
                                              else f"{notch[name]:.2f}") for name in trio))
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

    def binarized(real):  # the real-valued model's better test-time binarization
        return min((fids(real, variant) for variant in ('threshold', 'bernoulli')),
                   key=statistics.mean)
    claims.append((
        "Binary neurons do better than the real-valued model binarized at test time "
        "(threshold or Bernoulli).",
        tally([clearly_lower(fids(binary), binarized(real)) for binary, real in comparisons],
              'no pair evaluated'),
        '; '.join(f"{binary}: FID {shown(fids(binary))} vs {real} threshold "
                  f"{shown(fids(real, 'threshold'))}, Bernoulli {shown(fids(real, 'bernoulli'))}"
                  for binary, real in comparisons)
        + (BETTER_MEANS if comparisons else "")))

    evidence, holds = [], []
    for neurons in ('round', 'bernoulli'):
        gp, wgan, gan = (f'{prefix}mlp_mlp_{neurons}' for prefix in ('', 'wgan_', 'gan_'))
        if have(gp, wgan, gan):
            gp_m, gan_m = best(runs[gp][0]), best(runs[gan][0])
            holds += [similar(fids(gp), fids(wgan)),
                      gan_m['class_entropy'] < gp_m['class_entropy']
                      and gan_m['min_class_share'] < gp_m['min_class_share']]
            evidence.append(
                f"{neurons}: FID WGAN-GP {shown(fids(gp))}, WGAN {shown(fids(wgan))}, GAN "
                f"{shown(fids(gan))}; class entropy / rarest digit WGAN-GP "
                f"{gp_m['class_entropy']:.3f} / {gp_m['min_class_share']:.3f}, GAN "
                f"{gan_m['class_entropy']:.3f} / {gan_m['min_class_share']:.3f}")
    claims.append((
        "WGAN is close to WGAN-GP, while the GAN objective suffers mode collapse.",
        tally(holds, 'objective runs not all evaluated'),
        '; '.join(evidence)))

    pairs = [(f'mlp_mlp_{n}', f'cnn_cnn_{n}') for n in ('round', 'bernoulli', 'real')
             if have(f'mlp_mlp_{n}', f'cnn_cnn_{n}')]

    def best_fids(name):
        return [best(record)['fid'] for record in runs[name]]
    claims.append((
        "CNNs beat MLPs, with fewer parameters (0.53M vs 1.47M).",
        tally([clearly_lower(best_fids(cnn), best_fids(mlp)) for mlp, cnn in pairs],
              'no MLP/CNN pair evaluated'),
        '; '.join(f"{cnn}: best FID {shown(best_fids(cnn))} vs {mlp}: {shown(best_fids(mlp))}"
                  for mlp, cnn in pairs)
        + (BETTER_MEANS if pairs else "")))
    return claims


# -- report -----------------------------------------------------------------------
def number(value, form='.3f'):
    return '—' if value is None else format(value, form)


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
                f"| {name}{marker} | {bn_mode} | {slope} | {m['fid']:.2f} | {m['class_entropy']:.3f} "
                f"| {m['ink_density']:.3f} | {number(m.get('isolated_pixels'))} | "
                f"{number(m.get('components'))} | "
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
        minutes = record['hours'] * 60 / record['epochs']
        for variant, m in record['metrics']['variants'].items():
            lines.append(
                f"| {way} | {name}{marker} | {objective} | {variant} | {m['fid']:.2f} | "
                f"{m['inception_score']:.2f} | {m['class_entropy']:.3f} | "
                f"{m['min_class_share']:.3f} | {number(m.get('isolated_pixels'))} | "
                f"{number(m.get('components'))} | {minutes:.1f} | {record['machine']} |")
    return lines


def results_markdown(records):
    """figs/results.md: the runs of each protocol, the ablation, the seeds, the claims."""
    # Today's evaluation when there is one (older records lack the artifact numbers).
    metrics = max((record['metrics'] for runs in records.values() for record in runs.values()),
                  key=lambda metrics: 'data_isolated_pixels' in metrics)
    lines = ["# Results", "",
             "Every run trained 20 epochs on binarized MNIST (70,000 images) and was "
             "evaluated on 10,000 samples of its last checkpoint against the 10,000 "
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
    lines += ["", "## Both protocols", ""] + headline_rows(records)
    for protocol in PROTOCOLS:
        runs = records.get(protocol, {})
        lines += ["", f"## Protocol `{protocol}`", ""]
        if not runs:
            lines.append("No run evaluated yet.")
            continue
        notes = sorted({record['note'] for record in runs.values() if record.get('note')})
        lines += RUN_TABLE_HEAD + run_rows(runs) + [""] + [f"† {note}."
                                                                        for note in notes]
        missing = [name for name in RUNS if name not in runs]
        if missing:
            lines.append(f"Not run yet: {', '.join(missing)}.")
    lines += [""] + ablation_section(records) + [""] + seeds_section(records)
    lines += [""] + ways_section(records)
    claims = {protocol: verdicts(with_seeds(records, protocol)) for protocol in PROTOCOLS}
    lines += ["", "## The paper's claims", "",
              "| claim | " + " | ".join(f"`{p}`" for p in PROTOCOLS) + " | numbers |",
              "|---|" + "---|" * len(PROTOCOLS) + "---|"]
    for i, (claim, _, _) in enumerate(claims['paper']):
        evidence = ' '.join(f"**{protocol}:** {claims[protocol][i][2] or '—'}"
                            for protocol in PROTOCOLS)
        lines.append(f"| {claim} | "
                     + " | ".join(claims[protocol][i][1] for protocol in PROTOCOLS)
                     + f" | {evidence} |")
    return '\n'.join(lines) + '\n'


def figure_path(figs_dir, name):
    """FIGS_DIR/``name``, its folder made if missing."""
    path = os.path.join(figs_dir, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    return path


def report(figs_dir):
    """Rebuild the figures and results.md from the records in FIGS_DIR/runs; False, with
    nothing written, when there is none."""
    records = load_records(figs_dir)
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
    curves = {}
    for name, _, record in way_records(records):
        rows = (record or {}).get('along_training', [])
        for variant in dict.fromkeys(row['variant'] for row in rows):
            label = name if variant == 'binary' else f'{name} ({variant})'
            curves[label] = [row for row in rows if row['variant'] == variant]
    if any(record for run, _, record in way_records(records) if run in WAY_RUNS):
        path = os.path.join('ways', 'metrics_ways.png')
        plot_metric_curves(curves, figure_path(figs_dir, path))
        made.append(path)
    with open(os.path.join(figs_dir, 'results.md'), 'w') as f:
        f.write(results_markdown(records))
    made.append('results.md')
    print(f"Report: {len(made)} files in {figs_dir}: {', '.join(made)}")
    return True


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--protocol', default='paper', choices=list(PROTOCOLS),
                        help="the protocol of the grid and the seeds (default: paper)")
    parser.add_argument('--group', default='grid', choices=GROUPS,
                        help="grid: the paper's ten runs; ablation: batch normalization x "
                             "slope annealing; seeds: seeds 1 and 2 of the runs behind claims "
                             "1 and 5; ways: the other ways to train binary outputs")
    parser.add_argument('--runs', help="comma-separated runs of the group (default: all): " +
                        ', '.join(RUNS) + "; of the ways: " + ', '.join(WAY_RUNS))
    parser.add_argument('--epochs', type=int,
                        help="epochs per run (default: 20; the cause group 5, the race's "
                             "sweep 3)")
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
    names = args.runs.split(',') if args.runs else None
    valid = {'ways': WAY_RUNS, 'cause': CAUSE_RUNS, 'seed003': ['bgan'],
             'race_sweep': RACE_WAY_RUNS, 'race_mlp': RACE_WAY_RUNS,
             'race_cnn': RACE_WAY_RUNS}.get(args.group, RUNS)
    if args.epochs is None:
        args.epochs = GROUP_EPOCHS.get(args.group, 20)
    unknown = [name for name in names or [] if name not in valid]
    if unknown:
        print(f"error: unknown run {unknown[0]!r} of group {args.group}; valid: "
              f"{', '.join(valid)}", file=sys.stderr)
        return 2
    if args.epochs < 1 or args.num_samples < 2 or args.cpus_per_run < 1:
        print("error: --epochs must be at least 1, --num-samples at least 2 and "
              "--cpus-per-run at least 1", file=sys.stderr)
        return 2
    exp_root = os.path.abspath(args.exp_root)
    failed = 0  # with --ray: the first failed run's exit status, after the report
    try:
        if not args.report_only and args.ray:
            import ray_grid  # only here: without --ray, no Ray
            try:
                failed = ray_grid.run_grid_on_ray(
                    group_runs(args.group, args.protocol, names),
                    None if args.ray == 'local' else args.ray, args.cpus_per_run, exp_root,
                    os.path.abspath(args.figs_dir), args.epochs, args.num_samples,
                    args.overrides)
            except ray_grid.Refused as e:
                print(f"error: {e}", file=sys.stderr)
                return 2
        elif not args.report_only:
            runs = group_runs(args.group, args.protocol, names)
            for number, (folder, name, overrides) in enumerate(runs, 1):
                print(f"== run {number}/{len(runs)}: {folder}/{name}", flush=True)
                if train_run(folder, name, exp_root, args.epochs, overrides + args.overrides):
                    evaluate_run(os.path.join(exp_root, folder, name), args.num_samples,
                                 f'{folder}/{name}')
                    archive_run(folder, name, exp_root, args.figs_dir)
    except GridError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.status
    except KeyboardInterrupt:
        return 130
    if not report(args.figs_dir):
        if failed:
            return failed
        print(f"error: no run records in {os.path.join(args.figs_dir, RECORDS)}: train and "
              "evaluate runs first (python reproduce.py)", file=sys.stderr)
        return 2
    return failed


if __name__ == '__main__':
    sys.exit(main())
