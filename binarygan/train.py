"""The training loop, which writes an experiment's logs, sample grids and checkpoints
(experiment.py: its folder)."""
import math
import os
import re
import shlex
import signal
import time

import numpy as np

from binarygan import Diverged, Interrupted, UserError
from binarygan.checkpoints import (Counters, checkpoint_counters, restore, save_checkpoint,
                                   training_checkpoint)
from binarygan.data import BatchSampler, load_training_data
from binarygan.estimators import gumbel_temperature
from binarygan.experiment import (check_training_data, finished, longer_training,
                                  make_experiment_folder, prepare_experiment,
                                  write_model_info)
from binarygan.lock import ExperimentLock
from binarygan.logs import Summaries, open_logs
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
    training = prepare_or_resume(config, lock, command)
    if training is None:
        return None
    try:
        with StopSignals() as stop:
            while not training.done():
                training.one_iteration()
                if training.at_epoch_end():
                    training.end_of_epoch()
                training.checkpoint_if_due(stop)
        training.progress.clear()
        training.save_samples_if_on()
    finally:
        training.close_logs()
    return training.finish()


def prepare_or_resume(config, lock, command):
    """The Training of ``config``, restored from the checkpoint to go on from; None when
    the experiment is finished already (nothing is written then). The model is built
    and the checkpoint restored before anything is written: a checkpoint that does
    not fit leaves the folder as it was."""
    exp, data, train = config['exp'], config['data'], config['train']
    checkpoint_path = prepare_experiment(config)
    if checkpoint_path:
        step, epoch = checkpoint_counters(checkpoint_path)
        at_end = finished(train, step, epoch)
        if at_end:  # only the experiment's own: prepare_experiment refuses a pretrained one
            print(f"experiment {exp['exp_dir']} is finished ({at_end}); to train it "
                  f"longer: {longer_training(train, step, epoch, command)}")
            return None
    images = load_training_data(data['training_data'], data['training_data_location'])
    check_training_data(images, config)
    gan, sampler = build_model(config, images)
    training = Training(config, gan, sampler)
    if checkpoint_path:
        restore(training.checkpoint, checkpoint_path)
        # Not a pretrained run's rates.
        gan.g_optimizer.learning_rate = config['model']['generator_learning_rate']
        gan.d_optimizer.learning_rate = config['model']['learning_rate']
    lock.create_folder()
    dirs = make_experiment_folder(exp['exp_dir'], config)
    lock.announce()
    if checkpoint_path:
        print(f"Restored {checkpoint_path} (step {int(training.counters.step.numpy())}, "
              f"epoch {int(training.counters.epoch.numpy())}, slope "
              f"{float(gan.slope.numpy()):.4f})")
    stats = write_model_info(gan, exp['exp_dir'], config)
    print(f"Experiment {exp['exp_name']}: {len(images)} images, generator "
          f"{stats['params_g']:,} and discriminator {stats['params_d']:,} parameters")
    training.start(images, dirs)
    return training


class Training:
    """One run of the training loop, from its first (or resumed) step to its last: the
    model, its batches and compiled iteration, the counters, logs and progress."""

    def __init__(self, config, gan, sampler):
        self.config, self.train, self.exp_dir = config, config['train'], config['exp']['exp_dir']
        self.gan, self.sampler = gan, sampler
        self.iteration = gan.iteration_function(
            sampler, max(self.train['n_critic'], self.train['n_critic_warmup']))
        self.counters = Counters()
        self.checkpoint = training_checkpoint(gan, sampler, self.counters)

    def start(self, images, dirs):
        """In the experiment's folders ``dirs``: the training images' grid, the sample
        grids' fixed noise, and the counters, checkpoints, logs and progress continued
        from the checkpoint."""
        import tensorflow as tf
        from binarygan.image_io import save_grid
        train, gan, self.dirs = self.train, self.gan, dirs
        self.grid = tuple(train['sample_grid'])
        rng = np.random.RandomState(self.config['exp']['seed'])
        num_samples = self.grid[0] * self.grid[1]
        save_grid(os.path.join(self.dirs['samples'], 'x_train.png'),
                  images[rng.choice(len(images), num_samples, replace=False)], self.grid)
        self.sample_z = tf.constant(rng.normal(size=(num_samples, gan.z_dim)), tf.float32)
        self.manager = tf.train.CheckpointManager(self.checkpoint, self.dirs['checkpoints'],
                                                  max_to_keep=train['checkpoints_to_keep'])
        self.num_batch = self.sampler.num_images // self.config['model']['batch_size']
        self.max_steps = train['max_steps'] or None
        self.step, self.epoch = int(self.counters.step.numpy()), int(self.counters.epoch.numpy())
        d_sum, g_sum, count, seconds_before = self.counters.epoch_totals.numpy().tolist()
        self.sums = [d_sum, g_sum, count]
        self.epoch_start = time.time() - seconds_before
        # The norm of the generator's gradient and BGAN's effective sample size go into
        # the batch log and TensorBoard; the Gumbel estimators' temperature into
        # TensorBoard only.
        self.bgan = gan.effective_sample_size is not None
        self.logs = open_logs(self.dirs['logs'], self.step, self.epoch, ('g_grad_norm',) + (
            ('effective_sample_size',) if self.bgan else ()))
        self.summaries = Summaries(self.dirs['logs'], self.step)
        all_steps = train['num_epoch'] * self.num_batch
        self.progress = Progress(
            train['verbose'], train['num_epoch'], self.num_batch,
            all_steps if self.max_steps is None else min(self.max_steps, all_steps),
            lambda s: critic_steps_before(s, train))
        self.saved, self.epoch_ended = None, False

    def done(self):
        return self.epoch >= self.train['num_epoch'] or (
            self.max_steps is not None and self.step >= self.max_steps)

    def at_epoch_end(self):
        return self.step - self.epoch * self.num_batch == self.num_batch

    def save_samples_if_on(self):
        if self.train['sample_along_training']:
            save_samples(self.gan, self.sample_z, self.step, self.dirs['samples'], self.grid,
                         self.summaries)

    def one_iteration(self):
        """The critic steps and the generator step of generator step ``step``, their logs
        and the check for divergence."""
        import tensorflow as tf
        train, gan, step = self.train, self.gan, self.step
        batch = step - self.epoch * self.num_batch
        if batch == 0:
            self.sampler.shuffle()
        if sample_due(step, train):
            self.save_samples_if_on()
        if gan.temperature is not None and step % train['temperature_every_steps'] == 0:
            gan.temperature.assign(gumbel_temperature(
                step, self.config['model']['initial_temperature'], train['temperature_decay'],
                train['min_temperature'], train['temperature_every_steps']))
        n_critic = critic_steps_for(step, train)
        start = time.time()
        d_losses, g_loss, penalty = self.iteration(tf.constant(n_critic, tf.int32),
                                                   tf.constant(batch, tf.int32))
        d_losses, g_loss = d_losses.numpy()[:n_critic].tolist(), float(g_loss)
        seconds = time.time() - start
        d_loss, penalty, slope = d_losses[-1], float(penalty), float(gan.slope.numpy())
        for i, value in enumerate(d_losses):
            self.logs['step'].write(step, i, value)
        extras = {'g_grad_norm': float(gan.g_grad_norm.numpy())}
        if self.bgan:
            extras['effective_sample_size'] = float(gan.effective_sample_size.numpy())
        self.logs['batch'].write(self.epoch, batch, step, n_critic, seconds, d_loss, g_loss,
                                 penalty, slope, *extras.values())
        if gan.temperature is not None:
            extras['temperature'] = float(gan.temperature.numpy())
        self.summaries.scalars(step, {'d_loss': d_loss, 'g_loss': g_loss,
                                      'gradient_penalty': penalty, 'slope': slope, **extras})
        nonfinite = first_nonfinite_loss(d_losses, g_loss)
        if nonfinite:
            self.progress.clear()
            raise diverged(f"{nonfinite} at step {step} (epoch {self.epoch + 1}, batch "
                           f"{batch})", self.manager, self.exp_dir)
        self.progress.iteration(step, n_critic, seconds, d_loss, g_loss)
        self.sums = [self.sums[0] + d_loss, self.sums[1] + g_loss, self.sums[2] + 1]
        self.step += 1

    def end_of_epoch(self):
        """The epoch's log, the slope's annealing, evaluation."""
        from binarygan.evaluate import evaluate_along_training
        d_sum, g_sum, count = self.sums
        seconds, slope = time.time() - self.epoch_start, float(self.gan.slope.numpy())
        self.progress.epoch(self.epoch, self.step, seconds, d_sum / count, g_sum / count, slope)
        self.logs['epoch'].write(self.epoch, self.step, seconds, d_sum / count, g_sum / count,
                                 slope)
        self.epoch += 1
        self.gan.slope.assign(slope * self.train['slope_annealing_rate'])
        scores = evaluate_along_training(self.gan, self.config, self.epoch, self.step)
        if scores:
            self.summaries.scalars(self.step, {f'eval/{variant}/{name}': value
                                               for variant, values in scores.items()
                                               for name, value in values.items()
                                               if value is not None})  # raw: no artifacts
        self.sums, self.epoch_start = [0., 0., 0], time.time()
        self.epoch_ended = True

    def checkpoint_if_due(self, stop):
        """A checkpoint at the end of an epoch, of training, every
        train.checkpoint_every_steps and on a stop signal, which stops training here."""
        every, epoch_ended, self.epoch_ended = (self.train['checkpoint_every_steps'],
                                                self.epoch_ended, False)
        if (epoch_ended or self.step == self.max_steps or stop.received
                or (every and self.step % every == 0)):
            self.saved = save_training_state(
                self.gan, self.manager, self.counters, self.logs, self.summaries, self.step,
                self.epoch, [*self.sums, time.time() - self.epoch_start], self.exp_dir)
        if stop.received:
            self.progress.clear()
            raise Interrupted(f"{signal.Signals(stop.received).name} after step "
                              f"{self.step - 1}: training stopped, checkpoint {self.saved} "
                              "saved", stop.received)

    def close_logs(self):
        for log in self.logs.values():
            log.close()
        self.summaries.close()

    def finish(self):
        """The plots and the animation of the sample grids; returns the model."""
        made = end_of_training_pictures(self.exp_dir, self.dirs)
        print(f"Done: step {self.step}, {self.progress.position(self.step)}. In "
              f"{self.exp_dir}: {', '.join(made + ['samples/'])}, logs/ (CSV; TensorBoard: "
              f"tensorboard --logdir {shlex.quote(self.dirs['logs'])}) and checkpoints/")
        return self.gan


def build_model(config, images):
    """(the BinaryGAN, its batch sampler), UserError when it does not fit in memory."""
    import tensorflow as tf
    from binarygan.gan import BinaryGAN
    try:
        gan = BinaryGAN(config['model'], config['train'], config['exp']['seed'])
        return gan, BatchSampler(images, config['model']['batch_size'], gan.rng)
    except (tf.errors.ResourceExhaustedError, MemoryError) as e:
        shape = re.search(r'shape\[[^\]]*\]', str(e))
        raise UserError("the model does not fit in memory" + (
            f" (a tensor of {shape.group()})" if shape else '') + ": give a smaller "
            "model.z_dim or network") from None
