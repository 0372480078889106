"""Binarized weights (issue 21, study 2; seed 004's experiment 1): an MLP on MNIST whose
dense layers multiply by binarized weights, beside its full-precision baseline with dropout.

    python -m studies.binarized_weights                  # every configuration, 200 epochs, seed 0
    python -m studies.binarized_weights --configs seed_baseline_dropout --epochs 2
    python -m studies.binarized_weights --seeds 0,1,2    # more seeds of the same runs
    python -m studies.binarized_weights --report-only    # the table and the plot from the records

A binarized layer multiplies by W_b = +1 where W >= 0, else -1 (deterministic), or +1 with
probability hard_sigmoid(W) = clip((W + 1) / 2, 0, 1) (stochastic), in the forward pass and
in the backward pass; the gradient with respect to W_b goes straight through to the
real-valued shadow weights W, which the optimizer updates and then clips to [-1, 1]
(BinaryConnect, Courbariaux et al. 2015). Biases and batch normalization stay real-valued.

Each run (a configuration and a seed) trains in OUT/<config>/seed<k>/: a checkpoint after
every epoch (weights, optimizer, random stream, epoch), epochs.csv (a row per epoch) and
settings.json. A finished run is skipped, an interrupted one resumes from its last epoch;
--epochs beyond a finished run's trains it further. After training, the run's record
(settings, the epoch rows, model size, machine) goes to
FIGS_DIR/studies/binarized_weights/runs/<config>/seed<k>.json; the report (results.md and
training_curves.png beside it) is built from these records alone, so a clone rebuilds it
without the runs.

Exit status: 0 done, 2 bad input, 130 interrupted (rerun the command to resume).
"""
import json
import math
import os
import sys
import time

import numpy as np

from binarygan import UserError, fast, start_tensorflow
from binarygan.data import MISSING_MNIST_HINT, read_mnist_file
from binarygan.logs import CsvLog, replacing
from experiments.records import machine, read_rows
from experiments.statistics import shown
from studies import Parser, command

IMAGE_PIXELS, CLASSES = 784, 10
STUDY = os.path.join('studies', 'binarized_weights')  # under FIGS_DIR
RECORDS = 'runs'
EPOCH_COLUMNS = ('epoch', 'seconds', 'learning_rate', 'train_loss', 'val_accuracy',
                 'test_loss', 'test_accuracy', 'val_accuracy_real_weights',
                 'test_accuracy_real_weights')
# BinaryConnect's batch normalization: moving averages with factor alpha = 0.15, epsilon 1e-4.
BATCH_NORM_MOMENTUM, BATCH_NORM_EPSILON = 0.85, 1e-4

# The seed's MLP as its code trained it (akshaychawla/Binary-Neural-Networks at ff813d5,
# the commit of the seed's results: mnist_baseline.py, mnist_binary.py, layers.py), the
# layer sizes also in its README's figure readme_data/network_arch.jpg; but for two slips
# of that code, fixed here (docs/binarized_weights.md): it never updated its output layer,
# and its dropout mask kept units with probability 0.69, not 0.5.
SEED_MLP = {
    'hidden_units': (2048, 2048, 2048),
    'batch_norm': False,
    'kernel_init': 'normal',  # N(0, 1), the seed's np.random.randn; biases start at 0
    'center_inputs': False,   # pixels in [0, 1]
    'loss': 'cross_entropy',
    'optimizer': 'sgd',
    # The seed's constant 0.001 on its cost "xent.mean()/batch_size": 0.001 / 256 on the
    # batch's mean cross-entropy.
    'learning_rate': 0.001 / 256,
    'learning_rate_decay': 1.,  # per epoch
    'glorot_kernel_steps': False,
    'batch_size': 256,
}
# BinaryConnect's published MNIST setting (MatthieuCourbariaux/BinaryConnect, lasagne
# branch: mnist.py, binary_connect.py): 3 x 2048 units, batch normalization after every
# dense layer, squared hinge loss, Adam from 1e-3 decaying to 3e-6 over 250 epochs, the
# binarized kernels' steps scaled by Glorot's factor, centred pixels, no dropout.
BINARYCONNECT_MLP = {
    'hidden_units': (2048, 2048, 2048),
    'batch_norm': True,
    'kernel_init': 'uniform',  # U(-1, 1): its H = 1
    'center_inputs': True,
    'loss': 'squared_hinge',
    'optimizer': 'adam',
    'learning_rate': 1e-3,
    'learning_rate_decay': (3e-6 / 1e-3) ** (1 / 250),
    'glorot_kernel_steps': True,
    'batch_size': 100,
}
CONFIGS = {
    'seed_baseline_dropout': dict(
        SEED_MLP, binarization=None, dropout=0.5,
        description="the seed's baseline: full precision, dropout 0.5 after each hidden layer"),
    'seed_binary_deterministic': dict(
        SEED_MLP, binarization='deterministic', dropout=0.,
        description="the seed's binarized MLP: W_b = sign(W), no dropout"),
    'seed_binary_stochastic': dict(
        SEED_MLP, binarization='stochastic', dropout=0.,
        description="the seed's binarized MLP with stochastic binarization (its TODO)"),
    'binaryconnect_stochastic': dict(
        BINARYCONNECT_MLP, binarization='stochastic', dropout=0.,
        description="BinaryConnect's MNIST recipe: stochastic, batch normalization, Adam"),
}
# Test accuracies reported for a configuration: (accuracy, source).
REPORTED = {
    'seed_baseline_dropout': (0.9687, "seed 004, 200 epochs"),
    'seed_binary_deterministic': (0.9372, "seed 004, 200 epochs"),
    'binaryconnect_stochastic': (1 - 0.0115, "BinaryConnect's README, 250 epochs, real "
                                             "weights at test"),
}


# -- data -------------------------------------------------------------------------
def load_mnist_splits(folder, validation_images):
    """{'train', 'validation', 'test': (images N x 784 float32 in [0, 1], labels int32)}:
    the last ``validation_images`` of MNIST's training images for validation, the others
    for training (the split of the seed's mnist.pkl.gz and of BinaryConnect's code)."""
    if not os.path.isdir(folder):
        raise UserError(f"MNIST folder {folder} does not exist: {MISSING_MNIST_HINT}")
    splits = {}
    for part in ('train', 'test'):
        images = read_mnist_file(folder, f'{part}_images')
        labels = read_mnist_file(folder, f'{part}_labels')
        if len(images) != len(labels):
            raise UserError(f"{folder}: {len(images)} {part} images but {len(labels)} labels")
        splits[part] = (images.reshape(-1, IMAGE_PIXELS).astype(np.float32) / 255.,
                        labels.astype(np.int32))
    images, labels = splits['train']
    if not 0 < validation_images < len(images):
        raise UserError(f"--validation-images must be from 1 to {len(images) - 1} (the "
                        f"training file of {folder} holds {len(images)} images), not "
                        f"{validation_images}")
    cut = len(images) - validation_images
    splits['train'], splits['validation'] = (images[:cut], labels[:cut]), (images[cut:],
                                                                            labels[cut:])
    return splits


def centred(splits):
    """The splits less the training images' mean per pixel (BinaryConnect centres its
    inputs; its pylearn2 loader took each set's own mean, the training mean here)."""
    mean = splits['train'][0].mean(axis=0)
    return {part: (images - mean, labels) for part, (images, labels) in splits.items()}


# -- the model --------------------------------------------------------------------
def binarized(kernel, rng=None):
    """``kernel`` as exactly +1 or -1 for both passes, the gradient straight through,
    unchanged, to the real-valued kernel. Without ``rng`` (a tf.random.Generator):
    deterministic, +1 where the weight is at least 0; with it: stochastic, +1 where the
    weight is at least a uniform draw from [-1, 1), that is with probability
    clip((w + 1) / 2, 0, 1) = hard_sigmoid(w)."""
    import tensorflow as tf
    threshold = 0. if rng is None else rng.uniform(tf.shape(kernel), -1., 1.)

    @tf.custom_gradient
    def straight_through(weights):
        return tf.where(weights >= threshold, 1., -1.), lambda upstream: upstream
    return straight_through(kernel)


class Classifier:
    """A configuration's MLP (784 -> hidden units -> 10) with its optimizer, random stream
    and epoch counter, which its checkpoint holds, and its compiled steps.

    Each dense layer multiplies by its kernel (binarized or not), adds its bias, then batch
    normalization when configured; the hidden layers go on with ReLU and dropout."""

    def __init__(self, config, seed):
        import keras
        import tensorflow as tf
        self.config = config
        self.rng = tf.random.Generator.from_seed(seed)
        sizes = (IMAGE_PIXELS, *config['hidden_units'], CLASSES)
        self.kernels, self.biases, self.norms = [], [], []
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            initial = (self.rng.normal([n_in, n_out]) if config['kernel_init'] == 'normal'
                       else self.rng.uniform([n_in, n_out], -1., 1.))
            self.kernels.append(tf.Variable(initial, name='kernel'))
            self.biases.append(tf.Variable(tf.zeros([n_out]), name='bias'))
            if config['batch_norm']:
                norm = keras.layers.BatchNormalization(momentum=BATCH_NORM_MOMENTUM,
                                                       epsilon=BATCH_NORM_EPSILON)
                norm.build((None, n_out))
                self.norms.append(norm)
        self.trainable = (self.kernels + self.biases
                          + [v for norm in self.norms for v in norm.trainable_variables])
        self.optimizer = (keras.optimizers.Adam(config['learning_rate'], epsilon=1e-8)
                          if config['optimizer'] == 'adam'
                          else keras.optimizers.SGD(config['learning_rate']))
        self.optimizer.build(self.trainable)  # its slots exist before a restore fills them
        # BinaryConnect's W_LR_scale "Glorot" (with glorot_kernel_steps): a kernel's step
        # times 1 / sqrt(1.5 / (fan_in + fan_out)), from 37 to 52 here.
        self.kernel_step_scales = [1. / math.sqrt(1.5 / sum(kernel.shape))
                                   for kernel in self.kernels]
        self.epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name='epoch')
        self.checkpoint = tf.train.Checkpoint(
            kernels=self.kernels, biases=self.biases, norms=self.norms,
            optimizer=self.optimizer, rng=self.rng, epoch=self.epoch)
        self.train_step = tf.function(self._train_step, input_signature=[
            tf.TensorSpec([None, IMAGE_PIXELS], tf.float32), tf.TensorSpec([None], tf.int32)])
        self._evaluate = tf.function(self._evaluate_set)  # traced once per test rule

    def logits(self, images, training=False, real_weights=False):
        """The class scores. ``training``: stochastic kernels, dropout and batch statistics;
        ``real_weights``: the real-valued kernels (BinaryConnect's test rule for stochastic
        binarization), else, at test, the deterministic binarization."""
        import tensorflow as tf
        binarization = self.config['binarization']
        x = images
        for layer, (kernel, bias) in enumerate(zip(self.kernels, self.biases)):
            if binarization and not real_weights:
                stochastic = training and binarization == 'stochastic'
                kernel = binarized(kernel, self.rng if stochastic else None)
            x = tf.matmul(x, kernel) + bias
            if self.norms:
                x = self.norms[layer](x, training=training)
            if layer < len(self.kernels) - 1:
                x = tf.nn.relu(x)
                if training and self.config['dropout']:
                    x = tf.nn.experimental.stateless_dropout(
                        x, self.config['dropout'], seed=self.rng.make_seeds(1)[:, 0])
        return x

    def loss(self, labels, logits):
        import tensorflow as tf
        if self.config['loss'] == 'squared_hinge':
            # BinaryConnect's: targets +1 for the label's class, -1 for the others
            targets = 2. * tf.one_hot(labels, CLASSES) - 1.
            return tf.reduce_mean(tf.square(tf.nn.relu(1. - targets * logits)))
        return tf.reduce_mean(
            tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))

    def _train_step(self, images, labels):
        """One optimizer step on a batch; its loss."""
        import tensorflow as tf
        with tf.GradientTape() as tape:
            loss = self.loss(labels, self.logits(images, training=True))
        gradients = tape.gradient(loss, self.trainable)
        scaled = self.config['glorot_kernel_steps']
        before = [tf.identity(kernel) for kernel in self.kernels] if scaled else []
        self.optimizer.apply_gradients(zip(gradients, self.trainable))
        for kernel, old, scale in zip(self.kernels, before, self.kernel_step_scales):
            kernel.assign(old + scale * (kernel - old))
        if self.config['binarization']:
            for kernel in self.kernels:
                # Beyond +-1 a shadow weight no longer changes W_b; left there, it would
                # take ever more steps to flip it back.
                kernel.assign(tf.clip_by_value(kernel, -1., 1.))
        return loss

    def train_epoch(self, images, labels):
        """An epoch in a new random order of ``images`` (tensors) with the epoch's learning
        rate; the mean of its batches' losses. Counts the epoch."""
        import tensorflow as tf
        self.optimizer.learning_rate.assign(self.learning_rate())
        order = tf.argsort(self.rng.uniform([int(images.shape[0])]))
        batch_size, losses = self.config['batch_size'], []
        for start in range(0, int(images.shape[0]), batch_size):
            batch = order[start:start + batch_size]
            losses.append(float(self.train_step(tf.gather(images, batch),
                                                tf.gather(labels, batch))))
        self.epoch.assign_add(1)
        return float(np.mean(losses))

    def learning_rate(self):
        """The learning rate of the epoch after those done."""
        return self.config['learning_rate'] * self.config['learning_rate_decay'] ** int(
            self.epoch)

    def _evaluate_set(self, images, labels, real_weights):
        import tensorflow as tf
        logits = self.logits(images, real_weights=real_weights)
        correct = tf.equal(tf.argmax(logits, 1, output_type=tf.int32), labels)
        return self.loss(labels, logits), tf.reduce_mean(tf.cast(correct, tf.float32))

    def evaluate(self, images, labels, real_weights=False):
        """(loss, accuracy) on ``images`` (tensors) at test time."""
        loss, accuracy = self._evaluate(images, labels, real_weights)
        return float(loss), float(accuracy)

    def size_in_bits(self):
        """(bits of the model for inference, bits at 32 per number): a binarized kernel's
        weight takes 1 bit, any other number (biases, batch normalization's scale, shift,
        moving mean and variance) 32."""
        numbers = sum(math.prod(v.shape) for v in self.kernels + self.biases
                      + [v for norm in self.norms for v in norm.weights])
        full_precision = 32 * numbers
        if not self.config['binarization']:
            return full_precision, full_precision
        kernel_weights = sum(math.prod(kernel.shape) for kernel in self.kernels)
        return kernel_weights + 32 * (numbers - kernel_weights), full_precision


# -- runs -------------------------------------------------------------------------
def run_settings(name, seed, validation_images):
    """What a run's folder was trained with: a run resumes only under the same."""
    config = {key: value for key, value in CONFIGS[name].items() if key != 'description'}
    return json.loads(json.dumps({'config': name, 'settings': config, 'seed': seed,
                                  'validation_images': validation_images}))


def check_run_folder(run_dir, settings):
    """UserError when ``run_dir`` holds a run trained with other settings."""
    path = os.path.join(run_dir, 'settings.json')
    if not os.path.exists(path):
        return
    try:
        with open(path) as f:
            stored = json.load(f)
    except (OSError, ValueError) as e:
        raise UserError(f"cannot read {path} ({e}): remove the run folder {run_dir} to "
                        "train it anew") from None
    if stored != settings:
        changed = sorted(key for key in set(stored['settings']) | set(settings['settings'])
                         if stored['settings'].get(key) != settings['settings'].get(key))
        changed += [key for key in ('seed', 'validation_images')
                    if stored.get(key) != settings[key]]
        raise UserError(f"{run_dir} holds a run trained with other settings "
                        f"({', '.join(changed)}): remove it, or give another --out")


def train_run(name, seed, splits, validation_images, run_dir, epochs):
    """Train (or resume) a run until it has ``epochs`` epochs; its epoch rows and model
    size."""
    import tensorflow as tf
    config = CONFIGS[name]
    label = f"[{name}/seed{seed}]"
    classifier = Classifier(config, seed)
    manager = tf.train.CheckpointManager(classifier.checkpoint,
                                         os.path.join(run_dir, 'checkpoints'), max_to_keep=1)
    if manager.latest_checkpoint:
        try:
            classifier.checkpoint.restore(manager.latest_checkpoint).assert_consumed()
        except (AssertionError, ValueError, tf.errors.OpError) as e:
            raise UserError(f"cannot restore {manager.latest_checkpoint} "
                            f"({str(e).splitlines()[0]}): remove the run folder {run_dir} "
                            "to train it anew") from None
    done = int(classifier.epoch)
    os.makedirs(run_dir, exist_ok=True)
    with replacing(os.path.join(run_dir, 'settings.json')) as f:
        json.dump(run_settings(name, seed, validation_images), f, indent=1)
    csv_path = os.path.join(run_dir, 'epochs.csv')
    if done >= epochs:
        print(f"{label} trained for {done} epochs: skipped", flush=True)
        return read_rows(csv_path), classifier.size_in_bits()
    print(f"{label} {'resuming at epoch ' + str(done + 1) if done else 'training'} "
          f"({epochs} epochs)", flush=True)
    parts = centred(splits) if config['center_inputs'] else splits
    tensors = {part: (tf.constant(images), tf.constant(labels))
               for part, (images, labels) in parts.items()}
    stochastic = config['binarization'] == 'stochastic'
    # Rows of epochs the checkpoint has not seen (a run killed in between) are dropped.
    with CsvLog(csv_path, EPOCH_COLUMNS, lambda row: int(row['epoch']) <= done) as log:
        while int(classifier.epoch) < epochs:
            start = time.time()
            learning_rate = classifier.learning_rate()
            train_loss = classifier.train_epoch(*tensors['train'])
            _, val_accuracy = classifier.evaluate(*tensors['validation'])
            test_loss, test_accuracy = classifier.evaluate(*tensors['test'])
            real = ('', '')
            if stochastic:
                real = (classifier.evaluate(*tensors['validation'], real_weights=True)[1],
                        classifier.evaluate(*tensors['test'], real_weights=True)[1])
            epoch, seconds = int(classifier.epoch), time.time() - start
            # The row before the checkpoint: a run killed between them redoes the epoch.
            log.write(epoch, seconds, learning_rate, train_loss, val_accuracy, test_loss,
                      test_accuracy, *real)
            log.flush()
            manager.save(checkpoint_number=epoch)
            print(f"{label} epoch {epoch:3d}/{epochs} | {seconds:6.1f} s | train loss "
                  f"{train_loss:.4g} | val {val_accuracy:.2%} | test {test_accuracy:.2%}"
                  + (f" | real weights: val {real[0]:.2%}, test {real[1]:.2%}"
                     if stochastic else ''), flush=True)
    return read_rows(csv_path), classifier.size_in_bits()


def write_record(path, name, seed, validation_images, rows, size):
    """The run's record: its settings, epoch rows, model size and machine."""
    bits, full_precision_bits = size
    record = dict(run_settings(name, seed, validation_images),
                  description=CONFIGS[name]['description'],
                  epochs=len(rows),
                  rows=[{key: (float(value) if value != '' else None)
                         for key, value in row.items()} for row in rows],
                  size_bits=bits, full_precision_bits=full_precision_bits,
                  machine=machine(),
                  intra_op_threads=os.environ.get('TF_NUM_INTRAOP_THREADS', 'default'),
                  written=time.strftime('%Y-%m-%d %H:%M:%S'))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with replacing(path) as f:
        json.dump(record, f, indent=1)


# -- report -----------------------------------------------------------------------
def load_records(study_dir):
    """{config: [records by seed]} under STUDY_DIR/runs."""
    records = {}
    base = os.path.join(study_dir, RECORDS)
    for name in CONFIGS:
        folder = os.path.join(base, name)
        if not os.path.isdir(folder):
            continue
        for file_name in sorted(os.listdir(folder)):
            if file_name.endswith('.json'):
                with open(os.path.join(folder, file_name)) as f:
                    records.setdefault(name, []).append(json.load(f))
    return records


def selected_test_accuracy(rows, suffix=''):
    """(epoch, test accuracy) at the first epoch of best validation accuracy, as the seed
    and BinaryConnect report it; ``suffix`` '_real_weights' for the real-valued rule."""
    best = max(rows, key=lambda row: row['val_accuracy' + suffix])
    return int(best['epoch']), best['test_accuracy' + suffix]


def megabits(bits):
    return f"{bits / 1e6:.2f} Mbit"


def results_markdown(records):
    lines = [
        "# Binarized weights (seed 004's experiment 1)", "",
        "An MLP 784-2048-2048-2048-10 (ReLU) on MNIST: 50,000 training images, the last "
        "10,000 of MNIST's training file for validation, the 10,000 test images. Test "
        "accuracy at the first epoch of best validation accuracy (the seed's and "
        "BinaryConnect's rule), with the binarized weights sign(W) at test; stochastic "
        "runs also with the real-valued weights W (BinaryConnect's test rule for them). "
        "Model size: 1 bit per binarized weight, 32 bits per other number (biases, batch "
        "normalization). See docs/binarized_weights.md. Built by `python -m "
        "studies.binarized_weights --report-only` from the records in `runs/`.", "",
        "| configuration | epochs | test accuracy % (sign W) | best epoch | with real "
        "weights W % | last epoch % (sign W) | reported % | model size | smaller than at 32 "
        "bits | s / epoch | machine |",
        "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, config in CONFIGS.items():
        runs = records.get(name)
        reported = (f"{100 * REPORTED[name][0]:.2f} ({REPORTED[name][1]})"
                    if name in REPORTED else "—")
        if not runs:
            lines.append(f"| {name} | not run yet | | | | | {reported} | | | | |")
            continue
        chosen = [selected_test_accuracy(run['rows']) for run in runs]
        real = (shown([100 * selected_test_accuracy(run['rows'], '_real_weights')[1]
                       for run in runs])
                if config['binarization'] == 'stochastic' else "—")
        last = shown([100 * run['rows'][-1]['test_accuracy'] for run in runs])
        seconds = shown([float(np.mean([row['seconds'] for row in run['rows']]))
                         for run in runs], 1)
        run = runs[0]
        smaller = (f"{run['full_precision_bits'] / run['size_bits']:.1f}×"
                   if config['binarization'] else "—")
        lines.append(
            f"| {name} | {', '.join(str(run['epochs']) for run in runs)} | "
            f"{shown([100 * accuracy for _, accuracy in chosen])} | "
            f"{', '.join(str(epoch) for epoch, _ in chosen)} | {real} | {last} | {reported} | "
            f"{megabits(run['size_bits'])} | {smaller} | {seconds} | {run['machine']}, "
            f"threads: {run['intra_op_threads']} |")
    lines += ["", "Configurations:", ""]
    lines += [f"- `{name}`: {config['description']}." for name, config in CONFIGS.items()]
    return '\n'.join(lines) + '\n'


def plot_training_curves(records, path):
    """Training loss and test accuracy (sign W) per epoch, a line per run."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator
    figure = Figure(figsize=(11, 4))
    loss_axes, accuracy_axes = figure.subplots(1, 2)
    for name, runs in records.items():
        for run in runs:
            label = name if len(runs) == 1 else f"{name} (seed {run['seed']})"
            epochs = [row['epoch'] for row in run['rows']]
            loss_axes.plot(epochs, [row['train_loss'] for row in run['rows']], label=label)
            accuracy_axes.plot(epochs, [100 * row['test_accuracy'] for row in run['rows']],
                               label=label)
    loss_axes.set(title='training loss (BinaryConnect: squared hinge)', xlabel='epoch',
                  yscale='log')
    accuracy_axes.set(title='test accuracy (%), sign(W) at test', xlabel='epoch')
    for axes in (loss_axes, accuracy_axes):
        axes.grid(alpha=0.3)
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    accuracy_axes.legend(fontsize='small')
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def report(study_dir):
    """results.md and training_curves.png in ``study_dir`` from its records; False, with
    nothing written, when there is none."""
    records = load_records(study_dir)
    if not records:
        return False
    plot_training_curves(records, os.path.join(study_dir, 'training_curves.png'))
    with replacing(os.path.join(study_dir, 'results.md')) as f:
        f.write(results_markdown(records))
    print(f"Report: {os.path.join(study_dir, 'results.md')}, "
          f"{os.path.join(study_dir, 'training_curves.png')}")
    return True


# -- command ----------------------------------------------------------------------
def parse_names(text):
    names = list(dict.fromkeys(text.split(','))) if text else list(CONFIGS)
    unknown = [name for name in names if name not in CONFIGS]
    if unknown:
        raise UserError(f"unknown configuration {unknown[0]!r}; valid: {', '.join(CONFIGS)}")
    return names


def parse_seeds(text):
    try:
        seeds = list(dict.fromkeys(int(seed) for seed in text.split(',')))
    except ValueError:
        seeds = [-1]
    if any(seed < 0 for seed in seeds):
        raise UserError(f"--seeds must be non-negative integers separated by commas, not "
                        f"{text!r}")
    return seeds


def check_folder(path, option):
    if os.path.exists(path) and not os.path.isdir(path):
        raise UserError(f"{option} {path} is a file, not a folder")


def run(args):
    names, seeds = parse_names(args.configs), parse_seeds(args.seeds)
    if args.epochs < 1:
        raise UserError(f"--epochs must be at least 1, not {args.epochs}")
    study_dir = os.path.join(args.figs_dir, STUDY)
    check_folder(args.figs_dir, '--figs-dir')
    check_folder(args.out, '--out')
    if not args.report_only:
        runs = [(name, seed, os.path.join(args.out, name, f'seed{seed}'))
                for name in names for seed in seeds]
        for name, seed, run_dir in runs:  # all refused before any is trained
            check_run_folder(run_dir, run_settings(name, seed, args.validation_images))
        splits = load_mnist_splits(args.data, args.validation_images)
        fast.set_cpu_options()
        start_tensorflow()
        for number, (name, seed, run_dir) in enumerate(runs, 1):
            print(f"== run {number}/{len(runs)}: {name}/seed{seed}", flush=True)
            rows, size = train_run(name, seed, splits, args.validation_images, run_dir,
                                   args.epochs)
            write_record(os.path.join(study_dir, RECORDS, name, f'seed{seed}.json'), name,
                         seed, args.validation_images, rows, size)
    if not report(study_dir):
        raise UserError(f"no run records in {os.path.join(study_dir, RECORDS)}: train runs "
                        "first (python -m studies.binarized_weights)")


def main(argv=None):
    parser = Parser(description=__doc__.split('\n')[0])
    parser.add_argument('--configs', help="comma-separated configurations (default: all): "
                        + ', '.join(CONFIGS))
    parser.add_argument('--epochs', type=int, default=200, help="default 200, the seed's")
    parser.add_argument('--seeds', default='0', help="comma-separated seeds (default 0)")
    parser.add_argument('--out', default=os.path.join('exp', 'studies', 'binarized_weights'),
                        help="the runs' folder")
    parser.add_argument('--figs-dir', default='figs',
                        help=f"records and report go to FIGS_DIR/{STUDY}")
    parser.add_argument('--data', default=os.path.join('training_data', 'mnist'),
                        help="the MNIST folder (IDX files, plain or .gz)")
    parser.add_argument('--validation-images', type=int, default=10000,
                        help="the last training images held out for validation")
    parser.add_argument('--report-only', action='store_true',
                        help="only rebuild results.md and the plot from the records")

    return command(lambda: run(parser.parse_args(argv)))


if __name__ == '__main__':
    sys.exit(main())
