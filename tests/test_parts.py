"""A batch taken through the networks in independent parts (train.batch_parts): the
same training as in one piece, and the CPU threads that go with it."""
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from binarygan import configure
from binarygan.gan import BinaryGAN, batch_parts, discriminator_loss, generator_loss
from conftest import ROOT, quick_run_args

IMAGES = (np.random.RandomState(0).rand(32, 28, 28, 1) > 0.8).astype(np.uint8)


def model(parts, gan_type='wgan-gp'):
    config = configure.load([f'gan_type={gan_type}', 'preset_g=cnn_round', 'preset_d=cnn',
                             'model.batch_size=8', f'train.batch_parts={parts}'])
    gan = BinaryGAN(config['model'], config['train'], IMAGES, seed=0)
    assert gan.parts == parts
    return gan


@pytest.mark.parametrize('gan_type', ['wgan-gp', 'wgan', 'gan'])
def test_a_batch_in_parts_trains_with_the_losses_of_the_whole_batch(gan_type):
    losses = []
    for parts in (1, 2):
        gan = model(parts, gan_type)
        gan.shuffle()
        losses.append([loss.numpy() for i in range(2)
                       for loss in gan.train_iteration(tf.constant(3), tf.constant(i))])
    for whole, in_parts in zip(*losses):
        np.testing.assert_allclose(whole, in_parts, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize('gan_type', ['wgan-gp', 'gan'])
def test_a_batch_in_parts_has_the_gradients_of_the_whole_batch(gan_type):
    real = tf.constant(IMAGES[:8], tf.float32)
    z = tf.random.stateless_normal([8, 128], [1, 2])
    results = []
    for parts in (1, 2):
        gan = model(parts, gan_type)
        fake, _ = gan.generate(z, True, gan.rng)
        with tf.GradientTape() as tape:  # the critic step's loss
            if gan_type == 'wgan-gp':
                d_loss, _ = gan.wgan_gp_critic_loss(real, fake)
            else:
                d_loss = discriminator_loss(gan_type, *gan.critic_real_and_fake(real, fake))
        d_gradients = tape.gradient(d_loss, gan.discriminator.trainable_variables)
        with tf.GradientTape() as tape:  # the generator step's loss
            fake, _ = gan.generate(z, True, gan.rng)
            g_loss = generator_loss(gan_type, gan.by_parts(gan.critic, fake))
        g_gradients = tape.gradient(g_loss, gan.generator.trainable_variables)
        results.append(([d_loss, g_loss], d_gradients, g_gradients,
                        gan.generator.non_trainable_weights))  # moving statistics
    for whole, in_parts in zip(*results):
        # Relative to the network's largest gradient: a bias before batch normalization
        # (which cancels it) gets only rounding noise.
        scale = max(float(tf.reduce_max(tf.abs(value))) for value in whole)
        for one, two in zip(whole, in_parts):
            np.testing.assert_allclose(one.numpy(), two.numpy(), rtol=1e-4, atol=1e-5 * scale)


def test_batch_statistics_of_the_generator_span_the_whole_batch():
    z = tf.random.stateless_normal([8, 128], [1, 2])
    in_parts, whole = model(4), model(1)
    logits = in_parts.generator_logits(z, True)
    np.testing.assert_allclose(logits.numpy(), whole.generator(z, training=True).numpy(),
                               rtol=1e-5, atol=1e-5)
    for ours, theirs in zip(in_parts.generator.non_trainable_weights,
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
