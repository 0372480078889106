"""The Boundary-Seeking GAN for binary data (gan_type=bgan)."""
import json

import numpy as np
import pytest
import tensorflow as tf

import main
from binarygan import UserError, configure
from binarygan.fast.critic import FastCritic
from binarygan.gan import BinaryGAN, Critic
from binarygan.generator_gradients import boundary_seeking
from binarygan.objectives import OBJECTIVES, boundary_seeking_generator_loss
from conftest import quick_run_args, read_csv

# Discriminator logits and log-likelihoods of 4 samples (rows) of 3 latents (columns).
SCORES = np.array([[0.5, -2.0, 3.0], [1.5, -2.0, -1.0], [-0.5, -2.0, 0.0], [2.0, -2.0, 1.0]],
                  np.float32)
LOG_PROBS = np.array([[-10., -3., -7.], [-12., -4., -6.], [-9., -5., -8.], [-11., -2., -5.]],
                     np.float32)


def numpy_weights(scores):
    w = np.exp(scores.astype(np.float64))
    return w / w.sum(axis=0)


def test_the_generator_loss_weighs_each_latents_samples_by_the_softmax_of_their_scores():
    weights = numpy_weights(SCORES)
    np.testing.assert_allclose(weights.sum(axis=0), 1.)
    scores, log_probs = tf.constant(SCORES), tf.constant(LOG_PROBS)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([scores, log_probs])
        loss, effective_sample_size = boundary_seeking_generator_loss(scores, log_probs)
    assert loss.numpy() == pytest.approx(-(weights * LOG_PROBS).sum(axis=0).mean(), rel=1e-6)
    assert effective_sample_size.numpy() == pytest.approx(
        (1. / (weights ** 2).sum(axis=0)).mean(), rel=1e-6)
    # Equal scores (the second latent): every sample counts, an effective size of 4.
    assert 1. / (weights[:, 1] ** 2).sum() == pytest.approx(4.)
    # The weights are constants: the gradient reaches the log-likelihoods only.
    assert tape.gradient(loss, scores) is None
    np.testing.assert_allclose(tape.gradient(loss, log_probs).numpy(), -weights / 3., rtol=1e-6)


def test_the_discriminator_loss_is_the_gan_cross_entropy():
    assert OBJECTIVES['bgan'].critic_loss is OBJECTIVES['gan'].critic_loss


def bgan_model(*overrides):
    config = configure.load(['gan_type=bgan', 'preset_g=mlp_bernoulli', 'model.batch_size=4',
                             *overrides])
    return BinaryGAN(config['model'], config['train'], seed=0)


def test_the_samples_of_each_latent_are_sample_major():
    gan = bgan_model('model.samples_per_latent=3')
    logits = tf.reshape(tf.range(4 * 784, dtype=tf.float32), [4, 28, 28, 1])
    repeated = gan.samples_of_each(logits).numpy()
    assert repeated.shape == (12, 28, 28, 1)
    for m in range(3):  # sample m of latent b at row m * batch + b: reshape [M, batch]
        np.testing.assert_array_equal(repeated[4 * m:4 * (m + 1)], logits.numpy())


def numpy_log_likelihood(bits, logits):
    """log g(bits | z) summed over the pixels, in float64."""
    logits = logits.astype(np.float64)
    return (bits * -np.logaddexp(0., -logits) + (1. - bits) * -np.logaddexp(0., logits)).sum(
        axis=(1, 2, 3))


def test_the_joint_step_takes_both_losses_from_the_same_samples():
    """One joint step by hand, from the same random stream: the same samples, the
    discriminator's cross-entropy on the real images and all the samples, the generator's
    weighted log-likelihood and the effective sample size, from independent numpy."""
    gan, twin = bgan_model('model.samples_per_latent=5'), bgan_model('model.samples_per_latent=5')
    z = tf.random.stateless_normal([4, 128], seed=[1, 2])
    real = tf.cast(tf.random.stateless_uniform([4, 28, 28, 1], [3, 4]) < 0.2, tf.float32)
    logits = twin.samples_of_each(twin.generator_logits(z, True))
    bits, _ = twin.output_layer(logits, twin.rng)
    log_probs = numpy_log_likelihood(bits.numpy(), logits.numpy()).reshape(5, 4)
    scores = twin.critic(bits).numpy().astype(np.float64).reshape(5, 4)
    real_scores = twin.critic(real).numpy().astype(np.float64)
    weights = numpy_weights(scores)
    d_before = [w.numpy() for w in gan.discriminator.trainable_weights]
    d_loss, g_loss = boundary_seeking(gan, real, z)
    assert g_loss.numpy() == pytest.approx(-(weights * log_probs).sum(axis=0).mean(), rel=1e-5)
    cross_entropy = (np.logaddexp(0., -real_scores).mean() + np.logaddexp(0., scores).mean())
    assert d_loss.numpy() == pytest.approx(cross_entropy, rel=1e-5)
    assert gan.effective_sample_size.numpy() == pytest.approx(
        (1. / (weights ** 2).sum(axis=0)).mean(), rel=1e-5)
    assert gan.g_grad_norm.numpy() > 0
    assert any(np.any(w.numpy() != b) for w, b in zip(gan.discriminator.trainable_weights,
                                                       d_before))


@pytest.mark.parametrize('reduction, pixels', [('sum', 1), ('mean', 784)])
def test_the_log_likelihood_of_each_sample_of_each_latent(reduction, pixels):
    """2 samples of each of 3 latents (sample-major) against their latent's logits: the
    pixels' log-likelihoods summed, or averaged with seed 003's model.log_likelihood."""
    gan = bgan_model(f'model.log_likelihood={reduction}', 'model.samples_per_latent=2')
    logits = tf.random.stateless_normal([3, 28, 28, 1], seed=[5, 6]) * 3.
    bits = tf.cast(tf.random.stateless_uniform([6, 28, 28, 1], [7, 8]) < 0.3, tf.float32)
    expected = numpy_log_likelihood(bits.numpy(), np.tile(logits.numpy(), [2, 1, 1, 1]))
    np.testing.assert_allclose(gan.log_likelihood(bits, logits).numpy(), expected / pixels,
                               rtol=1e-5)


@pytest.mark.parametrize('fast', [True, False])
def test_the_critic_scores_real_images_and_more_samples_in_one_call(fast):
    gan = bgan_model(f'train.fast={fast}')
    critic = gan.critic
    assert isinstance(critic, FastCritic if fast else Critic)
    real = tf.cast(tf.random.stateless_uniform([4, 28, 28, 1], [0, 1]) < 0.2, tf.float32)
    fake = tf.cast(tf.random.stateless_uniform([80, 28, 28, 1], [0, 2]) < 0.2, tf.float32)
    real_scores, fake_scores = critic.scores(real, fake)
    np.testing.assert_allclose(real_scores.numpy(), gan.discriminator(real).numpy(), atol=1e-5)
    np.testing.assert_allclose(fake_scores.numpy(), gan.discriminator(fake).numpy(), atol=1e-5)


@pytest.mark.parametrize('overrides, message', [
    (['gan_type=bgan'], "draws samples from stochastic binary neurons"),
    (['gan_type=bgan', 'preset_g=mlp_bernoulli', 'model.gradient_estimator=straight_through'],
     "by the score function"),
    (['model.samples_per_latent=4'], "score-function ways' setting"),
    (['model.normalize_rewards=true', 'preset_g=mlp_bernoulli'], "REINFORCE's setting"),
    (['gan_type=bgan', 'preset_g=mlp_bernoulli', 'model.normalize_rewards=true'],
     "REINFORCE's setting"),
    (['model.log_likelihood=max'], "unknown model.log_likelihood 'max'; valid: sum, mean"),
    (['gan_type=bgan', 'preset_g=mlp_bernoulli', 'model.samples_per_latent=1'], "at least 2"),
    (['gan_type=bgan', 'preset_g=mlp_bernoulli', 'model.samples_per_latent=2.5'], "an integer"),
])
def test_settings_that_make_no_sense_are_refused(overrides, message):
    with pytest.raises(UserError, match=message):
        configure.load(overrides)


def test_bgan_trains_through_main_and_logs_the_effective_sample_size(tmp_path, synthetic_data):
    args = quick_run_args(synthetic_data, tmp_path, 'gan_type=bgan', 'preset_g=mlp_bernoulli',
                          'model.samples_per_latent=6', 'exp.exp_name=bgan')
    assert main.main(args) == 0
    rows = read_csv(tmp_path / 'bgan' / 'logs' / 'batch.csv')
    assert len(rows) == 3
    for row in rows:
        assert np.isfinite(float(row['g_loss'])) and np.isfinite(float(row['d_loss']))
        assert 1. <= float(row['effective_sample_size']) <= 6.
    config = json.loads((tmp_path / 'bgan' / 'config.json').read_text())
    assert config['model']['gradient_estimator'] == 'reinforce'
    assert config['model']['samples_per_latent'] == 6
    for grid in ('binary', 'preactivated'):
        assert (tmp_path / 'bgan' / 'samples' / f'step_000003_{grid}.png').is_file()
