import os
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
import tensorflow as tf  # noqa: E402

# What train.run sets for repeatable runs, before any test starts TensorFlow.
tf.config.threading.set_inter_op_parallelism_threads(1)


@pytest.fixture
def synthetic_data(tmp_path):
    """A small .npy training set of binary 28x28 images with about 20% ink."""
    path = tmp_path / 'synthetic.npy'
    np.save(path, (np.random.RandomState(0).rand(64, 28, 28) > 0.8).astype(np.uint8))
    return str(path)


def quick_run_args(data_path, exp_root, *extra):
    """Overrides for a few-second training run on synthetic data."""
    return [f'data.training_data={data_path}', f'exp.exp_root={exp_root}',
            'model.batch_size=16', 'train.max_steps=3', 'train.warmup_steps=1',
            'train.n_critic_warmup=3', 'train.n_critic=2', 'train.sample_every_steps=2',
            *extra]


def mnist_mirror():
    """The folder of the MNIST .gz files: $MNIST_MIRROR or ../shared/data/mnist."""
    folder = os.environ.get('MNIST_MIRROR') or os.path.join(ROOT, '..', 'shared', 'data', 'mnist')
    folder = os.path.abspath(os.path.join(ROOT, folder))
    if not os.path.isdir(folder):
        if os.environ.get('CI'):
            pytest.fail(f"MNIST mirror {folder} is missing in CI")
        pytest.skip(f"no MNIST mirror at {folder} (set MNIST_MIRROR)")
    return folder


@pytest.fixture(scope='session')
def classifier_dir(tmp_path_factory):
    """The reference classifier's cache, trained once per test session on the real MNIST."""
    from binarygan.classifier import reference
    folder = str(tmp_path_factory.mktemp('classifier'))
    reference(folder, mnist_mirror())
    return folder
