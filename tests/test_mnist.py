"""On the real MNIST files: download script, loader and a short training run."""
import os
import subprocess

import numpy as np
import pytest
import tensorflow as tf

from binarygan import configure
from binarygan.data import load_training_data
from binarygan.gan import BinaryGAN
from binarygan.train import run
from conftest import ROOT, mnist_mirror

SCRIPT = os.path.join(ROOT, 'training_data', 'download_mnist.sh')


@pytest.fixture(scope='module')
def mnist_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp('mnist')
    env = dict(os.environ, MNIST_MIRROR=mnist_mirror(), MNIST_DIR=str(folder),
               MNIST_PUBLIC_MIRRORS='0')
    first = subprocess.run(['bash', SCRIPT], env=env, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    second = subprocess.run(['bash', SCRIPT], env=env, capture_output=True, text=True)
    assert second.returncode == 0 and second.stdout.count(': present') == 4, second.stdout
    assert sorted(os.listdir(folder)) == sorted([
        't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte',
        'train-images-idx3-ubyte', 'train-labels-idx1-ubyte'])
    return str(folder)


def test_merged_binarized_mnist(mnist_dir):
    images = load_training_data(mnist_dir, 'hd')
    assert images.shape == (70000, 28, 28, 1)
    assert set(np.unique(images)) == {0, 1}
    assert 0.18 <= images.mean() <= 0.21


def test_short_training_run_moves_ink_density_toward_the_data(mnist_dir, tmp_path):
    # With the original code's BN (affine) the ink density reaches the data's within
    # ~50 generator steps. With batch statistics (the default) the output layer's BN
    # keeps every pixel firing for about half of a batch until its shift has moved,
    # by at most ~1e-4 per Adam step: too slow for a short test.
    config = configure.load([f'data.training_data={mnist_dir}', f'exp.exp_root={tmp_path}',
                             'model.bn_mode=affine', 'train.max_steps=60',
                             'sample_along_training=false'])
    images = load_training_data(mnist_dir, 'hd')
    data_ink = images.mean()
    z = tf.random.stateless_normal([1000, 128], seed=(1, 2))
    untrained = BinaryGAN(config['model'], config['train'], config['exp']['seed'])
    ink_before = untrained.sample(z)['binary'].numpy().mean()
    trained = run(config)
    ink_after = trained.sample(z)['binary'].numpy().mean()
    print(f"ink density: data {data_ink:.3f}, before {ink_before:.3f}, after {ink_after:.3f}")
    assert abs(ink_after - data_ink) < 0.5 * abs(ink_before - data_ink)
