"""The generator's output neurons: deterministic (DBN) and stochastic (SBN) binary
neurons, and the real-valued sigmoid of the baseline.

Each returns ``(outputs, preactivated)``: the exact 0/1 values and the preactivated
outputs sigma(slope * logits) they were drawn from. How the generator trains through
them is a gradient estimator, chosen by name (estimators.py); the Gumbel estimators
replace the forward pass too.
"""
import tensorflow as tf

from binarygan.estimators import ESTIMATORS, relaxed_bernoulli


def binary_neuron(logits, slope, binarize, estimator):
    """Forward: ``binarize(sigma(slope * logits))``. Backward: ESTIMATORS[estimator]."""
    if estimator not in ESTIMATORS or ESTIMATORS[estimator].backward is None:
        raise ValueError(f"{estimator!r} is not a straight-through estimator; "
                         f"valid: {', '.join(n for n, e in ESTIMATORS.items() if e.backward)}")
    backward = ESTIMATORS[estimator].backward
    slope = tf.cast(slope, logits.dtype)
    preactivated = tf.sigmoid(slope * logits)

    # A custom gradient rather than the `p + stop_gradient(b - p)` trick, whose
    # forward value is not exactly 0/1 in floating point.
    @tf.custom_gradient
    def neuron(x):
        return binarize(preactivated), lambda upstream: backward(upstream, x, slope,
                                                                 preactivated)

    return neuron(logits), preactivated


def deterministic_binary_neuron(logits, slope=1., estimator='sigmoid_adjusted'):
    """DBN(x) = 1[sigma(slope * x) > 0.5]."""
    return binary_neuron(logits, slope, lambda p: tf.cast(p > 0.5, p.dtype), estimator)


def stochastic_binary_neuron(logits, slope=1., estimator='sigmoid_adjusted', rng=None):
    """SBN(x) = 1[v < sigma(slope * x)], v ~ U[0, 1].

    ``rng`` is a ``tf.random.Generator``; with it the draws are reproducible
    and its state can be checkpointed. Without it the global seed is used.
    """
    def bernoulli(p):
        shape = tf.shape(p)
        v = (rng.uniform(shape, dtype=p.dtype) if rng is not None
             else tf.random.uniform(shape, dtype=p.dtype))
        return tf.cast(v < p, p.dtype)
    return binary_neuron(logits, slope, bernoulli, estimator)


def gumbel_neuron(logits, temperature, rng, hard):
    """A relaxed Bernoulli(sigma(logits)) sample at ``temperature`` (estimators.py),
    or, with ``hard``, the exact 0/1 sample it thresholds at 0.5, whose gradient goes
    through the relaxed one."""
    relaxed = relaxed_bernoulli(logits, tf.cast(temperature, logits.dtype),
                                rng.uniform(tf.shape(logits), dtype=logits.dtype))
    if not hard:
        return relaxed

    @tf.custom_gradient
    def threshold(y):
        return tf.cast(y > 0.5, y.dtype), lambda upstream: upstream
    return threshold(relaxed)


def output_neurons(kind, logits, slope, estimator, rng, temperature=None):
    """(outputs, preactivated) of model.output_neurons ``kind``: 'round' (DBNs),
    'bernoulli' (SBNs drawing from ``rng``) or 'real' (the sigmoid, whose outputs are
    their own preactivated values), trained by ``estimator`` (estimators.py): with
    'reinforce' no gradient passes through the bits; with the Gumbel estimators the
    outputs are the relaxed (or thresholded) samples at ``temperature``, and
    preactivated is sigma(logits)."""
    if kind == 'real':
        probabilities = tf.sigmoid(logits)
        return probabilities, probabilities
    method = ESTIMATORS[estimator]
    if method.relaxation:
        return (gumbel_neuron(logits, temperature, rng, method.relaxation == 'hard'),
                tf.sigmoid(logits))
    if method.score_function:
        bits, preactivated = stochastic_binary_neuron(logits, slope, 'straight_through', rng)
        return tf.stop_gradient(bits), preactivated
    if kind == 'round':
        return deterministic_binary_neuron(logits, slope, estimator)
    return stochastic_binary_neuron(logits, slope, estimator, rng)
