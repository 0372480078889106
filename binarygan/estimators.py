"""Ways to train through the generator's binary outputs, by name (model.gradient_estimator).

- Straight-through estimators: the forward pass is the binary neuron's; the backward
  pass maps the gradient that reaches its output to the one its logits get,
  ``backward(upstream, logits, slope, preactivated)`` with preactivated
  sigma(slope * logits).
- 'reinforce', the score-function estimator: no gradient through the sampled bits; the
  generator minimizes a surrogate whose gradient is an unbiased estimate of the
  gradient of its expected loss.
- Gumbel-sigmoid (the binary Concrete distribution): a relaxed Bernoulli sample
  sigma((x + log u - log(1 - u)) / temperature), u ~ U(0, 1), that the critic sees
  ('gumbel_sigmoid') or that only carries the gradient of the exact 0/1 sample it
  thresholds ('straight_through_gumbel').

TensorFlow is imported when a gradient is built, not here: configure reads the names
before TensorFlow starts.
"""
import dataclasses
import math
from typing import Callable, Optional


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


def bernoulli_log_prob(bits, logits, reduction='sum'):
    """log p(bits | logits) of independent Bernoulli(sigma(logits)) bits, summed (or, with
    ``reduction`` 'mean', averaged) over all axes but the first: from the logits, never the
    log of a rounded probability."""
    import tensorflow as tf
    # log sigma(x) = -softplus(-x), log(1 - sigma(x)) = -softplus(x)
    log_p = -bits * tf.nn.softplus(-logits) - (1. - bits) * tf.nn.softplus(logits)
    reduce = tf.reduce_mean if reduction == 'mean' else tf.reduce_sum
    return reduce(log_p, axis=list(range(1, log_p.shape.rank)))


def reinforce_surrogate(losses, log_probs, normalize=False):
    """A loss whose gradient is the REINFORCE estimate of the gradient of E[loss]:
    mean (L - b) * grad log p(sample) over ``losses`` and ``log_probs`` of shape (M,
    groups), each sample's baseline b the mean loss of the other samples of its group:
    the M samples of one latent, or with one group, the whole batch. This leave-one-out
    baseline keeps the estimate unbiased (b does not depend on the sample), needs no
    state to save, and follows a critic that changes every step at once, where a moving
    average would lag behind it. ``normalize``: L - b divided by its standard deviation
    over all samples (a scale per step; Adam's own scaling then weighs steps alike)."""
    import tensorflow as tf
    count = tf.cast(tf.shape(losses)[0], losses.dtype)
    advantages = losses - (tf.reduce_sum(losses, axis=0) - losses) / (count - 1.)
    if normalize:
        advantages /= tf.math.reduce_std(advantages) + 1e-8
    return tf.reduce_mean(tf.stop_gradient(advantages) * log_probs)


def relaxed_bernoulli(logits, temperature, uniform):
    """The binary Concrete sample sigma((x + log u - log(1 - u)) / temperature) for the
    uniform draws ``uniform``; thresholded at 0.5 it is 1 with probability sigma(x)."""
    import tensorflow as tf
    # Clipped away from 0 and 1, whose logarithms are infinite.
    u = tf.clip_by_value(uniform, 1e-7, 1. - 1e-7)
    return tf.sigmoid((logits + tf.math.log(u) - tf.math.log1p(-u)) / temperature)


def gumbel_temperature(step, initial, rate, minimum, every):
    """Jang et al.'s schedule: max(initial * exp(-rate * t), minimum), t the step rounded
    down to a multiple of ``every``."""
    return max(initial * math.exp(-rate * (step // every * every)), minimum)


@dataclasses.dataclass(frozen=True)
class Estimator:
    neurons: tuple                       # the model.output_neurons it trains
    backward: Optional[Callable] = None  # straight-through: the logits' gradient
    score_function: bool = False         # REINFORCE: the generator minimizes a surrogate
    relaxation: Optional[str] = None     # Gumbel: 'soft' (the critic sees the relaxed
    #                                      sample) or 'hard' (it sees the 0/1 sample)


ESTIMATORS = {
    'sigmoid_adjusted': Estimator(('round', 'bernoulli'), backward=sigmoid_adjusted),
    'straight_through': Estimator(('round', 'bernoulli'), backward=straight_through),
    'reinforce': Estimator(('bernoulli',), score_function=True),
    'gumbel_sigmoid': Estimator(('bernoulli',), relaxation='soft'),
    'straight_through_gumbel': Estimator(('bernoulli',), relaxation='hard'),
}
