import numpy as np
import pytest
import tensorflow as tf

from binarygan.neurons import deterministic_binary_neuron, stochastic_binary_neuron

LOGITS = np.array([-4., -1.5, -0.3, 0., 0.2, 0.9, 2.5, 6.], np.float32)
SLOPES = [0.5, 1.0, 1.1 ** 7, 3.0]
NEURONS = [deterministic_binary_neuron, stochastic_binary_neuron]


def sigmoid(x):
    return 1. / (1. + np.exp(-x))


@pytest.mark.parametrize('neuron', NEURONS)
@pytest.mark.parametrize('slope', SLOPES)
def test_outputs_are_exactly_binary_and_preactivated_is_sigmoid(neuron, slope):
    logits = tf.constant(np.random.RandomState(1).normal(0, 3, (64, 784)), tf.float32)
    binary, preactivated = neuron(logits, slope)
    assert set(np.unique(binary.numpy())) <= {0., 1.}
    np.testing.assert_allclose(preactivated.numpy(), sigmoid(slope * logits.numpy()),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('slope', SLOPES)
def test_deterministic_neuron_rounds_the_preactivated_output(slope):
    binary, preactivated = deterministic_binary_neuron(tf.constant(LOGITS), slope)
    np.testing.assert_array_equal(binary.numpy(), np.round(preactivated.numpy()))
    np.testing.assert_array_equal(binary.numpy(), (LOGITS > 0).astype(np.float32))


def test_stochastic_neuron_fires_with_the_preactivated_probability():
    n = 40000
    slope = 1.3
    logits = tf.constant(np.tile(LOGITS, (n, 1)))
    rng = tf.random.Generator.from_seed(7)
    binary, _ = stochastic_binary_neuron(logits, slope, rng=rng)
    frequency = binary.numpy().mean(axis=0)
    p = sigmoid(slope * LOGITS)
    # 5 standard errors of a binomial proportion, plus float slack at p ~ 0 or 1.
    tolerance = 5 * np.sqrt(p * (1 - p) / n) + 1e-6
    assert np.all(np.abs(frequency - p) <= tolerance), (frequency, p)
    assert 0 < frequency[3] < 1  # sigma(0) = 0.5 fires about half the time


def test_stochastic_neuron_draws_from_the_given_generator():
    logits = tf.zeros([1000])  # p = 0.5: every draw is a coin toss

    def draws(rng):
        return stochastic_binary_neuron(logits, 1., rng=rng)[0].numpy()

    tf.random.set_seed(0)  # the global random state, the same for every draw below
    a = draws(tf.random.Generator.from_seed(3))
    assert 400 < a.sum() < 600
    tf.random.set_seed(0)
    np.testing.assert_array_equal(draws(tf.random.Generator.from_seed(3)), a)
    tf.random.set_seed(0)
    assert np.mean(draws(tf.random.Generator.from_seed(4)) != a) > 0.4  # another seed
    # The generator's state advances: drawing again gives new values, and the state
    # from before (as a checkpoint restores it) gives the same values again.
    rng = tf.random.Generator.from_seed(3)
    state = rng.state.numpy()
    first = draws(rng)
    assert not np.array_equal(rng.state.numpy(), state)
    assert np.mean(draws(rng) != first) > 0.4
    rng.reset(state)
    np.testing.assert_array_equal(draws(rng), first)


@pytest.mark.parametrize('neuron', NEURONS)
@pytest.mark.parametrize('slope', SLOPES)
def test_sigmoid_adjusted_gradient(neuron, slope):
    logits = tf.constant(LOGITS)
    upstream = tf.constant(np.linspace(-2., 3., len(LOGITS)), tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(logits)
        binary, preactivated = neuron(logits, slope)
        loss = tf.reduce_sum(upstream * binary)
    gradient = tape.gradient(loss, logits).numpy()
    p = sigmoid(slope * LOGITS.astype(np.float64))
    np.testing.assert_allclose(preactivated.numpy(), p, rtol=1e-6)
    np.testing.assert_allclose(gradient, upstream.numpy() * slope * p * (1 - p), rtol=1e-5)


@pytest.mark.parametrize('neuron', NEURONS)
def test_plain_straight_through_passes_the_gradient_unchanged(neuron):
    logits = tf.constant(LOGITS)
    upstream = tf.constant(np.linspace(-2., 3., len(LOGITS)), tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(logits)
        binary, _ = neuron(logits, 2.0, estimator='straight_through')
        loss = tf.reduce_sum(upstream * binary)
    np.testing.assert_array_equal(tape.gradient(loss, logits).numpy(), upstream.numpy())


def test_slope_variable_is_read_at_call_time():
    slope = tf.Variable(1.0)
    neuron = tf.function(lambda x: deterministic_binary_neuron(x, slope)[1])
    x = tf.constant([0.5])
    first = neuron(x).numpy()
    slope.assign(slope * 1.1)
    np.testing.assert_allclose(neuron(x).numpy(), sigmoid(1.1 * 0.5), rtol=1e-6)
    assert first != neuron(x).numpy()


def test_unknown_estimator_is_refused():
    with pytest.raises(ValueError, match='straight_through'):
        deterministic_binary_neuron(tf.constant(LOGITS), 1., estimator='reinforce')
