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
import csv
import dataclasses
import json
import os
import statistics
import sys
import time

import numpy as np

from binarygan import Diverged, UserError, fast, start_tensorflow
from binarygan.checkpoints import restore
from binarygan.data import read_mnist_file
from binarygan.estimators import bernoulli_log_prob, reinforce_surrogate
from binarygan.lock import ExperimentLock
from binarygan.logs import CsvLog, replacing
from experiments.records import machine, read_json
from experiments.statistics import mean_and_spread, shown
from studies import Parser, command

STUDY = os.path.join('studies', 'binary_activations')
RECORDS = 'runs'  # FIGS_DIR/studies/binary_activations/runs/<variant>/<row>/seed<k>.json
SOURCE = ("DejasDejas/Pytorch_CNN_vanilla_binary_weights, MNIST_binary_V2.ipynb at commit "
          "2bcbf895 (2020-03-30), whose outputs are the README's table")

# The seed's training (its main.py, utils/training.py, DataLoader/dataLoaders.py).
EPOCHS = 10
BATCH_SIZE = 64
LEARNING_RATE, MOMENTUM = 0.1, 0.9       # SGD
TRAIN_SHARE = 0.9                        # random_split: 54,000 train, 6,000 validation
MNIST_MEAN, MNIST_STD = 0.1307, 0.3081   # transforms.Normalize
EVALUATION_BATCH = 1000
ANNEALING_RATE = 1.005                   # get_slope: 1.005 ** (epoch - 1)
# log p of a Bernoulli bit drawn with the hard sigmoid's probability: clipped this far
# from 0 and 1, where the hard sigmoid saturates and the logarithm is infinite.
PROBABILITY_FLOOR = 1e-6
LAYERS = ('conv1', 'norm1', 'conv2', 'norm2', 'dense')


@dataclasses.dataclass(frozen=True)
class Row:
    """A row of the seed's table: binary neurons ('stochastic', 'deterministic' or None)
    after the 'first', 'last' or 'both' convolutions, trained by 'straight_through' or
    'reinforce' (the seed's word), and the seed's test loss and accuracy (%)."""
    neuron: str
    estimator: str
    layers: str
    seed_loss: float
    seed_accuracy: float

    @property
    def name(self):
        return '_'.join((self.neuron, self.estimator, self.layers)) if self.neuron else 'no_binary'

    @property
    def label(self):
        """The seed's words for the row."""
        if not self.neuron:
            return "No binary models"
        return (f"{self.neuron.capitalize()} binary model in the {self.layers} conv layer with "
                f"{'ST' if self.estimator == 'straight_through' else 'REINFORCE'}")

    @property
    def binary(self):
        """Whether the activation after each convolution is binary."""
        return {'first': (True, False), 'last': (False, True), 'both': (True, True),
                None: (False, False)}[self.layers]


ROWS = [
    Row(None, None, None, 0.0341, 98.79),
    Row('stochastic', 'straight_through', 'first', 0.0539, 98.29),
    Row('stochastic', 'straight_through', 'last', 0.0534, 98.31),
    Row('stochastic', 'straight_through', 'both', 0.0710, 97.54),
    Row('stochastic', 'reinforce', 'first', 0.0749, 97.56),
    Row('stochastic', 'reinforce', 'last', 1.2811, 88.95),
    Row('stochastic', 'reinforce', 'both', 3.2085, 80.68),
    Row('deterministic', 'straight_through', 'first', 0.03912, 98.65),
    Row('deterministic', 'straight_through', 'last', 0.0743, 97.81),
    Row('deterministic', 'straight_through', 'both', 0.0745, 97.57),
    Row('deterministic', 'reinforce', 'first', 0.0684, 97.76),
    Row('deterministic', 'reinforce', 'last', 0.5569, 95.42),
    Row('deterministic', 'reinforce', 'both', 0.8538, 93.40),
]
ROWS_BY_NAME = {row.name: row for row in ROWS}

@dataclasses.dataclass(frozen=True)
class Variant:
    """A way to run the table: the rows it covers (those of ``neuron`` and ``estimator``;
    None: any), whether the seed's stochastic "REINFORCE" trains by real REINFORCE, the SGD
    learning rate and the slope's growth per epoch."""
    description: str
    neuron: str = None
    estimator: str = None
    real_reinforce: bool = False
    learning_rate: float = LEARNING_RATE
    slope_annealing_rate: float = 1.

    def applies(self, row):
        return self.neuron in (None, row.neuron) and self.estimator in (None, row.estimator)

    def slope(self, epoch):
        """The slope of epoch ``epoch`` (from 0)."""
        return self.slope_annealing_rate ** epoch


VARIANTS = {
    'seed': Variant('as the seed ran it: slope 1; its "REINFORCE" passes no gradient through '
                    'the bits'),
    'reinforce': Variant('real REINFORCE (leave-one-out baseline) for the stochastic '
                         '"REINFORCE" rows', 'stochastic', 'reinforce', real_reinforce=True),
    'reinforce_lr_0.01': Variant('the same at learning rate 0.01', 'stochastic', 'reinforce',
                                 real_reinforce=True, learning_rate=0.01),
    'annealed': Variant(f'straight-through with the slope ×{ANNEALING_RATE} after every epoch',
                        estimator='straight_through', slope_annealing_rate=ANNEALING_RATE),
}


def gradient_estimator(row, variant):
    """How the layers before the row's binary activations train in ``variant``:
    'straight_through', 'stop_gradient' (the seed's "REINFORCE": they do not) or
    'reinforce'."""
    if row.estimator == 'reinforce':
        return 'reinforce' if VARIANTS[variant].real_reinforce else 'stop_gradient'
    return row.estimator


# -- the network ------------------------------------------------------------------------
def hard_sigmoid(x, slope):
    """The seed's activation (hardtanh(slope * x) + 1) / 2 (utils/functions.py): a ramp of
    gradient slope / 2 from x = -1 / slope to 1 / slope, flat outside; not the logistic
    sigmoid. Also its stochastic binary neurons' probability of a 1."""
    import tensorflow as tf
    return (tf.clip_by_value(slope * x, -1., 1.) + 1.) / 2.


def binarize(probabilities, neuron, rng):
    """Exact 0/1 bits: stochastic binary neurons draw 1 with the probability (from ``rng``,
    a tf.random.Generator); deterministic ones round it, as torch.round does on [0, 1]."""
    import tensorflow as tf
    if neuron == 'stochastic':
        draws = rng.uniform(tf.shape(probabilities), dtype=probabilities.dtype)
        return tf.cast(draws < probabilities, probabilities.dtype)
    return tf.cast(probabilities > 0.5, probabilities.dtype)


def straight_through(bits, probabilities):
    """``bits`` forward; backward, the gradient passes unchanged to ``probabilities``, whose
    own gradient then takes the hard sigmoid's derivative: the seed's RoundST and
    BernoulliST, through which autograd goes on into its Hardsigmoid."""
    import tensorflow as tf

    # A custom gradient, not probabilities + stop_gradient(bits - probabilities), whose
    # forward value is not exactly 0/1 in floating point.
    @tf.custom_gradient
    def identity_backward(p):
        return bits, lambda upstream: upstream
    return identity_backward(probabilities)


def bits_log_prob(bits, probabilities):
    """log p(bits) of independent Bernoulli bits, summed over all axes but the first. The
    hard sigmoid reaches 0 and 1, whose logarithms are infinite: clipped off them, a
    saturated unit (whose bit is certain) adds about 0 and no gradient. Scored by the
    project's bernoulli_log_prob from the logits log p - log(1 - p)."""
    import tensorflow as tf
    p = tf.clip_by_value(probabilities, PROBABILITY_FLOOR, 1. - PROBABILITY_FLOOR)
    return bernoulli_log_prob(bits, tf.math.log(p) - tf.math.log1p(-p))


class Classifier:
    """The seed's network (29,034 parameters): twice convolution 5x5 ('same'; 16, then 32
    channels), batch normalization, max pooling 2 and an activation (the hard sigmoid or
    binary neurons), then a dense layer of 10 logits. Initialized as PyTorch does:
    weights and biases uniform in +-1 / sqrt(fan_in)."""

    def __init__(self, row, estimator):
        import keras
        self.neuron, self.estimator, self.binary = row.neuron, estimator, row.binary

        def torch_init(fan_in):
            bound = fan_in ** -0.5
            return dict(kernel_initializer=keras.initializers.RandomUniform(-bound, bound),
                        bias_initializer=keras.initializers.RandomUniform(-bound, bound))

        def batch_norm():  # PyTorch's momentum 0.1 and epsilon
            return keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5)
        self.layers = {
            'conv1': keras.layers.Conv2D(16, 5, padding='same', **torch_init(1 * 25)),
            'norm1': batch_norm(),
            'conv2': keras.layers.Conv2D(32, 5, padding='same', **torch_init(16 * 25)),
            'norm2': batch_norm(),
            'dense': keras.layers.Dense(10, **torch_init(7 * 7 * 32)),
        }
        # Built here, in this order, so that a seed gives the same initialization.
        for name, shape in (('conv1', (None, 28, 28, 1)), ('norm1', (None, 28, 28, 16)),
                            ('conv2', (None, 14, 14, 16)), ('norm2', (None, 14, 14, 32)),
                            ('dense', (None, 7 * 7 * 32))):
            self.layers[name].build(shape)
        self.pool = keras.layers.MaxPooling2D(2)
        self.flatten = keras.layers.Flatten()

    @property
    def trainable_variables(self):
        return [v for layer in self.layers.values() for v in layer.trainable_variables]

    def __call__(self, images, slope, rng, training):
        """(logits, log p of the bits per image): the latter for REINFORCE, else 0."""
        import tensorflow as tf
        layers = self.layers
        x, log_prob = images, 0.
        for conv, norm, binary in (('conv1', 'norm1', self.binary[0]),
                                   ('conv2', 'norm2', self.binary[1])):
            x = self.pool(layers[norm](layers[conv](x), training=training))
            probabilities = hard_sigmoid(x, slope)
            if not binary:
                x = probabilities
                continue
            bits = binarize(probabilities, self.neuron, rng)
            if self.estimator == 'straight_through':
                x = straight_through(bits, probabilities)
                continue
            x = tf.stop_gradient(bits)
            if self.estimator == 'reinforce':
                log_prob += bits_log_prob(bits, probabilities)
        return layers['dense'](self.flatten(x)), log_prob


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
        with replacing(os.path.join(run_dir, 'settings.json')) as f:
            json.dump(settings, f, indent=1)
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
    return run_record(row, variant, seed, settings, read_rows(log_path), moved, finished)


def train_epochs(model, optimizer, rng, data, variant, seed, done, epochs, score_function,
                 log, save, say):
    """Epochs ``done`` to ``epochs - 1`` (from 0): each trains on the training images in
    the order of (seed, epoch), evaluates on the validation and test images, logs a row,
    then saves the checkpoint (after the row: a row the checkpoint has not seen is dropped
    on resume)."""
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

    @tf.function(input_signature=[tf.TensorSpec([None, 28, 28, 1], tf.float32),
                                  tf.TensorSpec([None], tf.int32), tf.TensorSpec([], tf.float32)])
    def evaluate_batch(images, labels, slope):
        logits, _ = model(images, slope, rng, training=False)
        correct = tf.equal(tf.argmax(logits, axis=1, output_type=tf.int32), labels)
        return (tf.reduce_sum(tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits)),
                tf.reduce_sum(tf.cast(correct, tf.float32)))

    def evaluate(images, labels, slope):
        """Mean loss and accuracy (%); stochastic neurons sample here too, as the seed's."""
        totals = np.zeros(2)
        for begin in range(0, len(labels), EVALUATION_BATCH):
            end = begin + EVALUATION_BATCH
            totals += [float(t) for t in evaluate_batch(images[begin:end], labels[begin:end],
                                                         slope)]
        return totals[0] / len(labels), 100. * totals[1] / len(labels)

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


def read_rows(path):
    with open(path, newline='') as f:
        return [{key: int(value) if key == 'epoch' else float(value)
                 for key, value in row.items()} for row in csv.DictReader(f)]


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


def record_path(figs_dir, variant, row_name, seed):
    return os.path.join(figs_dir, STUDY, RECORDS, variant, row_name, f'seed{seed}.json')


def write_record(record, figs_dir):
    path = record_path(figs_dir, record['variant'], record['row'], record['seed'])
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with replacing(path) as f:
        json.dump(record, f, indent=1)
    return path


# -- report -----------------------------------------------------------------------------
def load_records(figs_dir):
    """{(variant, row): [records, by seed]} of the records under FIGS_DIR."""
    records = {}
    base = os.path.join(figs_dir, STUDY, RECORDS)
    for parent, _, names in sorted(os.walk(base)):
        for name in sorted(names):
            if name.endswith('.json'):
                record = read_json(os.path.join(parent, name))
                records.setdefault((record['variant'], record['row']), []).append(record)
    return records


def numbers_table(records, loss_key, accuracy_key):
    lines = ["| row | the seed's label | the seed's loss | the seed's accuracy | "
             + " | ".join(f"`{variant}` loss | `{variant}` accuracy" for variant in VARIANTS)
             + " | Δ accuracy, `seed` − the seed's (points) |",
             "|---|---|---|---|" + "---|---|" * len(VARIANTS) + "---|"]
    for row in ROWS:
        cells = []
        for variant in VARIANTS:
            runs = records.get((variant, row.name))
            if not VARIANTS[variant].applies(row):
                cells.append("n/a | n/a")
            elif not runs:
                cells.append("not run | not run")
            else:
                cells.append(f"{shown([r[loss_key] for r in runs], 4)} | "
                             f"{shown([r[accuracy_key] for r in runs], 2)}")
        ours = records.get(('seed', row.name))
        difference = '—'
        if ours:
            change = statistics.mean(r[accuracy_key] for r in ours) - row.seed_accuracy
            difference = f"{change:+.2f}" + (" (within a point)" if abs(change) <= 1. else "")
        lines.append(f"| `{row.name}` | {row.label} | {row.seed_loss} | {row.seed_accuracy:.2f} | "
                     + " | ".join(cells) + f" | {difference} |")
    return lines


def moved_table(records):
    """Which layers training moved from their initialization, per run kind."""
    lines = ["| variant | row | layers left exactly at initialization | largest weight change "
             "per layer (" + ", ".join(LAYERS) + ") |", "|---|---|---|---|"]
    for variant in VARIANTS:
        for row in ROWS:
            runs = records.get((variant, row.name))
            if not runs:
                continue
            frozen = [name for name in LAYERS if all(r['weights_moved'][name] == 0. for r in runs)]
            largest = ', '.join(f"{max(r['weights_moved'][name] for r in runs):.3g}"
                                for name in LAYERS)
            lines.append(f"| {variant} | `{row.name}` | {', '.join(frozen) or 'none'} | "
                         f"{largest} |")
    return lines


def results_markdown(records):
    every = [r for runs in records.values() for r in runs]
    machines = sorted({r['machine'] for r in every})
    minutes = [r['minutes'] / len(r['epochs']) for r in every if r['epochs']]
    lines = [
        "# Binary activations in a classifier (seed 002)", "",
        f"The seed's table, from {SOURCE}, beside this project's TensorFlow runs of the "
        "same network and training: conv 5×5 (16) + batch normalization + max pooling → "
        "activation → conv 5×5 (32) + batch normalization + max pooling → activation → "
        "dense (10); SGD, learning rate 0.1, momentum 0.9, batch 64, "
        f"{EPOCHS} epochs on a random 90% of the 60,000 training images; the activation is "
        "the hard sigmoid (hardtanh(slope·x) + 1) / 2 or binary neurons drawing from it. "
        "Test numbers on the 10,000 test images, the seed's way: the epoch of lowest loss "
        "on the 6,000 held-out training images. Mean ± standard deviation (number of "
        "seeds) where there are several. Built by `python -m studies.binary_activations "
        "--report-only` from the records in `runs/`; see docs/binary_activations.md.", "",
        "Variants: " + '; '.join(f"**{name}**: {variant.description}"
                                 for name, variant in VARIANTS.items())
        + ". n/a: the variant does not apply to the row (deterministic neurons have no "
        "distribution for REINFORCE to score; annealing is a straight-through trick).", "",
        "## Test loss and accuracy (%), the seed's way", ""]
    lines += numbers_table(records, 'test_loss', 'test_accuracy')
    lines += ["", "## After the last epoch", ""]
    lines += numbers_table(records, 'last_test_loss', 'last_test_accuracy')
    lines += ["", "## What trained", "",
              "Layers whose weights did not change at all, in every seed's run: the seed's "
              "\"REINFORCE\" leaves the layers before its binary activations at their "
              "initialization.", ""]
    lines += moved_table(records)
    if minutes:
        lines += ["", f"{len(every)} runs; {statistics.mean(minutes):.2f} min per epoch on "
                  f"average on {'; '.join(machines)}."]
    return '\n'.join(lines) + '\n'


def plot_report(records, folder):
    """test_accuracy.png: test accuracy along training, a panel per variant and a line per
    row (mean over seeds); accuracy_vs_seed.png: each row's accuracy beside the seed's."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator
    figure = Figure(figsize=(6 * len(VARIANTS), 5))
    for axes, variant in zip(figure.subplots(1, len(VARIANTS), sharey=True), VARIANTS):
        for row in ROWS:
            runs = records.get((variant, row.name))
            if runs:
                length = min(len(r['epochs']) for r in runs)
                axes.plot(range(1, length + 1),
                          [statistics.mean(r['epochs'][i]['test_accuracy'] for r in runs)
                           for i in range(length)], marker='.', label=row.name)
        axes.set(title=variant, xlabel='epoch', ylabel='test accuracy (%)')
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.grid(alpha=0.3)
        if axes.lines:
            axes.legend(fontsize='x-small')
    figure.tight_layout()
    figure.savefig(os.path.join(folder, 'test_accuracy.png'), dpi=100)

    figure = Figure(figsize=(9, 6))
    axes = figure.subplots()
    positions = range(len(ROWS))
    axes.scatter([row.seed_accuracy for row in ROWS], positions, marker='x', color='black',
                 label="the seed's table", zorder=3)
    for variant in VARIANTS:
        found = [(i, [r['test_accuracy'] for r in records[(variant, row.name)]])
                 for i, row in enumerate(ROWS) if records.get((variant, row.name))]
        if found:
            axes.errorbar([mean_and_spread(v)[0] for _, v in found], [i for i, _ in found],
                          xerr=[mean_and_spread(v)[1] for _, v in found], fmt='o',
                          label=variant, alpha=0.8)
    axes.set_yticks(list(positions), [row.name for row in ROWS], fontsize='small')
    axes.invert_yaxis()
    axes.set(xlabel='test accuracy (%)')
    axes.grid(alpha=0.3)
    axes.legend(fontsize='small')
    figure.tight_layout()
    figure.savefig(os.path.join(folder, 'accuracy_vs_seed.png'), dpi=100)


def report(figs_dir):
    """results.md and the figures in FIGS_DIR/studies/binary_activations from the records
    alone; False, with nothing written, when there is none."""
    records = load_records(figs_dir)
    if not records:
        return False
    folder = os.path.join(figs_dir, STUDY)
    plot_report(records, folder)
    with replacing(os.path.join(folder, 'results.md')) as f:
        f.write(results_markdown(records))
    print(f"Report: results.md, test_accuracy.png and accuracy_vs_seed.png in {folder}")
    return True


# -- command line -----------------------------------------------------------------------
def names(text, valid, what):
    chosen = [name for name in text.split(',') if name]
    unknown = [name for name in chosen if name not in valid]
    if unknown or not chosen:
        raise UserError(f"unknown {what} {(unknown[0] if unknown else text)!r}; valid: "
                        f"{', '.join(valid)}")
    return chosen


def seeds(text):
    try:
        values = [int(value) for value in text.split(',')]
    except ValueError:
        raise UserError(f"--seeds takes integers separated by commas, not {text!r}") from None
    if any(value < 0 for value in values) or len(set(values)) != len(values):
        raise UserError(f"--seeds takes distinct integers from 0, not {text!r}")
    return values


def planned_runs(args):
    """[(variant, row, seed)] the options ask for; UserError when they are not valid."""
    rows = names(args.rows, ROWS_BY_NAME, 'row') if args.rows else list(ROWS_BY_NAME)
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


def main(argv=None):
    parser = Parser(prog='python -m studies.binary_activations',
                    description=__doc__.split('\n')[0])
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

    def run():
        args = parser.parse_args(argv)
        if not args.report_only:
            runs = planned_runs(args)
            arrays = read_mnist(args.mnist)
            os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
            fast.set_cpu_options()
            start_tensorflow()
            for number, (variant, row, seed) in enumerate(runs, 1):
                print(f"== run {number}/{len(runs)}: {variant}/{row.name} seed {seed}",
                      flush=True)
                record = train_run(run_folder(args.out, variant, row, seed), row, variant, seed,
                                   args.epochs, prepare_data(*arrays, seed=seed),
                                   say=lambda line: print(line, flush=True))
                if record:
                    write_record(record, args.figs_dir)
        if not report(args.figs_dir):
            raise UserError(f"no run records in {os.path.join(args.figs_dir, STUDY, RECORDS)}: "
                            "run the study first")
    return command(run)


if __name__ == '__main__':
    sys.exit(main())
