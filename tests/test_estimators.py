"""The estimators beyond straight-through: REINFORCE and the Gumbel-sigmoid relaxation."""
import itertools
import json

import numpy as np
import pytest
import tensorflow as tf

import main
from binarygan import UserError, configure
from binarygan.checkpoints import find_checkpoint
from binarygan.estimators import (bernoulli_log_prob, gumbel_temperature, reinforce_surrogate,
                                  relaxed_bernoulli)
from binarygan.neurons import gumbel_neuron
from conftest import quick_run_args, read_csv

LOGITS = np.array([-1.2, 0.3, 2.0], np.float32)
# An arbitrary loss of the three bits, by their integer value b0 + 2 b1 + 4 b2.
F = np.array([0.3, -1.0, 2.5, 0.7, -0.4, 1.9, -2.2, 0.8], np.float32)


def sigmoid(x):
    return 1. / (1. + np.exp(-x))


def exact_gradient():
    """d E[F(b)] / d logits, b ~ Bernoulli(sigma(logits)), by enumerating the 8 outcomes."""
    p = sigmoid(LOGITS.astype(np.float64))
    gradient = np.zeros(3)
    for bits in itertools.product((0, 1), repeat=3):
        bits = np.array(bits)
        probability = np.prod(np.where(bits, p, 1 - p))
        # d log p(b) / dx_k = b_k - p_k
        gradient += probability * F[bits @ [1, 2, 4]] * (bits - p)
    return gradient


def test_bernoulli_log_prob_is_the_log_likelihood_from_the_logits():
    bits = tf.constant([[1., 0., 1.], [0., 0., 1.]])
    p = sigmoid(LOGITS.astype(np.float64))
    expected = [np.sum(np.log(np.where(row, p, 1 - p))) for row in bits.numpy()]
    np.testing.assert_allclose(bernoulli_log_prob(bits, tf.constant(np.tile(LOGITS, (2, 1))))
                               .numpy(), expected, rtol=1e-6)
    # Far logits: finite, where log(sigma(x)) of a rounded probability would be -inf.
    assert np.isfinite(bernoulli_log_prob(tf.constant([[0.]]), tf.constant([[200.]])).numpy()
                       ).all()


def test_reinforce_is_unbiased_on_a_problem_small_enough_to_enumerate():
    n = 200000
    logits = tf.Variable(np.tile(LOGITS, (n, 1)))
    bits = tf.cast(tf.random.stateless_uniform([n, 3], seed=(3, 4))
                   < tf.sigmoid(logits), tf.float32)
    losses = tf.constant(F[(bits.numpy() @ [1, 2, 4]).astype(int)])
    with tf.GradientTape() as tape:
        surrogate = reinforce_surrogate(losses, bernoulli_log_prob(bits, logits))
    # The surrogate's gradient is the mean of the samples' terms (L - baseline) * d log p:
    # per sample n times its share, whose spread gives the statistical tolerance.
    terms = tape.gradient(surrogate, logits).numpy() * n
    estimate, standard_error = terms.mean(axis=0), terms.std(axis=0) / np.sqrt(n)
    exact = exact_gradient()
    assert np.all(np.abs(estimate - exact) <= 4 * standard_error), (estimate, exact,
                                                                   standard_error)
    assert np.all(standard_error < 0.02)  # a test that can tell a wrong gradient


def test_reinforce_baseline_leaves_each_sample_out():
    losses = tf.constant([1., 2., 6.])
    log_probs = tf.Variable([0., 0., 0.])
    with tf.GradientTape() as tape:
        surrogate = reinforce_surrogate(losses, log_probs)
    # Baselines 4, 3.5, 1.5: weights (1 - 4, 2 - 3.5, 6 - 1.5) / 3.
    np.testing.assert_allclose(tape.gradient(surrogate, log_probs).numpy(),
                               np.array([-3., -1.5, 4.5]) / 3, rtol=1e-6)


def test_reinforce_with_several_samples_per_latent_is_unbiased():
    """M = 4 samples of each of n latents (the logits of latent i are LOGITS shifted by
    a constant, so that the exact gradient is the same for all), each sample's baseline
    the other three of its latent."""
    n, m = 50000, 4
    logits = tf.Variable(np.tile(LOGITS, (n, 1)))
    repeated = tf.tile(logits, [m, 1])  # sample-major: row j * n + i is sample j of latent i
    bits = tf.cast(tf.random.stateless_uniform([m * n, 3], seed=(5, 6))
                   < tf.sigmoid(repeated), tf.float32)
    losses = tf.constant(F[(bits.numpy() @ [1, 2, 4]).astype(int)])
    with tf.GradientTape() as tape:
        log_probs = bernoulli_log_prob(bits, tf.tile(logits, [m, 1]))
        surrogate = reinforce_surrogate(tf.reshape(losses, [m, n]), tf.reshape(log_probs, [m, n]))
    terms = tape.gradient(surrogate, logits).numpy() * n  # one term per latent
    estimate, standard_error = terms.mean(axis=0), terms.std(axis=0) / np.sqrt(n)
    exact = exact_gradient()
    assert np.all(np.abs(estimate - exact) <= 4 * standard_error), (estimate, exact,
                                                                   standard_error)
    assert np.all(standard_error < 0.02)


def test_reinforce_baseline_leaves_out_each_sample_of_its_own_latent():
    losses = tf.constant([[1., 2.], [3., 6.]])  # 2 samples (rows) of 2 latents (columns)
    log_probs = tf.Variable(tf.zeros([2, 2]))
    with tf.GradientTape() as tape:
        surrogate = reinforce_surrogate(losses, log_probs)
    # Latent 0: baselines 3, 1; latent 1: 6, 2.
    expected = np.array([[-2., -4.], [2., 4.]])
    np.testing.assert_allclose(tape.gradient(surrogate, log_probs).numpy(), expected / 4,
                               rtol=1e-6)
    with tf.GradientTape() as tape:
        surrogate = reinforce_surrogate(losses, log_probs, normalize=True)
    np.testing.assert_allclose(tape.gradient(surrogate, log_probs).numpy(),
                               expected / expected.std() / 4, rtol=1e-5)


def test_hard_gumbel_sample_is_one_with_the_probability_sigma_of_the_logits():
    n = 40000
    logits = tf.constant(np.tile(LOGITS, (n, 1)))
    bits = gumbel_neuron(logits, 0.7, tf.random.Generator.from_seed(5), hard=True).numpy()
    assert set(np.unique(bits)) == {0., 1.}
    p = sigmoid(LOGITS)
    assert np.all(np.abs(bits.mean(axis=0) - p) <= 5 * np.sqrt(p * (1 - p) / n))


def test_relaxed_sample_tends_to_the_hard_one_as_the_temperature_falls():
    uniform = tf.random.stateless_uniform([20000, 3], seed=(1, 2))
    logits = tf.constant(np.tile(LOGITS, (20000, 1)))
    hard = tf.cast(relaxed_bernoulli(logits, 1., uniform) > 0.5, tf.float32).numpy()
    gaps = [np.mean(np.abs(relaxed_bernoulli(logits, t, uniform).numpy() - hard))
            for t in (1., 0.3, 0.1, 0.01)]
    assert gaps == sorted(gaps, reverse=True) and gaps[-1] < 0.01


def test_straight_through_gumbel_passes_the_gradient_of_the_relaxed_sample():
    logits = tf.Variable(LOGITS)
    results = []
    for hard in (True, False):
        with tf.GradientTape() as tape:
            y = gumbel_neuron(logits, 0.5, tf.random.Generator.from_seed(9), hard)
            score = tf.reduce_sum(y * [1., 2., 3.])
        results.append((y.numpy(), tape.gradient(score, logits).numpy()))
    (bits, hard_gradient), (relaxed, relaxed_gradient) = results
    np.testing.assert_array_equal(bits, (relaxed > 0.5).astype(np.float32))
    np.testing.assert_array_equal(hard_gradient, relaxed_gradient)


def test_temperature_schedule():
    assert gumbel_temperature(0, 1.0, 3e-5, 0.5, 1000) == 1.0
    assert gumbel_temperature(1999, 1.0, 3e-5, 0.5, 1000) == pytest.approx(np.exp(-0.03))
    assert gumbel_temperature(10 ** 6, 1.0, 3e-5, 0.5, 1000) == 0.5


@pytest.mark.parametrize('overrides, message', [
    (['model.gradient_estimator=reinforce', 'preset_g=mlp_round'], 'stochastic binary'),
    (['model.gradient_estimator=gumbel_sigmoid', 'preset_g=cnn_round'], 'stochastic binary'),
    (['model.gradient_estimator=straight_through_gumbel', 'preset_g=mlp_real'],
     'need none'),
    (['train.min_temperature=0.3'], "Gumbel estimators' setting"),
    (['model.gradient_estimator=gumbel_sigmoid', 'preset_g=mlp_bernoulli',
      'train.temperature_every_steps=0'], 'at least 1'),
    (['model.gradient_estimator=gumbel_sigmoid', 'preset_g=mlp_bernoulli',
      'train.min_temperature=0'], 'greater than 0'),
])
def test_settings_that_make_no_sense_are_refused(overrides, message):
    with pytest.raises(UserError, match=message):
        configure.load(overrides)


@pytest.mark.parametrize('estimator, grids', [
    ('reinforce', ['binary', 'preactivated']),
    ('reinforce model.samples_per_latent=3 model.normalize_rewards=true model.output_bn=false',
     ['binary', 'preactivated']),
    ('gumbel_sigmoid', ['raw', 'threshold', 'bernoulli']),
    ('straight_through_gumbel', ['binary', 'preactivated']),
])
def test_each_estimator_trains_through_main(tmp_path, synthetic_data, estimator, grids):
    args = quick_run_args(synthetic_data, tmp_path, 'preset_g=mlp_bernoulli',
                          *f'model.gradient_estimator={estimator}'.split(), 'exp.exp_name=run')
    assert main.main(args) == 0
    rows = read_csv(tmp_path / 'run' / 'logs' / 'batch.csv')
    assert len(rows) == 3 and all(np.isfinite(float(row['g_loss'])) for row in rows)
    for grid in grids:
        assert (tmp_path / 'run' / 'samples' / f'step_000003_{grid}.png').is_file()
    config = json.loads((tmp_path / 'run' / 'config.json').read_text())
    assert config['model']['gradient_estimator'] == estimator.split()[0]


def test_the_temperature_anneals_and_survives_a_resume(tmp_path, synthetic_data):
    base = quick_run_args(synthetic_data, tmp_path, 'preset_g=mlp_bernoulli',
                          'model.gradient_estimator=straight_through_gumbel',
                          'train.temperature_decay=0.1', 'train.temperature_every_steps=2',
                          'sample_along_training=false', 'exp.exp_name=gumbel')

    def saved_temperature():
        reader = tf.train.load_checkpoint(find_checkpoint(str(tmp_path / 'gumbel')))
        return float(reader.get_tensor('temperature/.ATTRIBUTES/VARIABLE_VALUE'))

    assert main.main(base + ['train.max_steps=3']) == 0
    assert saved_temperature() == pytest.approx(np.exp(-0.2))  # set at step 2
    assert main.main(base + ['train.max_steps=4']) == 0  # step 3 runs at the saved value
    assert saved_temperature() == pytest.approx(np.exp(-0.2))
    assert main.main(base + ['train.max_steps=5']) == 0
    assert saved_temperature() == pytest.approx(np.exp(-0.4))  # set at step 4
