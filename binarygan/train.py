"""An experiment: its folder, the training loop, logs, samples and checkpoints."""
import csv
import json
import os
import sys
import time

import numpy as np

from binarygan import UserError, configure
from binarygan.data import load_training_data


def critic_steps_for(step, train_config):
    """Critic steps before generator step ``step`` (0-based)."""
    tc = train_config
    if step < tc['warmup_steps'] or step % tc['n_critic_warmup_every'] == 0:
        return tc['n_critic_warmup']
    return tc['n_critic']


def sample_due(step, train_config):
    tc = train_config
    return (step % tc['sample_every_steps'] == 0
            or (step < tc['sample_early_until_step']
                and step % tc['sample_early_every_steps'] == 0))


class CsvLog:
    """An appendable CSV log that, on resume, drops rows the checkpoint has not seen."""

    def __init__(self, path, header, keep_row):
        rows = []
        if os.path.exists(path):
            with open(path, newline='') as f:
                rows = [row for row in csv.DictReader(f) if keep_row(row)]
        self.file = open(path, 'w', newline='')
        self.writer = csv.writer(self.file)
        self.writer.writerow(header)
        for row in rows:
            self.writer.writerow(row[name] for name in header)

    def write(self, *values):
        self.writer.writerow(f'{v:.6g}' if isinstance(v, float) else v for v in values)

    def close(self):
        self.file.close()


def find_checkpoint(folder):
    """The latest checkpoint in an experiment folder or a checkpoints folder, or None."""
    import tensorflow as tf
    for candidate in (os.path.join(folder, 'checkpoints'), folder):
        path = tf.train.latest_checkpoint(candidate)
        if path:
            return path
    return None


def prepare_experiment(config):
    """Check the experiment folder against ``config``; returns the checkpoint to restore:
    the experiment's own latest, else the latest in ``pretrained_dir``, else None."""
    exp_dir = config['exp']['exp_dir']
    saved_config_path = os.path.join(exp_dir, 'config.json')
    if os.path.exists(saved_config_path):
        with open(saved_config_path) as f:
            saved = json.load(f)
        changed = configure.differences(saved, json.loads(json.dumps(config)))
        if changed:
            raise UserError(
                f"experiment {exp_dir} exists with a different configuration "
                f"({', '.join(changed)}): give a new exp_name=... to start another "
                "experiment, or rerun with the saved settings to resume it")
    own = find_checkpoint(exp_dir) if os.path.isdir(exp_dir) else None
    pretrained = config['exp']['pretrained_dir']
    if own is None and pretrained is not None:
        own = find_checkpoint(pretrained)
        if own is None:
            raise UserError(f"pretrained_dir {pretrained} holds no checkpoint")
    return own


def restore(gan, checkpoint_path):
    import tensorflow as tf
    try:
        gan.checkpoint.restore(checkpoint_path).assert_existing_objects_matched()
    except (AssertionError, ValueError, tf.errors.OpError) as e:
        first_line = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise UserError(f"checkpoint {checkpoint_path} does not fit this model "
                        f"(another architecture?): {first_line}") from None


def write_model_info(gan, exp_dir, config):
    from binarygan.networks import count_params, summary
    with open(os.path.join(exp_dir, 'model_summary.txt'), 'w') as f:
        f.write(f"{summary(gan.generator)}\n\n{summary(gan.discriminator)}\n")
    stats = {'params_g': count_params(gan.generator),
             'params_d': count_params(gan.discriminator),
             'preset_g': config['model']['preset_g'],
             'preset_d': config['model']['preset_d']}
    stats['params_total'] = stats['params_g'] + stats['params_d']
    with open(os.path.join(exp_dir, 'model_stats.json'), 'w') as f:
        json.dump(stats, f, indent=2)
    return stats


class Progress:
    """One line per epoch; a live line with speed and ETA when stdout is a terminal."""

    def __init__(self, verbose, num_epoch, num_batch):
        self.verbose, self.num_epoch, self.num_batch = verbose, num_epoch, num_batch
        self.live = sys.stdout.isatty() and not verbose
        self.last_print = 0.

    def iteration(self, epoch, batch, step, seconds, d_loss, g_loss, elapsed, done):
        if self.verbose:
            print(f"epoch {epoch:3d} | batch {batch:5d}/{self.num_batch} | step {step:6d} | "
                  f"{seconds * 1e3:7.1f} ms | d_loss {d_loss:10.4f} | g_loss {g_loss:10.4f}",
                  flush=True)
        elif self.live and time.time() - self.last_print > 0.5:
            self.last_print = time.time()
            rate = done / max(elapsed, 1e-9)
            eta = (self.num_batch - batch - 1) / max(rate, 1e-9)
            print(f"\repoch {epoch + 1}/{self.num_epoch} {batch + 1}/{self.num_batch} "
                  f"| {rate:5.1f} it/s | ETA {eta:5.0f} s | d_loss {d_loss:9.4f} "
                  f"| g_loss {g_loss:9.4f}   ", end='', flush=True)

    def epoch(self, epoch, step, seconds, d_loss, g_loss, slope):
        if self.live:
            print('\r' + ' ' * 100 + '\r', end='')
        print(f"epoch {epoch + 1:3d}/{self.num_epoch} | step {step:6d} | {seconds:7.1f} s | "
              f"d_loss {d_loss:10.4f} | g_loss {g_loss:10.4f} | slope {slope:.4f}",
              flush=True)


def save_samples(gan, z, step, sample_dir, grid):
    from binarygan.image_io import save_grid
    for name, images in gan.sample(z).items():
        save_grid(os.path.join(sample_dir, f'step_{step:06d}_{name}.png'),
                  images.numpy(), grid)


def run(config):
    """Train the experiment described by a resolved ``config``."""
    exp, data, train = config['exp'], config['data'], config['train']
    checkpoint_path = prepare_experiment(config)
    images = load_training_data(data['training_data'], data['training_data_location'])
    batch_size = config['model']['batch_size']
    if batch_size > len(images):
        raise UserError(f"model.batch_size {batch_size} is larger than the training "
                        f"set ({len(images)} images)")

    import tensorflow as tf
    if train['deterministic'] and tf.config.threading.get_inter_op_parallelism_threads() != 1:
        try:
            tf.config.threading.set_inter_op_parallelism_threads(1)
        except RuntimeError:  # TensorFlow already started in this process
            print("warning: TensorFlow is already running with several inter-op threads; "
                  "same-seed runs may differ in the last digits", file=sys.stderr)
    from binarygan.evaluate import evaluate_along_training, plot_along_training
    from binarygan.gan import BinaryGAN
    from binarygan.image_io import save_grid

    exp_dir = exp['exp_dir']
    dirs = {name: os.path.join(exp_dir, name) for name in ('samples', 'logs', 'checkpoints')}
    for path in dirs.values():
        os.makedirs(path, exist_ok=True)
    with open(os.path.join(exp_dir, 'config.json'), 'w') as f:
        json.dump(config, f, indent=2)

    gan = BinaryGAN(config['model'], train, images, exp['seed'])
    if checkpoint_path:
        restore(gan, checkpoint_path)
        print(f"Restored {checkpoint_path} (step {int(gan.step.numpy())}, "
              f"epoch {int(gan.epoch.numpy())}, slope {float(gan.slope.numpy()):.4f})")
    stats = write_model_info(gan, exp_dir, config)
    print(f"Experiment {exp['exp_name']}: {len(images)} images, generator "
          f"{stats['params_g']:,} and discriminator {stats['params_d']:,} parameters")

    manager = tf.train.CheckpointManager(gan.checkpoint, dirs['checkpoints'],
                                         max_to_keep=train['checkpoints_to_keep'])
    rng = np.random.RandomState(exp['seed'])
    grid = tuple(train['sample_grid'])
    num_samples = grid[0] * grid[1]
    save_grid(os.path.join(dirs['samples'], 'x_train.png'),
              images[rng.choice(len(images), num_samples, replace=False)], grid)
    sample_z = tf.constant(rng.normal(size=(num_samples, gan.z_dim)), tf.float32)

    num_batch = len(images) // batch_size
    step, epoch = int(gan.step.numpy()), int(gan.epoch.numpy())
    logs = {
        'step': CsvLog(os.path.join(dirs['logs'], 'step.csv'),
                       ('step', 'critic_step', 'd_loss'),
                       lambda row: int(row['step']) < step),
        'batch': CsvLog(os.path.join(dirs['logs'], 'batch.csv'),
                        ('epoch', 'batch', 'step', 'n_critic', 'seconds', 'd_loss',
                         'g_loss', 'gradient_penalty', 'slope'),
                        lambda row: int(row['step']) < step),
        'epoch': CsvLog(os.path.join(dirs['logs'], 'epoch.csv'),
                        ('epoch', 'step', 'seconds', 'd_loss', 'g_loss', 'slope'),
                        lambda row: int(row['epoch']) < epoch),
    }
    progress = Progress(train['verbose'], train['num_epoch'], num_batch)
    max_steps = train['max_steps'] or None
    try:
        while epoch < train['num_epoch'] and (max_steps is None or step < max_steps):
            batch = step - epoch * num_batch
            if batch == 0:
                gan.shuffle()
            epoch_start, d_sum, g_sum, count = time.time(), 0., 0., 0
            while batch < num_batch and (max_steps is None or step < max_steps):
                if train['sample_along_training'] and sample_due(step, train):
                    save_samples(gan, sample_z, step, dirs['samples'], grid)
                n_critic = critic_steps_for(step, train)
                start = time.time()
                d_losses, g_loss, penalty = gan.train_iteration(
                    tf.constant(n_critic, tf.int32), tf.constant(batch, tf.int32))
                d_losses, g_loss = d_losses.numpy(), float(g_loss)
                seconds = time.time() - start
                slope = float(gan.slope.numpy())
                for i, d_loss in enumerate(d_losses):
                    logs['step'].write(step, i, float(d_loss))
                logs['batch'].write(epoch, batch, step, n_critic, seconds,
                                    float(d_losses[-1]), g_loss, float(penalty), slope)
                d_sum, g_sum, count = d_sum + float(d_losses[-1]), g_sum + g_loss, count + 1
                progress.iteration(epoch, batch, step, seconds, float(d_losses[-1]), g_loss,
                                   time.time() - epoch_start, count)
                step, batch = step + 1, batch + 1
            gan.step.assign(step)
            if batch == num_batch:
                slope = float(gan.slope.numpy())
                seconds = time.time() - epoch_start
                progress.epoch(epoch, step, seconds, d_sum / count, g_sum / count, slope)
                logs['epoch'].write(epoch, step, seconds, d_sum / count, g_sum / count, slope)
                epoch += 1
                gan.epoch.assign(epoch)
                gan.slope.assign(slope * train['slope_annealing_rate'])
                evaluate_along_training(gan, config, epoch)
            manager.save(checkpoint_number=step)
    finally:
        for log in logs.values():
            log.close()
    if train['sample_along_training']:
        save_samples(gan, sample_z, step, dirs['samples'], grid)
    plot_along_training(config)
    print(f"Done: step {step}, epoch {epoch}. Samples, logs and checkpoints are in {exp_dir}")
    return gan
