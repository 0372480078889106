"""An experiment: its folder and the training loop, which writes its logs, sample grids
and checkpoints."""
import json
import math
import os
import re
import shlex
import signal
import time

import numpy as np

from binarygan import Diverged, Interrupted, UserError, configure
from binarygan.checkpoints import (Counters, checkpoint_counters, find_checkpoint, restore,
                                   save_checkpoint, training_checkpoint)
from binarygan.data import BatchSampler, load_training_data
from binarygan.estimators import gumbel_temperature
from binarygan.lock import ExperimentLock
from binarygan.logs import Summaries, open_logs, replacing
from binarygan.progress import Progress
from binarygan.stop_signals import StopSignals


def critic_steps_for(step, train_config):
    """Critic steps before generator step ``step`` (0-based)."""
    tc = train_config
    if step < tc['warmup_steps'] or step % tc['n_critic_warmup_every'] == 0:
        return tc['n_critic_warmup']
    return tc['n_critic']


def critic_steps_before(step, train_config):
    """Critic steps of generator steps 0 to ``step`` - 1: the sum of critic_steps_for."""
    tc = train_config
    first, every = tc['warmup_steps'], tc['n_critic_warmup_every']
    # The first steps, then the multiples of `every` from `first` on.
    warmup = min(step, first) + max(0, -(-step // every) - -(-first // every))
    return tc['n_critic'] * step + (tc['n_critic_warmup'] - tc['n_critic']) * warmup


def sample_due(step, train_config):
    tc = train_config
    return (step % tc['sample_every_steps'] == 0
            or (step < tc['sample_early_until_step']
                and step % tc['sample_early_every_steps'] == 0))


def _shown_value(config, name):
    section, key = name.split('.', 1)
    text = repr(config.get(section, {}).get(key))
    return text if len(text) <= 30 else text[:27] + '...'


def prepare_experiment(config):
    """Check the experiment folder against ``config``; returns the checkpoint to restore:
    the experiment's own latest, else the latest in ``pretrained_dir``, else None."""
    exp_dir = config['exp']['exp_dir']
    saved_config_path = os.path.join(exp_dir, 'config.json')
    if os.path.exists(saved_config_path):
        try:
            with open(saved_config_path) as f:
                saved = json.load(f)
        except (OSError, ValueError) as e:
            raise UserError(f"cannot read {saved_config_path} ({e}): give a new "
                            "exp_name=... to start another experiment") from None
        requested = json.loads(json.dumps(config))
        changed = configure.differences(saved, requested)
        if changed:
            shown = [f"{name} {_shown_value(saved, name)} -> {_shown_value(requested, name)}"
                     for name in changed[:3]]
            more = f" and {len(changed) - 3} more" if len(changed) > 3 else ''
            raise UserError(
                f"experiment {exp_dir} exists with other settings ({'; '.join(shown)}{more}): "
                f"rerun with its settings (saved in config.json) to resume it, or give a "
                "new exp_name=... to start another experiment")
    own = find_checkpoint(exp_dir) if os.path.isdir(exp_dir) else None
    pretrained = config['exp']['pretrained_dir']
    if own is None and pretrained is not None:
        if not os.path.isdir(pretrained):
            what = 'is a file' if os.path.exists(pretrained) else 'does not exist'
            raise UserError(f"pretrained_dir {pretrained} {what}: give an experiment folder "
                            "that has checkpoints/")
        own = find_checkpoint(pretrained)
        if own is None:
            raise UserError(f"pretrained_dir {pretrained} holds no checkpoint: give an "
                            "experiment folder that has checkpoints/")
        at_end = finished(config['train'], *checkpoint_counters(own))
        if at_end:
            raise UserError(f"the checkpoint of pretrained_dir, {own}, is at the end of this "
                            f"training already ({at_end}): give a larger train.num_epoch "
                            "or train.max_steps")
    return own


def finished(train_config, step, epoch):
    """'epoch 20 of 20, step 21860' when training ends at or before ``step`` and
    ``epoch``, else None."""
    num_epoch, max_steps = train_config['num_epoch'], train_config['max_steps']
    if epoch < num_epoch and not (max_steps and step >= max_steps):
        return None
    return f"epoch {epoch} of {num_epoch}, step {step}" + (f" of {max_steps}" if max_steps else '')


def longer_training(train_config, step, epoch, command):
    """How to train a finished experiment further: ``command`` with more epochs or
    steps (or, without a command, the settings to add)."""
    changes = []
    if epoch >= train_config['num_epoch']:
        changes.append(f"train.num_epoch={epoch + 10}")
    if train_config['max_steps'] and step >= train_config['max_steps']:
        changes.append(f"train.max_steps={step + train_config['max_steps']}")
    if command is None:
        return f"rerun the same command with {' '.join(changes)}"
    keys = {change.split('=')[0] for change in changes}
    kept = [arg for arg in command if arg.lstrip('-').split('=')[0] not in keys]
    return shlex.join(kept + changes)


def make_experiment_folder(exp_dir, config):
    """Create the experiment's folders and write its config.json; returns the folders."""
    dirs = {name: os.path.join(exp_dir, name) for name in ('samples', 'logs', 'checkpoints')}
    try:
        for path in dirs.values():
            os.makedirs(path, exist_ok=True)
        with replacing(os.path.join(exp_dir, 'config.json')) as f:
            json.dump(config, f, indent=2)
    except OSError as e:
        raise UserError(f"cannot write the experiment folder {exp_dir}: {e.strerror}") from None
    return dirs


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


def save_samples(gan, z, step, sample_dir, grid, summaries):
    """Save the sample grids of noise ``z`` as PNG files and TensorBoard images."""
    from binarygan.image_io import save_grid
    paths = {}
    for name, images in gan.sample(z).items():
        paths[f'samples/{name}'] = os.path.join(sample_dir, f'step_{step:06d}_{name}.png')
        save_grid(paths[f'samples/{name}'], images.numpy(), grid)
    summaries.png_files(step, paths)


def diverged(what, manager, exp_dir):
    """Diverged, saying what is kept and how to go on with a lower learning rate."""
    latest = manager.latest_checkpoint
    if latest is None:
        return Diverged(f"{what}: training stopped before any checkpoint; try a lower "
                        "learning rate: exp_name=<new name> model.learning_rate=<lower>")
    return Diverged(f"{what}: training stopped; the last good checkpoint, {latest}, is kept; "
                    "to go on from it with a lower learning rate: exp_name=<new name> "
                    f"pretrained_dir={exp_dir} model.learning_rate=<lower>")


def first_nonfinite_loss(d_losses, g_loss):
    """'critic loss nan (critic step 3)' or the like, or None if all are finite."""
    for i, d_loss in enumerate(d_losses):
        if not math.isfinite(d_loss):
            return f"critic loss {d_loss} (critic step {i})"
    return None if math.isfinite(g_loss) else f"generator loss {g_loss}"


def save_training_state(gan, manager, counters, logs, summaries, step, epoch, epoch_totals,
                        exp_dir):
    """Save the training state at ``step``, after the logs up to it are on disk, so
    that a killed run resumes them without a gap; weights that are no longer finite
    are not saved. Returns the checkpoint's path."""
    for log in logs.values():
        log.flush()
    summaries.flush()
    if not gan.weights_are_finite():
        raise diverged(f"the weights are not finite after step {step - 1}", manager, exp_dir)
    return save_checkpoint(manager, counters, step, epoch, epoch_totals)


def check_training_data(images, config):
    """UserError unless the batch size, image shape and sample grid fit ``images``."""
    batch_size, grid = config['model']['batch_size'], tuple(config['train']['sample_grid'])
    if batch_size > len(images):
        raise UserError(f"model.batch_size {batch_size} is larger than the training "
                        f"set ({len(images)} images)")
    if images.shape[1:] != tuple(config['model']['image_shape']):
        raise UserError(f"model.image_shape {tuple(config['model']['image_shape'])} is not "
                        f"the training images' {images.shape[1:]}")
    if grid[0] * grid[1] > len(images):  # samples/x_train.png shows distinct training images
        raise UserError(f"train.sample_grid {grid} needs {grid[0] * grid[1]} training "
                        f"images; the training set has {len(images)}")


def end_of_training_pictures(exp_dir, dirs):
    """Plot the losses (and metrics, when evaluated along training) and animate the
    sample grids; returns the names of what was made."""
    from binarygan.evaluate import plot_along_training
    from binarygan.plots import animate_samples, plot_losses
    made = {'losses.png': plot_losses(os.path.join(dirs['logs'], 'batch.csv'),
                                      os.path.join(exp_dir, 'losses.png')),
            'samples.gif': animate_samples(dirs['samples'], os.path.join(exp_dir, 'samples.gif')),
            'eval/metrics.png': plot_along_training(exp_dir)}
    return [name for name, path in made.items() if path]


def run(config, command=None):
    """Train the experiment described by a resolved ``config``, alone in its folder;
    ``command``: the words of the command that runs it, for the hint on how to go on
    with a finished experiment. Returns the BinaryGAN, or None when the experiment was
    finished already (nothing is written then). Raises Interrupted after SIGINT or
    SIGTERM (with a checkpoint saved) and Diverged when a loss is not finite."""
    with ExperimentLock(config['exp']['exp_dir']) as lock:
        return _run(config, lock, command)


def _run(config, lock, command):
    exp, data, train = config['exp'], config['data'], config['train']
    exp_dir = exp['exp_dir']

    # -- the checkpoint to go on from; a finished experiment is left as it is
    checkpoint_path = prepare_experiment(config)
    if checkpoint_path:
        step, epoch = checkpoint_counters(checkpoint_path)
        at_end = finished(train, step, epoch)
        if at_end:  # only the experiment's own: prepare_experiment refuses a pretrained one
            print(f"experiment {exp_dir} is finished ({at_end}); to train it longer: "
                  f"{longer_training(train, step, epoch, command)}")
            return None

    # -- load the training data
    images = load_training_data(data['training_data'], data['training_data_location'])
    check_training_data(images, config)

    # -- build the model and restore the checkpoint, before anything is written: a
    # checkpoint that does not fit leaves the folder as it was
    import tensorflow as tf
    from binarygan.evaluate import evaluate_along_training
    from binarygan.gan import BinaryGAN
    from binarygan.image_io import save_grid
    try:
        gan = BinaryGAN(config['model'], train, exp['seed'])
        sampler = BatchSampler(images, config['model']['batch_size'], gan.rng)
    except (tf.errors.ResourceExhaustedError, MemoryError) as e:
        shape = re.search(r'shape\[[^\]]*\]', str(e))
        raise UserError("the model does not fit in memory" + (
            f" (a tensor of {shape.group()})" if shape else '') + ": give a smaller "
            "model.z_dim or network") from None
    iteration = gan.iteration_function(sampler)
    counters = Counters()
    checkpoint = training_checkpoint(gan, sampler, counters)
    if checkpoint_path:
        restore(checkpoint, checkpoint_path)
        # Not a pretrained run's rates.
        gan.g_optimizer.learning_rate = config['model']['generator_learning_rate']
        gan.d_optimizer.learning_rate = config['model']['learning_rate']

    # -- the experiment folder
    lock.create_folder()
    dirs = make_experiment_folder(exp_dir, config)
    lock.announce()
    if checkpoint_path:
        print(f"Restored {checkpoint_path} (step {int(counters.step.numpy())}, "
              f"epoch {int(counters.epoch.numpy())}, slope {float(gan.slope.numpy()):.4f})")
    stats = write_model_info(gan, exp_dir, config)
    print(f"Experiment {exp['exp_name']}: {len(images)} images, generator "
          f"{stats['params_g']:,} and discriminator {stats['params_d']:,} parameters")

    # -- the training images and fixed noise of the sample grids
    grid = tuple(train['sample_grid'])
    rng = np.random.RandomState(exp['seed'])
    num_samples = grid[0] * grid[1]
    save_grid(os.path.join(dirs['samples'], 'x_train.png'),
              images[rng.choice(len(images), num_samples, replace=False)], grid)
    sample_z = tf.constant(rng.normal(size=(num_samples, gan.z_dim)), tf.float32)

    # -- counters, checkpoints, logs and progress, continued from the checkpoint
    manager = tf.train.CheckpointManager(checkpoint, dirs['checkpoints'],
                                         max_to_keep=train['checkpoints_to_keep'])
    num_batch = sampler.num_images // config['model']['batch_size']
    max_steps = train['max_steps'] or None
    every = train['checkpoint_every_steps']
    step, epoch = int(counters.step.numpy()), int(counters.epoch.numpy())
    d_sum, g_sum, count, seconds_before = counters.epoch_totals.numpy().tolist()
    epoch_start = time.time() - seconds_before
    # The norm of the generator's gradient and BGAN's effective sample size go into the
    # batch log and TensorBoard; the Gumbel estimators' temperature into TensorBoard only.
    bgan = gan.effective_sample_size is not None
    logs = open_logs(dirs['logs'], step, epoch,
                     ('g_grad_norm',) + (('effective_sample_size',) if bgan else ()))
    summaries = Summaries(dirs['logs'], step)
    all_steps = train['num_epoch'] * num_batch
    progress = Progress(train['verbose'], train['num_epoch'], num_batch,
                        all_steps if max_steps is None else min(max_steps, all_steps),
                        lambda s: critic_steps_before(s, train))

    # -- the loop: one iteration (critic steps and a generator step) per step
    try:
        with StopSignals() as stop:
            while epoch < train['num_epoch'] and (max_steps is None or step < max_steps):
                batch = step - epoch * num_batch
                if batch == 0:
                    sampler.shuffle()
                if train['sample_along_training'] and sample_due(step, train):
                    save_samples(gan, sample_z, step, dirs['samples'], grid, summaries)

                # One iteration, its logs and the check for divergence.
                if gan.temperature is not None and step % train['temperature_every_steps'] == 0:
                    gan.temperature.assign(gumbel_temperature(
                        step, config['model']['initial_temperature'],
                        train['temperature_decay'], train['min_temperature'],
                        train['temperature_every_steps']))
                n_critic = critic_steps_for(step, train)
                start = time.time()
                d_losses, g_loss, penalty = iteration(tf.constant(n_critic, tf.int32),
                                                      tf.constant(batch, tf.int32))
                d_losses, g_loss = d_losses.numpy().tolist(), float(g_loss)
                seconds = time.time() - start
                d_loss, penalty, slope = d_losses[-1], float(penalty), float(gan.slope.numpy())
                for i, value in enumerate(d_losses):
                    logs['step'].write(step, i, value)
                extras = {'g_grad_norm': float(gan.g_grad_norm.numpy())}
                if bgan:
                    extras['effective_sample_size'] = float(gan.effective_sample_size.numpy())
                logs['batch'].write(epoch, batch, step, n_critic, seconds, d_loss, g_loss,
                                    penalty, slope, *extras.values())
                if gan.temperature is not None:
                    extras['temperature'] = float(gan.temperature.numpy())
                summaries.scalars(step, {'d_loss': d_loss, 'g_loss': g_loss,
                                         'gradient_penalty': penalty, 'slope': slope, **extras})
                nonfinite = first_nonfinite_loss(d_losses, g_loss)
                if nonfinite:
                    progress.clear()
                    raise diverged(f"{nonfinite} at step {step} (epoch {epoch + 1}, batch "
                                   f"{batch})", manager, exp_dir)
                progress.iteration(step, n_critic, seconds, d_loss, g_loss)
                d_sum, g_sum, count = d_sum + d_loss, g_sum + g_loss, count + 1
                step += 1

                # The end of an epoch: its log, the slope's annealing, evaluation.
                epoch_done = batch + 1 == num_batch
                if epoch_done:
                    seconds = time.time() - epoch_start
                    progress.epoch(epoch, step, seconds, d_sum / count, g_sum / count, slope)
                    logs['epoch'].write(epoch, step, seconds, d_sum / count, g_sum / count, slope)
                    epoch += 1
                    gan.slope.assign(slope * train['slope_annealing_rate'])
                    scores = evaluate_along_training(gan, config, epoch, step)
                    if scores:
                        summaries.scalars(step, {f'eval/{variant}/{name}': value
                                                 for variant, values in scores.items()
                                                 for name, value in values.items()
                                                 if value is not None})  # raw: no artifacts
                    d_sum, g_sum, count, epoch_start = 0., 0., 0, time.time()

                # A checkpoint; a stop signal stops training here.
                if (epoch_done or step == max_steps or stop.received
                        or (every and step % every == 0)):
                    saved = save_training_state(
                        gan, manager, counters, logs, summaries, step, epoch,
                        [d_sum, g_sum, count, time.time() - epoch_start], exp_dir)
                if stop.received:
                    progress.clear()
                    raise Interrupted(f"{signal.Signals(stop.received).name} after step "
                                      f"{step - 1}: training stopped, checkpoint {saved} "
                                      "saved", stop.received)
        progress.clear()
        if train['sample_along_training']:
            save_samples(gan, sample_z, step, dirs['samples'], grid, summaries)
    finally:
        for log in logs.values():
            log.close()
        summaries.close()

    # -- the end: plots and the animation of the sample grids
    made = end_of_training_pictures(exp_dir, dirs)
    print(f"Done: step {step}, {progress.position(step)}. In {exp_dir}: "
          f"{', '.join(made + ['samples/'])}, logs/ (CSV; TensorBoard: tensorboard --logdir "
          f"{shlex.quote(dirs['logs'])}) and checkpoints/")
    return gan
