"""The binary-activations study's network: the seed's classifier, its hard sigmoid, its
binary neurons and the gradients through them (straight-through, or REINFORCE's log p of
the bits)."""
from binarygan.estimators import bernoulli_log_prob

# log p of a Bernoulli bit drawn with the hard sigmoid's probability: clipped this far
# from 0 and 1, where the hard sigmoid saturates and the logarithm is infinite.
PROBABILITY_FLOOR = 1e-6
LAYERS = ('conv1', 'norm1', 'conv2', 'norm2', 'dense')


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

