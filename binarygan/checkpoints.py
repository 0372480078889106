"""An experiment's checkpoints: where the latest is, what it holds, saving and restoring.

A training checkpoint (checkpoints/ckpt-N, N the generator step) holds the model's
state (``BinaryGAN.state``: networks, optimizers, slope, random streams), the
epoch's image order (``permutation``) and the counters (``step``, ``epoch``,
``epoch_totals``); sampling and evaluation restore only the generator, the slope,
the sampling stream and the counters. TensorFlow is imported when a checkpoint is
first looked at, not with this module.
"""
import os
import tempfile

from binarygan import UserError


def find_checkpoint(folder):
    """The latest checkpoint in an experiment folder or a checkpoints folder, or None."""
    import tensorflow as tf
    for candidate in (os.path.join(folder, 'checkpoints'), folder):
        path = tf.train.latest_checkpoint(candidate)
        if path:
            return path
        index = os.path.join(candidate, 'checkpoint')
        if os.path.exists(index):
            raise UserError(f"{index} names no complete checkpoint (files deleted or "
                            "damaged): restore them from a backup, or start anew with "
                            "another exp_name=...")
    return None


def checkpoint_to_use(exp_dir, checkpoint=None):
    """The path of ``checkpoint`` (a checkpoint, or a folder of them: its latest), or
    of the experiment's latest checkpoint; UserError when there is none."""
    import tensorflow as tf
    if checkpoint is None or os.path.isdir(checkpoint):
        path = find_checkpoint(checkpoint or exp_dir)
        if path is None:
            raise UserError(f"no checkpoint in {checkpoint or exp_dir}: train it first")
        return path
    if not tf.io.gfile.exists(checkpoint + '.index'):
        raise UserError(f"checkpoint {checkpoint} does not exist (give a path such as "
                        f"{os.path.join(exp_dir, 'checkpoints', 'ckpt-1000')})")
    return checkpoint


def checkpoint_counters(path):
    """(step, epoch) of a checkpoint; (0, 0) when it has none (restore says what is
    wrong with it)."""
    import tensorflow as tf
    try:
        reader = tf.train.load_checkpoint(path)
        return tuple(int(reader.get_tensor(f'{name}/.ATTRIBUTES/VARIABLE_VALUE'))
                     for name in ('step', 'epoch'))
    except (ValueError, tf.errors.OpError):
        return 0, 0


class Counters:
    """Where training stands: generator steps and epochs done, and the current epoch's
    loss sums, iterations and seconds (``epoch_totals``), so that an epoch resumed
    from a checkpoint reports the same means."""

    def __init__(self):
        import tensorflow as tf
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name='step')
        self.epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name='epoch')
        self.epoch_totals = tf.Variable(tf.zeros(4, tf.float64), trainable=False,
                                        name='epoch_totals')


def training_checkpoint(gan, sampler, counters):
    """The checkpoint of a training run: the model's state, the image order of
    ``sampler`` (a data.BatchSampler) and the ``counters``. The training images are
    not saved: they are input, not state."""
    import tensorflow as tf
    return tf.train.Checkpoint(**gan.state(), permutation=sampler.permutation,
                               step=counters.step, epoch=counters.epoch,
                               epoch_totals=counters.epoch_totals)


def restore(checkpoint, path):
    """Restore checkpoint file ``path`` into ``checkpoint`` (a tf.train.Checkpoint) once
    every variable of it is known to be in the file with the same shape: a restore
    failing halfway would leave TensorFlow warnings after the error message."""
    import tensorflow as tf
    try:
        found = dict(tf.train.list_variables(path))
    except (ValueError, tf.errors.OpError) as e:
        raise UserError(f"cannot read checkpoint {path}: "
                        f"{str(e).strip().splitlines()[0]}") from None
    with tempfile.TemporaryDirectory() as folder:
        expected = tf.train.list_variables(checkpoint.write(os.path.join(folder, 'model')))
    for key, shape in expected:
        if found.get(key) != shape:
            there = 'missing' if key not in found else f'of shape {found[key]}'
            raise UserError(
                f"checkpoint {path} does not fit this model (another architecture "
                f"or optimizer?): {key.replace('/.ATTRIBUTES/VARIABLE_VALUE', '')} is {there} "
                f"there, of shape {shape} here")
    status = checkpoint.restore(path)
    status.assert_existing_objects_matched()
    status.expect_partial()  # the save counter is created, and restored, at the first save


def save_checkpoint(manager, counters, step, epoch, epoch_totals):
    """Save the training state at generator step ``step`` with ``manager`` (a
    tf.train.CheckpointManager of a training_checkpoint); returns the path."""
    counters.step.assign(step)
    counters.epoch.assign(epoch)
    counters.epoch_totals.assign(epoch_totals)
    return manager.save(checkpoint_number=step)


def restore_for_sampling(gan, path, config_path):
    """Restore the generator, the slope and the sampling stream of ``gan`` from
    checkpoint ``path``, of the experiment that ``config_path`` describes; returns
    the checkpoint's (step, epoch)."""
    import tensorflow as tf
    counters = Counters()
    # Not training_checkpoint: its image order has the training set's length.
    state = tf.train.Checkpoint(generator=gan.generator, slope=gan.slope,
                                sample_rng=gan.sample_rng, step=counters.step,
                                epoch=counters.epoch)
    try:
        state.restore(path).expect_partial().assert_existing_objects_matched()
    except (AssertionError, ValueError, tf.errors.OpError) as e:
        first_line = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise UserError(f"checkpoint {path} does not fit {config_path}: {first_line}") from None
    return int(counters.step.numpy()), int(counters.epoch.numpy())
