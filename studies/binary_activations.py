"""Binary activations in a classifier: seed 002's table (issue 21), rerun in TensorFlow 2.

    python -m studies.binary_activations                          # every row and variant, seed 0
    python -m studies.binary_activations --seeds 0,1,2            # three seeds
    python -m studies.binary_activations --variant reinforce --rows stochastic_reinforce_first
    python -m studies.binary_activations --report-only            # the report from the records

The seed's table (DejasDejas/Pytorch_CNN_vanilla_binary_weights, README; numbers from
MNIST_binary_V2.ipynb at commit 2bcbf895) trains a small MNIST classifier with binary
activations after its first, last or both convolutions: stochastic or deterministic binary
neurons, trained by straight-through or by what it calls REINFORCE. Each row runs in one or
more variants:

- seed: as the seed ran it. Its "REINFORCE" samples (or rounds) the bits and adds no
  score-function term: no gradient reaches the layers before the binary activation, which
  stay at their random initialization.
- reinforce: real REINFORCE for the stochastic "REINFORCE" rows: the layers before a binary
  activation train through the surrogate (L_i - b_i) log p(bits_i | x_i), b_i the batch's
  leave-one-out mean loss; the layers after it through the loss. Deterministic "REINFORCE"
  has no distribution to score: those rows exist only as the seed ran them.
- reinforce_lr_0.01: the same at a tenth of the seed's learning rate; at the seed's 0.1,
  real REINFORCE often falls to chance accuracy.
- annealed: the straight-through rows with the slope multiplied by 1.005 after every epoch
  (the seed's rate, which its runs never applied).

A run is (variant, row, seed) in OUT/<variant>/<row>/seed<k>: a checkpoint per epoch (a
finished run is skipped, an interrupted one resumes from its last epoch, a run that
another process holds is left to it) and epochs.csv. Its record goes to
FIGS_DIR/studies/binary_activations/runs/<variant>/<row>/seed<k>.json, from which alone
the report (results.md and figures beside it) is built.

Exit status: 0 done, 2 bad input, 3 a loss became NaN or infinite, 130 interrupted.
"""
import contextlib
import dataclasses
import os
import sys
import time

import numpy as np

from binarygan import Diverged, UserError, fast, start_tensorflow
from binarygan.checkpoints import restore
from binarygan.data import read_mnist_file
from binarygan.estimators import reinforce_surrogate
from binarygan.lock import ExperimentLock
from binarygan.logs import CsvLog
from experiments import records
from binarygan.exit_status import exit_status
from experiments.cli import Parser, names, seeds, summary
from experiments.in_order import run_in_order
from experiments.records import RECORDS, machine, read_json, read_rows
from studies.binary_activations_network import LAYERS, Classifier
from studies.binary_activations_report import report
from studies.binary_activations_table import (
    BATCH_SIZE, EPOCHS, EVALUATION_BATCH, MNIST_MEAN, MNIST_STD, MOMENTUM, ROWS_BY_NAME,
    TRAIN_SHARE, VARIANTS, gradient_estimator)

STUDY = os.path.join('studies', 'binary_activations')  # under FIGS_DIR


# -- data -------------------------------------------------------------------------------
@dataclasses.dataclass
class Data:
    """Normalized images (N, 28, 28, 1) float32 and int32 labels of the three splits."""
    train_images: np.ndarray
    train_labels: np.ndarray
    validation_images: np.ndarray
    validation_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray

    def sizes(self):
        return {'train': len(self.train_labels), 'validation': len(self.validation_labels),
                'test': len(self.test_labels)}


def prepare_data(train_images, train_labels, test_images, test_labels, seed):
    """The seed's splits and normalization: a random 90% of the training images to train
    on (by ``seed``), the rest to validate; pixels / 255 standardized by MNIST's mean and
    standard deviation."""
    def normalized(images):
        return ((np.asarray(images, np.float32) / 255. - MNIST_MEAN) / MNIST_STD)[..., None]
    order = np.random.RandomState(seed).permutation(len(train_labels))
    train, validation = order[:int(len(order) * TRAIN_SHARE)], order[int(len(order) * TRAIN_SHARE):]
    if len(train) < 2 or not len(validation) or not len(test_labels):
        raise UserError(f"{len(train_labels)} training and {len(test_labels)} test images are "
                        "too few to split into training, validation and test sets")
    labels = np.asarray(train_labels, np.int32)
    return Data(normalized(train_images[train]), labels[train],
                normalized(train_images[validation]), labels[validation],
                normalized(test_images), np.asarray(test_labels, np.int32))


def read_mnist(folder):
    """(train images, train labels, test images, test labels) of an MNIST IDX folder."""
    if not os.path.isdir(folder):
        raise UserError(f"MNIST folder {folder} does not exist (give --mnist DIR)")
    arrays = [read_mnist_file(folder, key) for key in
              ('train_images', 'train_labels', 'test_images', 'test_labels')]
    for images, labels in (arrays[:2], arrays[2:]):
        if len(images) != len(labels):
            raise UserError(f"{folder}: {len(images)} images but {len(labels)} labels")
    return arrays


# -- one run ----------------------------------------------------------------------------
EPOCH_COLUMNS = ('epoch', 'train_loss', 'validation_loss', 'validation_accuracy',
                 'test_loss', 'test_accuracy', 'seconds', 'slope')


def run_folder(out, variant, row, seed):
    return os.path.join(out, variant, row.name, f'seed{seed}')


def run_settings(row, variant, seed, data):
    """What a run is; a run folder resumes only with the same."""
    return {'row': row.name, 'variant': variant, 'seed': seed,
            'gradient_estimator': gradient_estimator(row, variant),
            'batch_size': BATCH_SIZE, 'learning_rate': VARIANTS[variant].learning_rate,
            'momentum': MOMENTUM,
            'slope_annealing_rate': VARIANTS[variant].slope_annealing_rate,
            'images': data.sizes()}


def train_run(run_dir, row, variant, seed, epochs, data, say=print):
    """Train (or resume) the run of ``row`` in ``variant`` with ``seed`` in ``run_dir``
    until it has ``epochs`` epochs; its record (a dict), or None when another process
    is training it. Raises Diverged when a loss is not finite."""
    label = f"[{variant}/{row.name} seed {seed}]"
    with contextlib.ExitStack() as stack:
        try:
            lock = stack.enter_context(ExperimentLock(run_dir))
        except UserError as e:  # in use: several processes can share out a grid
            say(f"{label} skipped: {str(e).split(': wait')[0]}")
            return None
        return train_locked_run(lock, run_dir, row, variant, seed, epochs, data,
                                lambda line: say(f"{label} {line}"))


def train_locked_run(lock, run_dir, row, variant, seed, epochs, data, say):
    import keras
    import tensorflow as tf
    settings = run_settings(row, variant, seed, data)
    stored = read_json(os.path.join(run_dir, 'settings.json'))
    if stored is not None and stored != settings:
        changed = ', '.join(key for key in settings if stored.get(key) != settings[key])
        raise UserError(f"{run_dir} holds a run with other settings ({changed}): give "
                        "another --out, or delete it")

    # Model, optimizer, random streams: built and restored before anything is written.
    keras.utils.set_random_seed(seed)
    model = Classifier(row, gradient_estimator(row, variant))
    initial = {name: [v.numpy() for v in layer.trainable_variables]
               for name, layer in model.layers.items()}
    optimizer = keras.optimizers.SGD(VARIANTS[variant].learning_rate, momentum=MOMENTUM)
    optimizer.build(model.trainable_variables)
    rng = tf.random.Generator.from_seed(seed)  # the stochastic neurons' draws
    epoch_variable = tf.Variable(0, dtype=tf.int64, trainable=False)
    checkpoint = tf.train.Checkpoint(**model.layers, optimizer=optimizer, rng=rng,
                                     epoch=epoch_variable)
    checkpoint_dir = os.path.join(run_dir, 'checkpoints')
    path = tf.train.latest_checkpoint(checkpoint_dir)
    if path:
        restore(checkpoint, path)
    done = int(epoch_variable.numpy())

    lock.create_folder()
    lock.announce()
    if stored is None:
        records.write(os.path.join(run_dir, 'settings.json'), settings)
    manager = tf.train.CheckpointManager(checkpoint, checkpoint_dir, max_to_keep=1)

    def save(epoch):
        epoch_variable.assign(epoch)
        manager.save(checkpoint_number=epoch)
    log_path = os.path.join(run_dir, 'epochs.csv')
    with CsvLog(log_path, EPOCH_COLUMNS, lambda r: int(r['epoch']) <= done) as log:
        if done >= epochs:
            say(f"trained for {done} epochs: skipped")
        else:
            say(f"{'resuming at epoch ' + str(done + 1) if done else 'training'} "
                f"({epochs} epochs)")
            train_epochs(model, optimizer, rng, data, variant, seed, done, epochs,
                         model.estimator == 'reinforce', log, save, say)
    moved = {name: max(float(np.max(np.abs(v.numpy() - start)))
                       for v, start in zip(model.layers[name].trainable_variables, initial[name]))
             for name in LAYERS}
    # When the last epoch was saved, not when this record was written: a skipped run's
    # record keeps its time.
    finished = os.path.getmtime(tf.train.latest_checkpoint(checkpoint_dir) + '.index')
    return run_record(row, variant, seed, settings, epoch_numbers(log_path), moved, finished)


def compiled_train_step(model, optimizer, rng, data, score_function):
    """train_step(indices, slope): one SGD step on those training images; their mean loss."""
    import tensorflow as tf
    train_images = tf.constant(data.train_images)
    train_labels = tf.constant(data.train_labels)
    variables = model.trainable_variables

    @tf.function(input_signature=[tf.TensorSpec([None], tf.int32), tf.TensorSpec([], tf.float32)])
    def train_step(indices, slope):
        images = tf.gather(train_images, indices)
        labels = tf.gather(train_labels, indices)
        with tf.GradientTape() as tape:
            logits, log_prob = model(images, slope, rng, training=True)
            losses = tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits)
            loss = tf.reduce_mean(losses)
            # REINFORCE: the layers before the bits train through the surrogate, those
            # after them through the loss (the bits pass no gradient).
            objective = (loss + reinforce_surrogate(losses, log_prob)) if score_function else loss
        # Zeros where no gradient arrives, as PyTorch's SGD gets from the seed's sampling
        # and rounding: those weights stay exactly as they are.
        gradients = [tf.zeros(v.shape) if g is None else g
                     for g, v in zip(tape.gradient(objective, variables), variables)]
        optimizer.apply_gradients(zip(gradients, variables))
        return loss
    return train_step


def compiled_evaluation(model, rng):
    """evaluate(images, labels, slope): the mean loss and accuracy (%); stochastic neurons
    sample here too, as the seed's."""
    import tensorflow as tf

    @tf.function(input_signature=[tf.TensorSpec([None, 28, 28, 1], tf.float32),
                                  tf.TensorSpec([None], tf.int32), tf.TensorSpec([], tf.float32)])
    def evaluate_batch(images, labels, slope):
        logits, _ = model(images, slope, rng, training=False)
        correct = tf.equal(tf.argmax(logits, axis=1, output_type=tf.int32), labels)
        return (tf.reduce_sum(tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits)),
                tf.reduce_sum(tf.cast(correct, tf.float32)))

    def evaluate(images, labels, slope):
        totals = np.zeros(2)
        for begin in range(0, len(labels), EVALUATION_BATCH):
            end = begin + EVALUATION_BATCH
            totals += [float(t) for t in evaluate_batch(images[begin:end], labels[begin:end],
                                                         slope)]
        return totals[0] / len(labels), 100. * totals[1] / len(labels)
    return evaluate


def train_epochs(model, optimizer, rng, data, variant, seed, done, epochs, score_function,
                 log, save, say):
    """Epochs ``done`` to ``epochs - 1`` (from 0): each trains on the training images in
    the order of (seed, epoch), evaluates on the validation and test images, logs a row,
    then saves the checkpoint (after the row: a row the checkpoint has not seen is dropped
    on resume)."""
    import tensorflow as tf
    train_step = compiled_train_step(model, optimizer, rng, data, score_function)
    evaluate = compiled_evaluation(model, rng)
    count = len(data.train_labels)
    for epoch in range(done, epochs):
        start = time.time()
        slope = tf.constant(VARIANTS[variant].slope(epoch), tf.float32)
        order = np.random.RandomState([seed, epoch]).permutation(count).astype(np.int32)
        # A last batch of one image is left out: REINFORCE's baseline needs another.
        losses = [train_step(order[begin:begin + BATCH_SIZE], slope)
                  for begin in range(0, count - 1, BATCH_SIZE)]
        train_loss = float(tf.reduce_mean(tf.stack(losses)))
        if not np.isfinite(train_loss):
            raise Diverged(f"the training loss of epoch {epoch + 1} is {train_loss}; the "
                           f"checkpoint of epoch {epoch} is kept")
        validation = evaluate(data.validation_images, data.validation_labels, slope)
        test = evaluate(data.test_images, data.test_labels, slope)
        seconds = time.time() - start
        log.write(epoch + 1, train_loss, *validation, *test, seconds, float(slope))
        log.flush()
        save(epoch + 1)
        say(f"epoch {epoch + 1}/{epochs} | {seconds:6.1f} s | train loss {train_loss:.4f} | "
            f"validation loss {validation[0]:.4f} | test loss {test[0]:.4f}, accuracy "
            f"{test[1]:.2f}% | slope {float(slope):.4f}")


def epoch_numbers(path):
    """The rows of a run's epochs.csv, as numbers."""
    return [{key: int(value) if key == 'epoch' else float(value) for key, value in row.items()}
            for row in read_rows(path)]


def run_record(row, variant, seed, settings, epochs, moved, finished):
    """The record of a run: settings, the epochs' numbers, the test numbers the seed's way
    (the epoch of lowest validation loss) and after the last epoch, and how far each
    layer's weights moved from their initialization; FINISHED, seconds since the epoch."""
    import tensorflow as tf
    selected = min(epochs, key=lambda e: e['validation_loss']) if epochs else None
    return {
        'row': row.name, 'label': row.label, 'variant': variant, 'seed': seed,
        'settings': settings, 'epochs': epochs,
        'selected_epoch': selected and selected['epoch'],
        'test_loss': selected and selected['test_loss'],
        'test_accuracy': selected and selected['test_accuracy'],
        'last_test_loss': epochs[-1]['test_loss'] if epochs else None,
        'last_test_accuracy': epochs[-1]['test_accuracy'] if epochs else None,
        'weights_moved': moved,
        'minutes': round(sum(e['seconds'] for e in epochs) / 60, 2),
        'machine': machine(), 'tensorflow': tf.__version__,
        'finished': time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(finished)),
    }


def record_path(figs_dir, record):
    return os.path.join(figs_dir, STUDY, RECORDS, record['variant'], record['row'],
                        f"seed{record['seed']}.json")


# -- command line -----------------------------------------------------------------------
def planned_runs(args):
    """[(variant, row, seed)] the options ask for; UserError when they are not valid."""
    rows = names(args.rows, ROWS_BY_NAME, 'row')
    variants = names(args.variant, VARIANTS, 'variant')
    chosen_seeds = seeds(args.seeds)
    if args.epochs < 1:
        raise UserError(f"--epochs must be at least 1, not {args.epochs}")
    runs = [(variant, ROWS_BY_NAME[name], seed) for variant in variants for name in rows
            for seed in chosen_seeds if VARIANTS[variant].applies(ROWS_BY_NAME[name])]
    if not runs:
        raise UserError(f"variant {args.variant} applies to none of the rows {args.rows}: "
                        "reinforce to the stochastic REINFORCE rows, annealed to the "
                        "straight-through rows")
    return runs


def run(args):
    """Train (or resume) the runs the options ask for, each recorded, then the report."""
    study_dir = os.path.join(args.figs_dir, STUDY)
    if not args.report_only:
        runs = planned_runs(args)
        arrays = read_mnist(args.mnist)
        os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
        fast.set_cpu_options()
        start_tensorflow()

        def train_and_record(planned):
            variant, row, seed = planned
            record = train_run(run_folder(args.out, variant, row, seed), row, variant, seed,
                               args.epochs, prepare_data(*arrays, seed=seed),
                               say=lambda line: print(line, flush=True))
            if record:
                records.write(record_path(args.figs_dir, record), record)
        run_in_order(runs, train_and_record,
                     lambda planned: f'{planned[0]}/{planned[1].name} seed {planned[2]}')
    if not report(study_dir):
        raise UserError(f"no run records in {os.path.join(study_dir, RECORDS)}: run the "
                        "study first")


def main(argv=None):
    parser = Parser(prog='python -m studies.binary_activations',
                    description=summary(__doc__))
    parser.add_argument('--rows', help="comma-separated rows (default: all): "
                        + ', '.join(ROWS_BY_NAME))
    parser.add_argument('--variant', default=','.join(VARIANTS),
                        help="comma-separated variants (default: all): " + ', '.join(VARIANTS))
    parser.add_argument('--seeds', default='0', help="comma-separated seeds (default: 0)")
    parser.add_argument('--epochs', type=int, default=EPOCHS)
    parser.add_argument('--mnist', default=os.path.join('training_data', 'mnist'),
                        help="the folder of the MNIST IDX files")
    parser.add_argument('--out', default=os.path.join('exp', 'studies', 'binary_activations'),
                        help="the runs' folders")
    parser.add_argument('--figs-dir', default='figs',
                        help=f"records and report go to FIGS_DIR/{STUDY}")
    parser.add_argument('--report-only', action='store_true',
                        help="only rebuild the report from the records")
    return exit_status(lambda: run(parser.parse_args(argv)))

if __name__ == '__main__':
    sys.exit(main())
