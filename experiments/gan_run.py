"""One run of the GAN grid, each part in its own process: training (main.py), the final
evaluation, then its record and last sample grids into the figures folder. Both ways of
running many (in_order.py, on_ray.py) call ``train_run``, ``evaluate_run`` and
``archive_run``."""
import json
import os
import shutil
import signal
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


class Stop(Exception):
    """A request to stop the grid (Ctrl-C: SIGINT, or SIGTERM, as ``signum``): each run
    saves a checkpoint and ends; the same command resumes them."""

    def __init__(self, signum):
        super().__init__(f"stopped by {signal.Signals(signum).name}")
        self.signum = signum


# A run's process killed from outside (kill -9, the out-of-memory killer) is started
# again this many times, each resuming from its latest checkpoint.
MAX_RETRIES = 3
STOP_GRACE_S = 300  # for a stopped run to finish its iteration and save a checkpoint
FAILED = 1  # the grid's exit status when a run failed for another reason than bad input


def die_with_parent():
    """A preexec_fn for a run's child process (main.py, the evaluation), which gets
    SIGINT and SIGTERM as a process of its own would; on Linux the kernel kills the
    child when this process dies (prctl PR_SET_PDEATHSIG), so that a
    grid killed outright, e.g. a Ray worker lost under on_ray.py, leaves no main.py
    training on and holding its experiment's lock, which would refuse the retry. SIGKILL,
    not SIGTERM: the lock goes at once, and the retry resumes from the latest checkpoint.
    The kernel watches the thread that started the child: call it from a thread that
    outlives the run (the grid's own, a Ray task's). None elsewhere."""
    if not sys.platform.startswith('linux'):
        return None
    import ctypes
    prctl, parent = ctypes.CDLL(None, use_errno=True).prctl, os.getpid()

    def preexec():  # in the child, between fork and exec (the settings survive exec)
        prctl(1, signal.SIGKILL)  # 1: PR_SET_PDEATHSIG
        if os.getppid() != parent:  # the parent died before that
            os._exit(1)
        # A Ray worker blocks or ignores SIGINT and SIGTERM, and a child inherits that:
        # the run's own clean stop needs them.
        signal.pthread_sigmask(signal.SIG_SETMASK, [])
        for stop in (signal.SIGINT, signal.SIGTERM):
            signal.signal(stop, signal.SIG_DFL)
    return preexec


def run_child(command, stop_requested=None):
    """The exit status of ``command``, a run's process, in a session of its own (a Ctrl-C
    at the terminal or a signal to the grid's process group does not reach it) that dies
    with this process. When this process is stopped (Stop, KeyboardInterrupt) or
    ``stop_requested()`` turns true (asked every second), the child gets SIGINT, its
    clean stop (a checkpoint), and STOP_GRACE_S to end before it is killed; Stop is
    raised then."""
    child = subprocess.Popen(command, cwd=ROOT, start_new_session=True,
                             preexec_fn=die_with_parent())
    try:
        while True:
            try:
                return child.wait(timeout=1 if stop_requested else None)
            except subprocess.TimeoutExpired:
                if stop_requested():
                    raise Stop(signal.SIGINT) from None
    except (Stop, KeyboardInterrupt) as stop:
        child.send_signal(signal.SIGINT)
        try:
            child.wait(timeout=STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        raise stop if isinstance(stop, Stop) else Stop(signal.SIGINT) from None


def train_run(folder, name, exp_root, epochs, overrides, stop_requested=None,
              on_retry=None):
    """Train (or resume) a run with main.py's settings ``overrides`` until it has
    ``epochs`` epochs; False if it diverged. A main.py killed from outside is started
    again from its latest checkpoint, up to MAX_RETRIES times (``on_retry(attempt,
    why)`` is told); stop_requested: as run_child."""
    label, exp_dir = f'{folder}/{name}', os.path.join(exp_root, folder, name)
    done = len(read_rows(os.path.join(exp_dir, 'logs', 'epoch.csv')))
    if done >= epochs:
        print(f"[{label}] trained for {done} epochs: skipped", flush=True)
        return True
    print(f"[{label}] {'resuming at epoch ' + str(done + 1) if done else 'training'} "
          f"({epochs} epochs)", flush=True)
    command = [sys.executable, os.path.join(ROOT, 'main.py'),
               f'exp.exp_name={name}', f'exp.exp_root={os.path.join(exp_root, folder)}',
               f'train.num_epoch={epochs}', 'evaluate_along_training=true', *overrides]
    for attempt in range(1, MAX_RETRIES + 2):
        status = run_child(command, stop_requested)
        if status >= 0 and status not in (130, 143):  # not ended by a signal
            break
        why = (f"main.py was killed by {signal.Signals(-status).name}" if status < 0 else
               f"main.py was stopped by {signal.Signals(status - 128).name}")
        if attempt > MAX_RETRIES:
            raise GridError(f"[{label}] {why} {attempt} times; {MAX_RETRIES} retries spent: "
                            "run the same command again to go on", FAILED)
        print(f"[{label}] {why}; resuming from its latest checkpoint (attempt "
              f"{attempt + 1})", flush=True)
        if on_retry:
            on_retry(attempt + 1, why)
    if status == 3:  # diverged: the message is printed; the other runs go on
        return False
    if status:
        raise GridError(f"[{label}] main.py stopped with status {status}; run the same "
                        "command again to go on", status if status == 2 else FAILED)
    info = read_json(os.path.join(exp_dir, RUN_INFO)) or {}
    info.update(machine=records.machine(), finished=time.strftime('%Y-%m-%d %H:%M:%S'))
    with open(os.path.join(exp_dir, RUN_INFO), 'w') as f:
        json.dump(info, f, indent=2)
    return True


def evaluate_run(exp_dir, num_samples, label, stop_requested=None):
    """Evaluate the run's latest checkpoint unless that is already done (by this
    evaluation: metrics of an earlier version lack the artifact numbers)."""
    steps = len(read_rows(os.path.join(exp_dir, 'logs', 'batch.csv')))
    metrics = read_json(os.path.join(exp_dir, 'eval', METRICS_JSON))
    if (metrics and steps and metrics['step'] == steps
            and metrics['num_samples'] == num_samples and 'data_components' in metrics):
        print(f"[{label}] evaluated at step {metrics['step']}: skipped", flush=True)
        return
    print(f"[{label}] evaluating {num_samples} samples", flush=True)
    status = run_child([sys.executable, '-m', 'binarygan.evaluate', exp_dir,
                        '--num-samples', str(num_samples)], stop_requested)
    if status:
        raise GridError(f"[{label}] evaluation stopped with status {status}",
                        status if status == 2 else FAILED)


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
    # The README's grid of training images: the first run's, not each run's anew (a
    # CNN race run's are padded to 32x32, and every seed draws others).
    train_grid, target = os.path.join(exp_dir, 'samples', 'x_train.png'), os.path.join(
        figs_dir, 'train.png')
    if os.path.exists(train_grid) and not os.path.exists(target):
        shutil.copyfile(train_grid, target)


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
