"""Gradient estimators of a binary neuron, by name (model.gradient_estimator).

Each maps the gradient that reaches a binary neuron's output to the one its logits get:
``estimator(upstream, logits, slope, preactivated)``, where preactivated is
sigma(slope * logits). TensorFlow is imported when a gradient is built, not here:
configure reads the names before TensorFlow starts.
"""


def sigmoid_adjusted(upstream, logits, slope, preactivated):
    """d sigma(slope * x) / dx = slope * sigma(slope * x) * sigma(-slope * x): the
    sigmoid-adjusted straight-through estimator (Bengio et al. 2013), whose slope the
    slope annealing trick raises (Chung et al. 2017)."""
    import tensorflow as tf
    # sigma'(u) = sigma(u) * sigma(-u): unlike p * (1 - p) it does not round to 0 in
    # float32 once p rounds to 1.
    return upstream * slope * preactivated * tf.sigmoid(-slope * logits)


def straight_through(upstream, logits, slope, preactivated):
    """The identity: the incoming gradient passes unchanged (Hinton 2012)."""
    return upstream


ESTIMATORS = {'sigmoid_adjusted': sigmoid_adjusted, 'straight_through': straight_through}
