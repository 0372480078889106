"""One run of the GAN grid, each part in its own process: training (main.py), the final
evaluation, then its record and last sample grids into the figures folder. Both ways of
running many (in_order.py, on_ray.py) call ``train_run``, ``evaluate_run`` and
``archive_run``."""
import json
import os
import shutil
import subprocess
import sys
import time

from binarygan.evaluate import HISTOGRAM_JSON, METRICS_CSV, METRICS_JSON
from binarygan.plots import sample_grid_files
from experiments import records
from experiments.records import RECORDS, read_json, read_rows

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Final sample grids copied to FIGS_DIR/<folder>/ as <run><suffix>.png (the original
# README's names).
GRID_FIGURES = {'binary': '', 'preactivated': '_preactivated',
                'raw': '', 'threshold': '_test_round', 'bernoulli': '_test_bernoulli'}
RUN_INFO = 'reproduce.json'


class GridError(Exception):
    """Stops the grid with a one-line message and an exit status."""

    def __init__(self, message, status):
        super().__init__(message)
        self.status = status


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
    info.update(machine=records.machine(), finished=time.strftime('%Y-%m-%d %H:%M:%S'))
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


def training_by_epoch(batch_rows):
    """Per epoch (partial ones too), the means of the batch log's losses, the norm of the
    generator's gradient and BGAN's effective sample size where logged."""
    by_epoch = {}
    for row in batch_rows:
        by_epoch.setdefault(int(row['epoch']), []).append(row)
    columns = [key for key in ('d_loss', 'g_loss', 'g_grad_norm', 'effective_sample_size')
               if batch_rows and batch_rows[0].get(key) not in (None, '')]
    return [{'epoch': epoch + 1, 'steps': len(rows),
             **{key: round(sum(float(row[key]) for row in rows) / len(rows), 6)
                for key in columns}}
            for epoch, rows in sorted(by_epoch.items())]


def archive_run(folder, name, exp_root, figs_dir):
    """Write the evaluated run's record to FIGS_DIR/runs/<folder>/<run>.json and copy its
    last sample grids to FIGS_DIR/<folder>/. The record states the run's full epochs, its
    generator steps and whether a part of an epoch follows them (train.max_steps)."""
    exp_dir = os.path.join(exp_root, folder, name)
    config = read_json(os.path.join(exp_dir, 'config.json'))
    epochs = read_rows(os.path.join(exp_dir, 'logs', 'epoch.csv'))
    batches = read_rows(os.path.join(exp_dir, 'logs', 'batch.csv'))
    info = read_json(os.path.join(exp_dir, RUN_INFO)) or {}
    metrics = read_json(os.path.join(exp_dir, 'eval', METRICS_JSON))
    histogram = read_json(os.path.join(exp_dir, 'eval', HISTOGRAM_JSON))
    metrics.pop('checkpoint')  # a path on the machine that trained it
    model = config['model']
    after_epochs = [row for row in batches if int(row['epoch']) >= len(epochs)]
    seconds = (sum(float(row['seconds']) for row in epochs)
               + sum(float(row['seconds']) for row in after_epochs))
    record = {
        'run': name, 'folder': folder,
        'protocol': config['setup']['protocol'], 'seed': config['exp']['seed'],
        'bn_mode': model['bn_mode'], 'gan_type': model['gan_type'],
        'gradient_estimator': model['gradient_estimator'],
        'slope_annealing_rate': config['train']['slope_annealing_rate'],
        'learning_rate': model['learning_rate'],
        'generator_learning_rate': model.get('generator_learning_rate'),
        'output_bn': model.get('output_bn', True),
        'samples_per_latent': model.get('samples_per_latent'),
        'epochs': len(epochs), 'steps': len(batches), 'partial_epoch': bool(after_epochs),
        'steps_per_epoch': int(epochs[0]['step']) if epochs else None,
        'hours': round(seconds / 3600, 3),
        'epoch_seconds': [round(float(row['seconds']), 1) for row in epochs],
        'machine': info.get('machine', ''), 'finished': info.get('finished', ''),
        'metrics': metrics,
        'histogram': {key: histogram[key] for key in ('bin_edges', 'counts')},
        'along_training': read_rows(os.path.join(exp_dir, 'eval', METRICS_CSV)),
        'training_by_epoch': training_by_epoch(batches),
    }
    records.write(os.path.join(figs_dir, RECORDS, folder, f'{name}.json'), record)
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


def run(folder, name, settings, exp_root, figs_dir, epochs, num_samples):
    """Train (or resume), evaluate and archive one run with main.py's ``settings``;
    False if it diverged (its message is printed, the other runs go on)."""
    if not train_run(folder, name, exp_root, epochs, settings):
        return False
    evaluate_run(os.path.join(exp_root, folder, name), num_samples, f'{folder}/{name}')
    archive_run(folder, name, exp_root, figs_dir)
    return True
