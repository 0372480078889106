"""The generator's output neurons: deterministic (DBN) and stochastic (SBN) binary
neurons, and the real-valued sigmoid of the baseline.

Each returns ``(outputs, preactivated)``: the exact 0/1 values and the preactivated
outputs sigma(slope * logits) they were drawn from. The backward pass of a binary
neuron is a gradient estimator, chosen by name (estimators.py).
"""
import tensorflow as tf

from binarygan.estimators import ESTIMATORS


def binary_neuron(logits, slope, binarize, estimator):
    """Forward: ``binarize(sigma(slope * logits))``. Backward: ESTIMATORS[estimator]."""
    if estimator not in ESTIMATORS:
        raise ValueError(f"unknown gradient estimator {estimator!r}; "
                         f"valid: {', '.join(ESTIMATORS)}")
    backward = ESTIMATORS[estimator]
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


def output_neurons(kind, logits, slope, estimator, rng):
    """(outputs, preactivated) of model.output_neurons ``kind``: 'round' (DBNs),
    'bernoulli' (SBNs drawing from ``rng``) or 'real' (the sigmoid, whose outputs are
    their own preactivated values)."""
    if kind == 'round':
        return deterministic_binary_neuron(logits, slope, estimator)
    if kind == 'bernoulli':
        return stochastic_binary_neuron(logits, slope, estimator, rng)
    probabilities = tf.sigmoid(logits)
    return probabilities, probabilities
