import numpy as np
import pytest
import tensorflow as tf

from binarygan import configure
from binarygan.gan import (BinaryGAN, discriminator_loss, generator_loss, gradient_penalty,
                           uses_xla)

REAL = np.array([[2.0], [-1.0], [0.5]], np.float32)
FAKE = np.array([[-3.0], [0.0], [1.5]], np.float32)


def log_sigmoid(x):
    return -np.log1p(np.exp(-x))


def test_gan_losses_are_the_non_saturating_cross_entropies():
    d_loss = discriminator_loss('gan', REAL, FAKE).numpy()
    g_loss = generator_loss('gan', FAKE).numpy()
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
    np.testing.assert_allclose(discriminator_loss(gan_type, REAL, FAKE).numpy(), -1.0, rtol=1e-6)
    np.testing.assert_allclose(generator_loss(gan_type, FAKE).numpy(), 0.5, rtol=1e-6)


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
    images = (np.random.RandomState(0).rand(32, 28, 28, 1) > 0.8).astype(np.uint8)
    gan = BinaryGAN(config['model'], config['train'], images, seed=0)
    for variable in gan.discriminator.trainable_variables:  # far outside +-0.01
        variable.assign(tf.random.normal(variable.shape, stddev=1.0))
    gan.shuffle()
    gan.train_iteration(tf.constant(2), tf.constant(0))
    clip = config['model']['clip_value']
    for variable in gan.discriminator.trainable_variables:
        values = variable.numpy()
        assert np.all(np.abs(values) <= clip), variable.name
        assert np.any(np.abs(values) == np.float32(clip)), variable.name  # clipping happened


def test_critic_steps_reuse_the_generator_output_without_changing_the_losses():
    config = configure.load(['model.batch_size=8'])
    images = (np.random.RandomState(0).rand(32, 28, 28, 1) > 0.8).astype(np.uint8)
    fused, stepwise = (BinaryGAN(config['model'], config['train'], images, seed=3)
                       for _ in range(2))
    fused.shuffle()
    d_losses, _, _ = fused.train_iteration(tf.constant(3), tf.constant(0))

    # The same iteration by hand, recomputing the generator before every critic step.
    stepwise.shuffle()
    # Compiled as the training compiles them (XLA for the MLPs: the same rounding).
    jit = uses_xla(config['model'], config['train'])
    critic_step = tf.function(stepwise.critic_step, jit_compile=jit)
    generator_logits = tf.function(lambda z: stepwise.generator_logits(z, True),
                                   jit_compile=jit)
    real = tf.gather(stepwise.images, stepwise.permutation[:8])
    z = stepwise.rng.normal([8, 128])
    expected = [critic_step(real, generator_logits(z))[0].numpy() for _ in range(3)]
    np.testing.assert_allclose(d_losses.numpy(), expected, rtol=1e-5)


def _in_paper_order(critic):
    """The critic's layers with each activation back before its max pooling."""
    from binarygan import networks
    ordered = list(critic.layers)
    for i in range(len(ordered) - 1):
        if isinstance(ordered[i], networks.MaxPooling2D) and isinstance(ordered[i + 1],
                                                                        networks.LeakyReLU):
            ordered[i], ordered[i + 1] = ordered[i + 1], ordered[i]
    return ordered


def _apply(layers, x):
    for layer in layers:
        x = layer(x)
    return x


def _stock_critic(critic):
    """The same network (shared weights) in the paper's layer order, activation before
    pooling, with Keras' own LeakyReLU and MaxPooling2D and TensorFlow's convolution."""
    import keras
    from binarygan import networks
    stock = []
    for layer in _in_paper_order(critic):
        if isinstance(layer, networks.LeakyReLU):
            stock.append(keras.layers.LeakyReLU(layer.negative_slope))
        elif isinstance(layer, networks.MaxPooling2D):
            stock.append(keras.layers.MaxPooling2D(layer.window[1], layer.strides[1],
                                                   padding=layer.padding.lower()))
        elif isinstance(layer, networks.Conv2D):
            stock.append(lambda x, conv=layer: tf.nn.conv2d(x, conv.kernel, 1, 'VALID')
                         + conv.bias)
        else:
            stock.append(layer)
    return lambda x: _apply(stock, x)


def test_activation_after_max_pooling_gives_the_paper_order_scores_bit_for_bit():
    from binarygan import networks
    from binarygan.presets import DISCRIMINATOR_PRESETS
    critic = networks.build_network(DISCRIMINATOR_PRESETS['cnn'], (28, 28, 1), 'critic')
    assert [type(layer) for layer in critic.layers[:3]] == [
        networks.Conv2D, networks.MaxPooling2D, networks.LeakyReLU]
    images = tf.constant((np.random.RandomState(0).rand(8, 28, 28, 1) < 0.2)
                         .astype(np.float32))  # blank regions: ties in the pooling
    np.testing.assert_array_equal(critic(images).numpy(),
                                  _apply(_in_paper_order(critic), images).numpy())


@pytest.mark.parametrize('preset_d', ['mlp', 'cnn'])
def test_critic_layers_have_the_stock_first_and_second_derivatives(preset_d):
    # Ties in the max pooling (a blank image region) are resolved as by TensorFlow.
    gan = BinaryGAN(configure.load([f'preset_d={preset_d}', 'gan_type=wgan-gp'])['model'],
                    configure.load()['train'], np.zeros((64, 28, 28, 1), np.uint8), 0)
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
    import keras
    from binarygan import networks
    rng = np.random.RandomState(0)
    # Half the values tie, as in a blank image region.
    x = tf.constant(np.where(rng.rand(2, size, size, 3) < 0.5, 0.25,
                             rng.randn(2, size, size, 3)).astype(np.float32))
    ours = networks.MaxPooling2D(pool, strides, padding)
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


def test_penalty_from_the_first_dense_layer_equals_the_penalty_at_the_interpolates():
    gan = BinaryGAN(configure.load(['preset_d=mlp', 'model.batch_size=8'])['model'],
                    configure.load()['train'], np.zeros((8, 28, 28, 1), np.uint8), 0)
    assert gan.critic_first_dense is gan.discriminator.layers[1]
    rng = np.random.RandomState(0)
    real, fake = (tf.constant((rng.rand(8, 28, 28, 1) < p).astype(np.float32))
                  for p in (0.2, 0.5))
    state = gan.rng.state.numpy()
    results = []
    for first_dense in (gan.critic_first_dense, None):  # None: through the whole critic
        gan.critic_first_dense = first_dense
        gan.rng.state.assign(state)
        with tf.GradientTape() as tape:
            loss, penalty = gan.wgan_gp_critic_loss(real, fake)
        results.append([loss, penalty]
                       + tape.gradient(loss, gan.discriminator.trainable_variables))
    for ours, plain in zip(*results):
        np.testing.assert_allclose(ours.numpy(), plain.numpy(), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize('preset_d', ['cnn', 'mlp_bn'])
def test_penalty_goes_through_the_whole_critic_after_a_convolution_or_batch_statistics(
        preset_d):
    gan = BinaryGAN(configure.load([f'preset_d={preset_d}'])['model'],
                    configure.load()['train'], np.zeros((8, 28, 28, 1), np.uint8), 0)
    assert gan.critic_first_dense is None


@pytest.mark.parametrize('channels, kernel', [(1, 3), (4, 3), (3, (2, 4))])
def test_convolution_has_the_stock_first_and_second_derivatives(channels, kernel):
    from binarygan import networks
    rng = np.random.RandomState(0)
    x = tf.constant(rng.randn(2, 9, 8, channels).astype(np.float32))
    ours = networks.Conv2D(5, kernel)
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


@pytest.mark.parametrize('preset_d, bn_mode, one_pass', [
    ('mlp', 'batch', True), ('cnn', 'batch', True), ('mlp_bn', 'batch', False),
    ('mlp_bn', 'affine', True)])
def test_real_and_fake_share_a_critic_pass_unless_batch_norm_couples_them(preset_d, bn_mode,
                                                                         one_pass):
    gan = BinaryGAN(configure.load([f'preset_d={preset_d}', f'model.bn_mode={bn_mode}',
                                    'model.batch_size=8'])['model'],
                    configure.load()['train'], np.zeros((8, 28, 28, 1), np.uint8), 0)
    assert gan.critic_couples_samples != one_pass
    rng = np.random.RandomState(0)
    real, fake = (tf.constant((rng.rand(8, 28, 28, 1) < p).astype(np.float32))
                  for p in (0.2, 0.5))
    for ours, separate in zip(gan.critic_real_and_fake(real, fake),
                              (gan.critic(real), gan.critic(fake))):
        np.testing.assert_allclose(ours.numpy(), separate.numpy(), rtol=1e-5, atol=1e-6)
