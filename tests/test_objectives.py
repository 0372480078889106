import numpy as np
import pytest
import tensorflow as tf

from binarygan import configure
from binarygan.data import BatchSampler
from binarygan.fast.policy import uses_xla
from binarygan.gan import BinaryGAN
from binarygan.objectives import OBJECTIVES, gradient_penalty

REAL = np.array([[2.0], [-1.0], [0.5]], np.float32)
FAKE = np.array([[-3.0], [0.0], [1.5]], np.float32)
IMAGES = (np.random.RandomState(0).rand(32, 28, 28, 1) > 0.8).astype(np.uint8)


def log_sigmoid(x):
    return -np.log1p(np.exp(-x))


def test_gan_losses_are_the_non_saturating_cross_entropies():
    d_loss = OBJECTIVES['gan'].critic_loss(REAL, FAKE).numpy()
    g_loss = OBJECTIVES['gan'].generator_loss(FAKE).numpy()
    # By hand, s the sigmoid, -log s(x) = log(1 + e^-x) and log(1 - s(x)) = log s(-x):
    # D: -[log s(2) + log s(-1) + log s(.5)]/3 - [log s(3) + log s(0) + log s(-1.5)]/3
    #    = (0.1269 + 1.3133 + 0.4741)/3 + (0.0486 + 0.6931 + 1.7014)/3 = 0.6381 + 0.8144
    # G: -[log s(-3) + log s(0) + log s(1.5)]/3 = (3.0486 + 0.6931 + 0.2014)/3 = 1.3144
    np.testing.assert_allclose(d_loss, 0.6381 + 0.8144, atol=1e-3)
    np.testing.assert_allclose(g_loss, 1.3144, atol=1e-3)
    # The same formulas in numpy, to float precision.
    expected_d = -np.mean(log_sigmoid(REAL)) - np.mean(np.log1p(-1 / (1 + np.exp(-FAKE))))
    expected_g = -np.mean(log_sigmoid(FAKE))
    np.testing.assert_allclose(d_loss, expected_d, rtol=1e-6)
    np.testing.assert_allclose(g_loss, expected_g, rtol=1e-6)


@pytest.mark.parametrize('gan_type', ['wgan', 'wgan-gp'])
def test_wasserstein_losses(gan_type):
    # mean(fake) - mean(real) = (-1.5/3) - (1.5/3) = -1; generator: -mean(fake) = 0.5/3
    objective = OBJECTIVES[gan_type]
    np.testing.assert_allclose(objective.critic_loss(REAL, FAKE).numpy(), -1.0, rtol=1e-6)
    np.testing.assert_allclose(objective.generator_loss(FAKE).numpy(), 0.5, rtol=1e-6)
    # Only WGAN clips the critic's weights, only WGAN-GP penalizes its gradients.
    assert (objective.clips_weights, objective.penalizes_gradients) == (
        gan_type == 'wgan', gan_type == 'wgan-gp')


def test_gradient_penalty_of_a_linear_critic_with_known_gradient_norm():
    weights = tf.constant(np.full((28, 28, 1), 3. / 28., np.float32))  # ||w|| = 3

    def critic(x):
        return tf.reduce_sum(x * weights, axis=[1, 2, 3])

    rng = np.random.RandomState(0)
    real = tf.constant(rng.rand(4, 28, 28, 1), tf.float32)
    fake = tf.constant(rng.rand(4, 28, 28, 1), tf.float32)
    eps = tf.constant(rng.rand(4, 1, 1, 1), tf.float32)
    np.testing.assert_allclose(gradient_penalty(critic, real, fake, eps).numpy(), 4.0, rtol=1e-5)


def test_gradient_penalty_is_taken_at_the_interpolates():
    def critic(x):  # gradient = x, so the norm is ||x_hat||
        return 0.5 * tf.reduce_sum(tf.square(x), axis=[1, 2, 3])

    rng = np.random.RandomState(1)
    real, fake = rng.rand(3, 28, 28, 1), rng.rand(3, 28, 28, 1)
    eps = rng.rand(3, 1, 1, 1)
    x_hat = eps * real + (1 - eps) * fake
    expected = np.mean((np.sqrt(1e-8 + np.sum(x_hat ** 2, axis=(1, 2, 3))) - 1) ** 2)
    value = gradient_penalty(critic, *(tf.constant(a, tf.float32) for a in (real, fake, eps)))
    np.testing.assert_allclose(value.numpy(), expected, rtol=1e-5)


@pytest.mark.parametrize('preset_d', ['mlp', 'cnn'])
def test_weight_clipping_keeps_every_critic_weight_within_the_clip_value(preset_d):
    config = configure.load(['gan_type=wgan', 'optimizer=rmsprop', f'preset_d={preset_d}',
                             'model.batch_size=8'])
    gan = BinaryGAN(config['model'], config['train'], seed=0)
    for variable in gan.discriminator.trainable_variables:  # far outside +-0.01
        variable.assign(tf.random.normal(variable.shape, stddev=1.0))
    sampler = BatchSampler(IMAGES, 8, gan.rng)
    sampler.shuffle()
    gan.iteration_function(sampler, 2)(tf.constant(2), tf.constant(0))
    clip = config['model']['clip_value']
    for variable in gan.discriminator.trainable_variables:
        values = variable.numpy()
        assert np.all(np.abs(values) <= clip), variable.name
        assert np.any(np.abs(values) == np.float32(clip)), variable.name  # clipping happened


def test_critic_steps_reuse_the_generator_output_without_changing_the_losses():
    config = configure.load(['model.batch_size=8'])
    fused, stepwise = (BinaryGAN(config['model'], config['train'], seed=3) for _ in range(2))
    fused_batches = BatchSampler(IMAGES, 8, fused.rng)
    fused_batches.shuffle()
    d_losses, _, _ = fused.iteration_function(fused_batches, 3)(tf.constant(3), tf.constant(0))

    # The same iteration by hand, recomputing the generator before every critic step.
    batches = BatchSampler(IMAGES, 8, stepwise.rng)
    batches.shuffle()
    # Compiled as the training compiles them (XLA for the MLPs: the same rounding).
    jit = uses_xla(config['model'], config['train'])
    critic_step = tf.function(stepwise.critic_step, jit_compile=jit)
    generator_logits = tf.function(lambda z: stepwise.generator_logits(z, True),
                                   jit_compile=jit)
    real = batches.batch(0)
    z = stepwise.rng.normal([8, 128])
    expected = [critic_step(real, generator_logits(z))[0].numpy() for _ in range(3)]
    np.testing.assert_allclose(d_losses.numpy(), expected, rtol=1e-5)
