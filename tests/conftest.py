import csv
import gzip
import hashlib
import os
import struct
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
from binarygan import fast  # noqa: E402

fast.set_cpu_options()  # as main.py does, before TensorFlow loads


def write_synthetic_data(folder):
    """A small .npy training set of 64 binary 28x28 images with about 20% ink; its path."""
    path = os.path.join(folder, 'synthetic.npy')
    np.save(path, (np.random.RandomState(0).rand(64, 28, 28) > 0.8).astype(np.uint8))
    return path


@pytest.fixture
def synthetic_data(tmp_path):
    return write_synthetic_data(tmp_path)


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


def read_csv(path):
    with open(path, newline='') as f:
        return list(csv.DictReader(f))


def idx_bytes(array, magic=None):
    """``array`` as an IDX file of unsigned bytes."""
    magic = magic if magic is not None else (2051 if array.ndim == 3 else 2049)
    header = struct.pack('>I', magic) + b''.join(struct.pack('>I', d) for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_mnist(folder, n_train=5, n_test=3):
    """A tiny MNIST folder: the training files plain, the test files gzipped."""
    rng = np.random.RandomState(0)
    for name, array in (
            ('train-images-idx3-ubyte', rng.randint(0, 256, (n_train, 28, 28))),
            ('train-labels-idx1-ubyte', rng.randint(0, 10, n_train)),
            ('t10k-images-idx3-ubyte.gz', rng.randint(0, 256, (n_test, 28, 28))),
            ('t10k-labels-idx1-ubyte.gz', rng.randint(0, 10, n_test))):
        data = idx_bytes(array)
        (folder / name).write_bytes(gzip.compress(data) if name.endswith('.gz') else data)


def snapshot(folder):
    """{relative path: sha1 of the content} of every file under ``folder``, or None."""
    if not os.path.exists(folder):
        return None
    files = {}
    for parent, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(parent, name)
            with open(path, 'rb') as f:
                files[os.path.relpath(path, folder)] = hashlib.sha1(f.read()).hexdigest()
    return files


def refused(capsys, args, folder):
    """The one error line of ``main.main(args)``, after checking its exit status 2 and
    that ``folder`` is left as it was."""
    import main
    capsys.readouterr()
    before = snapshot(folder)
    assert main.main(args) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('error: '), lines
    assert snapshot(folder) == before
    return lines[0]


def scalar_and_image_events(logs_dir):
    """{step: {tag: value}} of the scalars and {step: {tag: (width, height)}} of the
    images in the TensorBoard event files of ``logs_dir``; a tag twice at a step fails."""
    from binarygan.logs import event_records
    scalars, images = {}, {}
    for name in sorted(os.listdir(logs_dir)):
        if '.tfevents.' not in name:
            continue
        for _, event in event_records(os.path.join(logs_dir, name)):
            for value in event.summary.value:
                found = images if value.HasField('image') else scalars
                tags = found.setdefault(event.step, {})
                assert value.tag not in tags, f"{value.tag} twice at step {event.step}"
                tags[value.tag] = ((value.image.width, value.image.height)
                                   if value.HasField('image') else value.simple_value)
    return scalars, images


@pytest.fixture(scope='session')
def classifier_dir(tmp_path_factory):
    """The FID classifier's cache, trained once per test session on the real MNIST."""
    from binarygan.fid_classifier import fid_reference
    folder = str(tmp_path_factory.mktemp('classifier'))
    fid_reference(folder, mnist_mirror())
    return folder
