"""The speed paths of binarygan/fast/ (train.fast) compute what the plain code does:
the whole training iteration, and each path on its own: the critic's layers with
hand-written gradients, real and fake images in one pass, the gradient penalty from the
first dense layer, and a batch in independent parts (train.batch_parts)."""
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from binarygan import configure
from binarygan.data import BatchSampler
from binarygan.fast import layers as fast_layers
from binarygan.fast.critic import FastCritic
from binarygan.fast.policy import batch_parts
from binarygan.gan import BinaryGAN, Critic
from binarygan.networks import build_network
from binarygan.objectives import gradient_penalty
from binarygan.presets import DISCRIMINATOR_PRESETS
from conftest import ROOT, quick_run_args

IMAGES = (np.random.RandomState(0).rand(32, 28, 28, 1) > 0.8).astype(np.uint8)
RNG = np.random.RandomState(0)
REAL, FAKE = (tf.constant((RNG.rand(8, 28, 28, 1) < p).astype(np.float32)) for p in (0.2, 0.5))
EPSILON = tf.constant(RNG.rand(8, 1, 1, 1).astype(np.float32))


def model(overrides, seed=0):
    config = configure.load(['model.batch_size=8', *overrides])
    return BinaryGAN(config['model'], config['train'], seed)


def iterations(gan, count, n_critic=3):
    """The losses of ``count`` training iterations on IMAGES."""
    sampler = BatchSampler(IMAGES, gan.batch_size, gan.rng)
    sampler.shuffle()
    iteration = gan.iteration_function(sampler, n_critic)
    return [loss.numpy() for i in range(count)
            for loss in iteration(tf.constant(n_critic), tf.constant(i))]


def critic_loss(gan, real, fake, epsilon):
    """The critic step's loss, as gan.critic_step computes it."""
    if gan.objective.penalizes_gradients:
        scores, penalty = gan.critic.scores_and_penalty(real, fake, epsilon)
        return gan.objective.critic_loss(*scores) + gan.gp_coefficient * penalty
    return gan.objective.critic_loss(*gan.critic.scores(real, fake))


# XLA draws other random numbers than TensorFlow's kernels from the same generator state
# (the same distribution): it is compared where the steps draw none (DBNs, no penalty).
@pytest.mark.parametrize('overrides', [
    ['preset_g=mlp_round', 'preset_d=mlp', 'gan_type=wgan', 'optimizer=rmsprop'],  # XLA
    ['preset_g=mlp_bernoulli', 'preset_d=mlp', 'gan_type=wgan-gp', 'train.jit_compile=off'],
    ['preset_g=cnn_round', 'preset_d=cnn', 'gan_type=wgan-gp'],  # layers, two parts
    ['preset_g=cnn_bernoulli', 'preset_d=cnn_bn', 'gan_type=gan'],  # batch statistics
])
def test_the_fast_and_the_plain_path_train_alike(monkeypatch, overrides):
    monkeypatch.setattr(os, 'cpu_count', lambda: 2)  # two parts where they apply
    fast, plain = (model([*overrides, f'train.fast={on}']) for on in ('true', 'false'))
    assert isinstance(plain.critic, Critic) and isinstance(fast.critic, FastCritic)
    assert not any(isinstance(layer, (fast_layers.Conv2D, fast_layers.LeakyReLU,
                                      fast_layers.MaxPooling2D))
                   for layer in plain.discriminator.layers)
    for a, b in zip(fast.generator.weights + fast.discriminator.weights,
                    plain.generator.weights + plain.discriminator.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())  # the same start
    # The losses of 3 iterations: rounding apart, the same training. Adam and RMSProp
    # turn a rounding difference in a gradient near 0 into a whole step (the first
    # RMSProp step is about lr times the gradient's sign), and WGAN's losses are small
    # differences of scores: so 1e-3 absolute, and 1e-2 relative after the first
    # iteration.
    fast_losses, plain_losses = iterations(fast, 3), iterations(plain, 3)
    for i, (a, b) in enumerate(zip(fast_losses, plain_losses)):
        first = i < 3  # (critic losses, generator loss, penalty) of the first iteration
        np.testing.assert_allclose(a, b, rtol=1e-4 if first else 1e-2, atol=1e-3)


def _in_paper_order(critic):
    """The critic's layers with each activation back before its max pooling."""
    ordered = list(critic.layers)
    for i in range(len(ordered) - 1):
        if isinstance(ordered[i], fast_layers.MaxPooling2D) and isinstance(ordered[i + 1],
                                                                        fast_layers.LeakyReLU):
            ordered[i], ordered[i + 1] = ordered[i + 1], ordered[i]
    return ordered


def _apply(layers, x):
    for layer in layers:
        x = layer(x)
    return x


def _stock_critic(critic):
    """The same network (shared weights) in the paper's layer order, activation before
    pooling, with Keras' own LeakyReLU and MaxPooling2D and TensorFlow's convolution."""
    stock = []
    for layer in _in_paper_order(critic):
        if isinstance(layer, fast_layers.LeakyReLU):
            stock.append(keras.layers.LeakyReLU(layer.negative_slope))
        elif isinstance(layer, fast_layers.MaxPooling2D):
            stock.append(keras.layers.MaxPooling2D(layer.window[1], layer.strides[1],
                                                   padding=layer.padding.lower()))
        elif isinstance(layer, fast_layers.Conv2D):
            stock.append(lambda x, conv=layer: tf.nn.conv2d(x, conv.kernel, 1, 'VALID')
                         + conv.bias)
        else:
            stock.append(layer)
    return lambda x: _apply(stock, x)


def test_activation_after_max_pooling_gives_the_paper_order_scores_bit_for_bit():
    critic = build_network(DISCRIMINATOR_PRESETS['cnn'], (28, 28, 1), 'critic')
    assert [type(layer) for layer in critic.layers[:3]] == [
        fast_layers.Conv2D, fast_layers.MaxPooling2D, fast_layers.LeakyReLU]
    images = tf.constant((np.random.RandomState(0).rand(8, 28, 28, 1) < 0.2)
                         .astype(np.float32))  # blank regions: ties in the pooling
    np.testing.assert_array_equal(critic(images).numpy(),
                                  _apply(_in_paper_order(critic), images).numpy())


@pytest.mark.parametrize('preset_d', ['mlp', 'cnn'])
def test_critic_layers_have_the_stock_first_and_second_derivatives(preset_d):
    # Ties in the max pooling (a blank image region) are resolved as by TensorFlow.
    gan = model([f'preset_d={preset_d}', 'gan_type=wgan-gp'])
    rng = np.random.RandomState(0)
    real = tf.constant((rng.rand(8, 28, 28, 1) < 0.2).astype(np.float32))
    fake = tf.constant((rng.rand(8, 28, 28, 1) < 0.5).astype(np.float32))
    epsilon = tf.constant(rng.rand(8, 1, 1, 1).astype(np.float32))
    stock = _stock_critic(gan.discriminator)
    results = []
    for critic in (gan.discriminator, stock):
        with tf.GradientTape() as tape:
            loss = (tf.reduce_mean(critic(fake)) - tf.reduce_mean(critic(real))
                    + 10. * gradient_penalty(critic, real, fake, epsilon))
        results.append([loss] + tape.gradient(loss, gan.discriminator.trainable_variables))
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize('size, pool, strides, padding', [
    (26, 2, 2, 'valid'), (27, 2, 2, 'valid'), (11, 2, 2, 'same'), (10, 3, 3, 'same'),
    (9, 3, 2, 'valid')])
def test_max_pooling_has_the_stock_first_and_second_derivatives_bit_for_bit(size, pool,
                                                                           strides, padding):
    rng = np.random.RandomState(0)
    # Half the values tie, as in a blank image region.
    x = tf.constant(np.where(rng.rand(2, size, size, 3) < 0.5, 0.25,
                             rng.randn(2, size, size, 3)).astype(np.float32))
    ours = fast_layers.MaxPooling2D(pool, strides, padding)
    stock = keras.layers.MaxPooling2D(pool, strides, padding)
    v = tf.Variable(rng.randn(*stock(x).shape).astype(np.float32))
    w = tf.constant(rng.randn(*x.shape).astype(np.float32))
    results = []
    for layer in (ours, stock):
        with tf.GradientTape() as outer:
            with tf.GradientTape() as inner:
                inner.watch(x)
                pooled = layer(x)
                score = tf.reduce_sum(v * pooled)
            dx = inner.gradient(score, x)
            second = outer.gradient(tf.reduce_sum(w * dx), v)
        results.append((pooled, dx, second))
    for a, b in zip(*results):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize('channels, kernel', [(1, 3), (4, 3), (3, (2, 4))])
def test_convolution_has_the_stock_first_and_second_derivatives(channels, kernel):
    rng = np.random.RandomState(0)
    x = tf.constant(rng.randn(2, 9, 8, channels).astype(np.float32))
    ours = fast_layers.Conv2D(5, kernel)
    ours.build(x.shape)
    v = tf.Variable(rng.randn(*ours(x).shape).astype(np.float32))
    w = tf.constant(rng.randn(*x.shape).astype(np.float32))
    results = []
    for conv in (ours, lambda x: tf.nn.conv2d(x, ours.kernel, 1, 'VALID') + ours.bias):
        with tf.GradientTape() as outer:
            with tf.GradientTape() as inner:
                inner.watch(x)
                y = conv(x)
                score = tf.reduce_sum(v * y)
            dx, dkernel, dbias = inner.gradient(score, [x, ours.kernel, ours.bias])
            second = outer.gradient(tf.reduce_sum(w * dx), [v, ours.kernel])
        results.append([y, dx, dkernel, dbias, *second])
    for a, b in zip(*results):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-5)


def test_penalty_from_the_first_dense_layer_equals_the_penalty_at_the_interpolates():
    gan = model(['preset_d=mlp', 'gan_type=wgan-gp'])
    assert gan.critic.first_dense is gan.discriminator.layers[1]
    results = []
    for critic in (gan.critic, Critic(gan.discriminator, True)):
        with tf.GradientTape() as tape:
            scores, penalty = critic.scores_and_penalty(REAL, FAKE, EPSILON)
            loss = tf.reduce_mean(scores[1]) - tf.reduce_mean(scores[0]) + 10. * penalty
        results.append([loss, penalty]
                       + tape.gradient(loss, gan.discriminator.trainable_variables))
    for ours, plain in zip(*results):
        np.testing.assert_allclose(ours.numpy(), plain.numpy(), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize('preset_d', ['cnn', 'mlp_bn'])
def test_penalty_goes_through_the_whole_critic_after_a_convolution_or_batch_statistics(
        preset_d):
    assert model([f'preset_d={preset_d}']).critic.first_dense is None


@pytest.mark.parametrize('preset_d, bn_mode, one_pass', [
    ('mlp', 'batch', True), ('cnn', 'batch', True), ('mlp_bn', 'batch', False),
    ('mlp_bn', 'affine', True)])
def test_real_and_fake_share_a_critic_pass_unless_batch_norm_couples_them(preset_d, bn_mode,
                                                                         one_pass):
    gan = model([f'preset_d={preset_d}', f'model.bn_mode={bn_mode}'])
    assert gan.critic.couples_samples != one_pass
    plain = Critic(gan.discriminator, bn_mode == 'batch')
    for ours, separate in zip(gan.critic.scores(REAL, FAKE), plain.scores(REAL, FAKE)):
        np.testing.assert_allclose(ours.numpy(), separate.numpy(), rtol=1e-5, atol=1e-6)


def in_parts(parts, gan_type='wgan-gp'):
    gan = model([f'gan_type={gan_type}', 'preset_g=cnn_round', 'preset_d=cnn',
                 f'train.batch_parts={parts}'])
    assert gan.parts == parts
    return gan


@pytest.mark.parametrize('gan_type', ['wgan-gp', 'wgan', 'gan'])
def test_a_batch_in_parts_trains_with_the_losses_of_the_whole_batch(gan_type):
    losses = []
    for parts in (1, 2):
        gan = in_parts(parts, gan_type)
        losses.append(iterations(gan, 2))
    for whole, parted in zip(*losses):
        np.testing.assert_allclose(whole, parted, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize('gan_type', ['wgan-gp', 'gan'])
def test_a_batch_in_parts_has_the_gradients_of_the_whole_batch(gan_type):
    real = tf.constant(IMAGES[:8], tf.float32)
    z = tf.random.stateless_normal([8, 128], [1, 2])
    results = []
    for parts in (1, 2):
        gan = in_parts(parts, gan_type)
        fake, _ = gan.generate(z, True, gan.rng)
        with tf.GradientTape() as tape:  # the critic step's loss
            d_loss = critic_loss(gan, real, fake, EPSILON)
        d_gradients = tape.gradient(d_loss, gan.discriminator.trainable_variables)
        with tf.GradientTape() as tape:  # the generator step's loss
            fake, _ = gan.generate(z, True, gan.rng)
            g_loss = gan.objective.generator_loss(gan.critic(fake))
        g_gradients = tape.gradient(g_loss, gan.generator.trainable_variables)
        results.append(([d_loss, g_loss], d_gradients, g_gradients,
                        gan.generator.non_trainable_weights))  # moving statistics
    for whole, parted in zip(*results):
        # Relative to the network's largest gradient: a bias before batch normalization
        # (which cancels it) gets only rounding noise.
        scale = max(float(tf.reduce_max(tf.abs(value))) for value in whole)
        for one, two in zip(whole, parted):
            np.testing.assert_allclose(one.numpy(), two.numpy(), rtol=1e-4, atol=1e-5 * scale)


def test_batch_statistics_of_the_generator_span_the_whole_batch():
    z = tf.random.stateless_normal([8, 128], [1, 2])
    four, whole = in_parts(4), in_parts(1)
    logits = four.generator_logits(z, True)
    np.testing.assert_allclose(logits.numpy(), whole.generator(z, training=True).numpy(),
                               rtol=1e-5, atol=1e-5)
    for ours, theirs in zip(four.generator.non_trainable_weights,
                            whole.generator.non_trainable_weights):  # moving statistics
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-5, atol=1e-7)
    # Normalized over the whole batch, not over each part of two images.
    assert abs(float(tf.reduce_mean(logits[:2]))) > 1e-3


@pytest.mark.parametrize('overrides, cores, parts', [
    (['preset_g=cnn_round', 'preset_d=cnn'], 2, 2),
    (['preset_g=cnn_round', 'preset_d=cnn'], 1, 1),
    (['preset_g=cnn_round', 'preset_d=cnn', 'model.batch_size=15'], 2, 1),  # odd batch
    (['preset_g=cnn_round', 'preset_d=cnn_bn', 'gan_type=gan'], 2, 1),  # batch statistics
    (['preset_g=mlp_round', 'preset_d=mlp'], 2, 1),  # XLA runs one op at a time
    (['preset_g=mlp_round', 'preset_d=mlp', 'train.jit_compile=off'], 2, 2),
    (['preset_g=cnn_round', 'preset_d=cnn', 'train.batch_parts=4'], 2, 4),
])
def test_automatic_parts(monkeypatch, overrides, cores, parts):
    monkeypatch.setattr(os, 'cpu_count', lambda: cores)
    config = configure.load(overrides)
    assert batch_parts(config['model'], config['train']) == parts


def test_the_command_line_runs_a_convolutional_critic_one_thread_per_op(tmp_path,
                                                                        synthetic_data):
    args = quick_run_args(synthetic_data, tmp_path, 'preset_g=cnn_round', 'preset_d=cnn')
    script = ("import sys, main, tensorflow as tf\n"
              "status = main.main(sys.argv[1:], set_threads=True)\n"
              "print(status, tf.config.threading.get_intra_op_parallelism_threads())\n")
    env = {k: v for k, v in os.environ.items() if k != 'TF_NUM_INTRAOP_THREADS'}
    done = subprocess.run([sys.executable, '-c', script, *args], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    # Two parts on two or more cores, which they share; TensorFlow's default (0) on one.
    assert done.stdout.split()[-2:] == ['0', str(os.cpu_count() // 2)]
