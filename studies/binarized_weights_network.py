"""The binarized-weights study's networks: the configurations' MLPs (the seed's and
BinaryConnect's recipes), the binarization with its straight-through gradient, and the
classifier that trains and evaluates them."""
import math

import numpy as np

IMAGE_PIXELS, CLASSES = 784, 10
# BinaryConnect's batch normalization: moving averages with factor alpha = 0.15, epsilon 1e-4.
BATCH_NORM_MOMENTUM, BATCH_NORM_EPSILON = 0.85, 1e-4
ADAM_BETA1, ADAM_BETA2, ADAM_EPSILON = 0.9, 0.999, 1e-8

# The seed's MLP as its code trained it (akshaychawla/Binary-Neural-Networks at ff813d5,
# the commit of the seed's results: mnist_baseline.py, mnist_binary.py, layers.py), the
# layer sizes also in its README's figure readme_data/network_arch.jpg; but for three
# traits of that code, which only the *_as_it_ran configurations keep
# (docs/binarized_weights.md): it never updated its output layer, it took the batches in
# the file's order, and its dropout (SEED_DROPOUT) kept more units than it meant to.
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
    'dropout_mask': 'independent',  # each layer its own mask; 'seed': SEED_DROPOUT
    'train_output_layer': True,
    'shuffle': True,             # the training images in a new order every epoch
}
# The seed's dropout as its layers.py computes it: a unit is kept where a standard normal
# draw is below 0.5 (probability Phi(0.5) = 0.69, not the 0.5 it meant), kept units are
# scaled by 1 / 0.5 = 2, and its three layers' random streams, built with the same seed,
# draw the same mask at every step.
SEED_DROPOUT_KEEP_BELOW, SEED_DROPOUT_SCALE = 0.5, 2.
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
    'dropout_mask': 'independent',
    'train_output_layer': True,
    'shuffle': True,
}
CONFIGS = {
    'seed_baseline_dropout': dict(
        SEED_MLP, binarization=None, dropout=0.5,
        description="the seed's baseline: full precision, dropout 0.5 after each hidden layer"),
    'seed_baseline_as_it_ran': dict(
        SEED_MLP, binarization=None, dropout=0.5, dropout_mask='seed',
        train_output_layer=False, shuffle=False,
        description="the seed's baseline as its code ran: its dropout (keeps 69 %, scales "
                    "by 2, one mask for all layers), output layer never trained, no "
                    "shuffling"),
    'seed_baseline_seed_dropout': dict(
        SEED_MLP, binarization=None, dropout=0.5, dropout_mask='seed',
        description="the seed's baseline with only its dropout as its code ran"),
    'seed_baseline_frozen_output': dict(
        SEED_MLP, binarization=None, dropout=0.5, train_output_layer=False,
        description="the seed's baseline with only its output layer never trained"),
    'seed_baseline_file_order': dict(
        SEED_MLP, binarization=None, dropout=0.5, shuffle=False,
        description="the seed's baseline with only its batches in the file's order"),
    'seed_binary_deterministic': dict(
        SEED_MLP, binarization='deterministic', dropout=0.,
        description="the seed's binarized MLP: W_b = sign(W), no dropout"),
    'seed_binary_stochastic': dict(
        SEED_MLP, binarization='stochastic', dropout=0.,
        description="the seed's binarized MLP with stochastic binarization (its TODO)"),
    # Is the seed's tiny step (0.001 / 256) why stochastic binarization lags? (In part:
    # docs/binarized_weights.md, "Results".)
    'seed_binary_deterministic_step_x10': dict(
        SEED_MLP, binarization='deterministic', dropout=0., learning_rate=0.01 / 256,
        description="the seed's binarized MLP, deterministic, with 10 times its step "
                    "(0.01 / 256)"),
    'seed_binary_stochastic_step_x10': dict(
        SEED_MLP, binarization='stochastic', dropout=0., learning_rate=0.01 / 256,
        description="the seed's binarized MLP, stochastic, with 10 times its step "
                    "(0.01 / 256)"),
    'binaryconnect_deterministic': dict(
        BINARYCONNECT_MLP, binarization='deterministic', dropout=0.,
        description="BinaryConnect's MNIST recipe with deterministic binarization (its "
                    "mnist.py with stochastic = False)"),
    'binaryconnect_stochastic': dict(
        BINARYCONNECT_MLP, binarization='stochastic', dropout=0.,
        description="BinaryConnect's MNIST recipe: stochastic, batch normalization, Adam"),
}


def binarized(kernel, rng=None):
    """``kernel`` as exactly +1 or -1 for both passes, the gradient straight through,
    unchanged, to the real-valued kernel. Without ``rng`` (a tf.random.Generator):
    deterministic, +1 where the weight is at least 0; with it: stochastic, +1 with
    probability hard_sigmoid(w) = clip((w + 1) / 2, 0, 1), to 2^-16: where a uniform
    16-bit draw u is below (w + 1) * 2^15. Half a 32-bit draw per weight halves the
    random generator's work, its largest cost; 2^-16 is far below any step's effect."""
    import tensorflow as tf
    # One XLA-compiled pass over the weights (and the draws; TensorFlow's ops would take
    # two to five), traced once for each kernel of a compiled training step.
    if rng is None:
        signs = tf.function(lambda weights: tf.where(weights >= 0., 1., -1.),
                            jit_compile=True)
    else:
        count = int(np.prod(kernel.shape))
        draws = tf.bitcast(rng.uniform_full_int([(count + 1) // 2], tf.uint32), tf.uint16)
        signs = tf.function(lambda weights: tf.where(
            tf.cast(tf.reshape(tf.reshape(draws, [-1])[:count], weights.shape), tf.float32)
            < (weights + 1.) * 2. ** 15, 1., -1.), jit_compile=True)

    @tf.custom_gradient
    def straight_through(weights):
        return signs(weights), lambda upstream: upstream
    return straight_through(kernel)


class Optimizer:
    """The configuration's SGD or Adam (Keras's formulas) over ``variables``, with
    BinaryConnect's step scale for each binarized kernel (glorot_kernel_steps) and the
    shadow kernels' clip to [-1, 1] (with binarization; beyond +-1 a weight no longer
    changes W_b, and left there it would take ever more steps to flip back), in one
    XLA-compiled pass over the weights and Adam's moments, where Keras's optimizer, then
    the scaling and the clip as separate steps, took several."""

    def __init__(self, config, variables, kernels):
        import tensorflow as tf
        self.variables, self.adam = variables, config['optimizer'] == 'adam'
        is_kernel = [any(v is kernel for kernel in kernels) for v in variables]
        # BinaryConnect's W_LR_scale "Glorot": 1 / sqrt(1.5 / (fan_in + fan_out)), 37 to 52.
        self.step_scales = [1. / math.sqrt(1.5 / sum(v.shape))
                            if kernel and config['glorot_kernel_steps'] else 1.
                            for v, kernel in zip(variables, is_kernel)]
        self.clipped = [kernel and bool(config['binarization']) for kernel in is_kernel]
        self.learning_rate = tf.Variable(config['learning_rate'], trainable=False,
                                         name='learning_rate')
        self.iterations = tf.Variable(0, dtype=tf.int64, trainable=False, name='iterations')
        def zeros():
            return [tf.Variable(tf.zeros_like(v), trainable=False) for v in variables]
        self.first_moments, self.second_moments = (zeros(), zeros()) if self.adam else ([], [])
        self.state = tf.train.Checkpoint(iterations=self.iterations, m=self.first_moments,
                                         v=self.second_moments)
        self.apply = tf.function(self._apply, jit_compile=True)

    def _apply(self, gradients):
        import tensorflow as tf
        self.iterations.assign_add(1)
        rate = tf.identity(self.learning_rate)
        if self.adam:  # Keras's Adam formulas; BinaryConnect's epsilon
            step = tf.cast(self.iterations, tf.float32)
            rate *= tf.sqrt(1. - ADAM_BETA2 ** step) / (1. - ADAM_BETA1 ** step)
        for index, (variable, gradient) in enumerate(zip(self.variables, gradients)):
            if self.adam:
                m, v = self.first_moments[index], self.second_moments[index]
                m.assign_add((gradient - m) * (1. - ADAM_BETA1))
                v.assign_add((tf.square(gradient) - v) * (1. - ADAM_BETA2))
                gradient = m / (tf.sqrt(v) + ADAM_EPSILON)
            updated = variable - rate * self.step_scales[index] * gradient
            variable.assign(tf.clip_by_value(updated, -1., 1.) if self.clipped[index]
                            else updated)


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
        trained = slice(None) if config['train_output_layer'] else slice(-1)
        self.trainable = (self.kernels[trained] + self.biases[trained]
                          + [v for norm in self.norms for v in norm.trainable_variables])
        self.optimizer = Optimizer(config, self.trainable, self.kernels)
        self.epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name='epoch')
        self.checkpoint = tf.train.Checkpoint(
            kernels=self.kernels, biases=self.biases, norms=self.norms,
            optimizer=self.optimizer.state, rng=self.rng, epoch=self.epoch)
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
        shared_mask = (self.seed_dropout_mask(tf.shape(images)[0]) if training
                       and self.config['dropout'] and self.config['dropout_mask'] == 'seed'
                       else None)
        for layer, (kernel, bias) in enumerate(zip(self.kernels, self.biases)):
            if binarization and not real_weights:
                stochastic = training and binarization == 'stochastic'
                kernel = binarized(kernel, self.rng if stochastic else None)
            x = tf.matmul(x, kernel) + bias
            if self.norms:
                x = self.norms[layer](x, training=training)
            if layer < len(self.kernels) - 1:
                x = tf.nn.relu(x)
                if shared_mask is not None:
                    x *= shared_mask
                elif training and self.config['dropout']:
                    x = tf.nn.experimental.stateless_dropout(
                        x, self.config['dropout'], seed=self.rng.make_seeds(1)[:, 0])
        return x

    def seed_dropout_mask(self, batch_size):
        """SEED_DROPOUT's mask for a batch, the same for every hidden layer (the seed's
        are all as wide)."""
        import tensorflow as tf
        draws = self.rng.normal([batch_size, self.config['hidden_units'][0]])
        return SEED_DROPOUT_SCALE * tf.cast(draws < SEED_DROPOUT_KEEP_BELOW, tf.float32)

    def batch_order(self, count):
        """The order of an epoch's ``count`` training images: new and random each epoch,
        or theirs without config['shuffle']."""
        import tensorflow as tf
        if not self.config['shuffle']:
            return tf.range(count)
        return tf.argsort(self.rng.uniform([count]))

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
        self.optimizer.apply(tape.gradient(loss, self.trainable))
        return loss

    def train_epoch(self, images, labels):
        """An epoch in a new random order of ``images`` (tensors; in their order without
        shuffle) with the epoch's learning rate; the mean of its batches' losses. Counts
        the epoch."""
        import tensorflow as tf
        self.optimizer.learning_rate.assign(self.learning_rate())
        order = self.batch_order(int(images.shape[0]))
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
