"""Binary neurons with straight-through gradient estimators.

Each neuron returns ``(binary_outputs, preactivated)``: the exact 0/1 values
and the preactivated outputs sigma(slope * logits) they were drawn from.
"""
import tensorflow as tf

ESTIMATORS = ('sigmoid_adjusted', 'straight_through')


def _binarize(logits, slope, binarize, estimator):
    """Forward: ``binarize(sigma(slope * logits))``. Backward: by ``estimator``.

    'sigmoid_adjusted' passes d sigma(slope * x) / dx = slope * p * (1 - p)
    (Bengio et al. 2013, with the slope annealing trick of Chung et al. 2017);
    'straight_through' passes the incoming gradient unchanged (Hinton 2012).
    """
    if estimator not in ESTIMATORS:
        raise ValueError(f"unknown gradient estimator {estimator!r}; "
                         f"valid: {', '.join(ESTIMATORS)}")
    slope = tf.cast(slope, logits.dtype)
    preactivated = tf.sigmoid(slope * logits)

    # A custom gradient rather than the `p + stop_gradient(b - p)` trick, whose
    # forward value is not exactly 0/1 in floating point.
    @tf.custom_gradient
    def binary_neuron(x):
        def grad(upstream):
            if estimator == 'straight_through':
                return upstream
            # sigma'(u) = sigma(u) * sigma(-u): unlike p * (1 - p) it does not
            # round to 0 in float32 once p rounds to 1.
            return upstream * slope * preactivated * tf.sigmoid(-slope * x)
        return binarize(preactivated), grad

    return binary_neuron(logits), preactivated


def deterministic_binary_neuron(logits, slope=1., estimator='sigmoid_adjusted'):
    """DBN(x) = 1[sigma(slope * x) > 0.5]."""
    return _binarize(
        logits, slope, lambda p: tf.cast(p > 0.5, p.dtype), estimator)


def stochastic_binary_neuron(logits, slope=1., estimator='sigmoid_adjusted',
                             rng=None):
    """SBN(x) = 1[v < sigma(slope * x)], v ~ U[0, 1].

    ``rng`` is a ``tf.random.Generator``; with it the draws are reproducible
    and its state can be checkpointed. Without it the global seed is used.
    """
    def bernoulli(p):
        shape = tf.shape(p)
        v = (rng.uniform(shape, dtype=p.dtype) if rng is not None
             else tf.random.uniform(shape, dtype=p.dtype))
        return tf.cast(v < p, p.dtype)
    return _binarize(logits, slope, bernoulli, estimator)
