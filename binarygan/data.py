"""MNIST IDX files, binarization and loading of the training set."""
import gzip
import os

import numpy as np

from binarygan import UserError

IMAGES_MAGIC, LABELS_MAGIC = 2051, 2049
MNIST_FILES = {
    'train_images': 'train-images-idx3-ubyte',
    'train_labels': 'train-labels-idx1-ubyte',
    'test_images': 't10k-images-idx3-ubyte',
    'test_labels': 't10k-labels-idx1-ubyte',
}
MISSING_MNIST_HINT = ("run ./training_data/download_mnist.sh (set MNIST_MIRROR "
                      "to a folder or URL holding the .gz files when offline)")


def read_idx(path):
    """Read an IDX file of unsigned bytes (images or labels), gzipped or not.

    Checks the magic number, the dimensions and that the file length matches
    them exactly; raises UserError naming the file otherwise.
    """
    try:
        with open(path, 'rb') as f:
            raw = f.read()
    except OSError as e:
        raise UserError(f"cannot read {path}: {e.strerror}") from None
    if raw[:2] == b'\x1f\x8b':
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as e:
            raise UserError(f"{path} is a damaged gzip file ({e}); "
                            "delete it and download it again") from None
    elif path.endswith('.gz'):
        raise UserError(f"{path} is not a gzip file; delete it and download it again")
    if len(raw) < 4:
        raise UserError(f"{path} is too short to be an IDX file ({len(raw)} bytes)")
    magic = int.from_bytes(raw[:4], 'big')
    if magic not in (IMAGES_MAGIC, LABELS_MAGIC):
        raise UserError(f"{path} has magic number {magic}, expected {IMAGES_MAGIC} "
                        f"(images) or {LABELS_MAGIC} (labels): not an MNIST IDX file")
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise UserError(f"{path} is truncated inside its header")
    dims = tuple(int.from_bytes(raw[4 + 4 * i:8 + 4 * i], 'big') for i in range(ndim))
    expected = header + int(np.prod(dims))
    if len(raw) != expected:
        raise UserError(f"{path} holds {len(raw)} bytes but its header {dims} "
                        f"needs {expected}: the file is truncated or damaged")
    return np.frombuffer(raw, np.uint8, offset=header).reshape(dims)


def find_mnist_file(folder, key):
    """The path of an MNIST file in ``folder``, uncompressed or ``.gz``."""
    base = os.path.join(folder, MNIST_FILES[key])
    for path in (base, base + '.gz'):
        if os.path.isfile(path):
            return path
    raise UserError(f"MNIST file {MNIST_FILES[key]} not found in {folder}: "
                    f"{MISSING_MNIST_HINT}")


def binarize(images):
    """Pixels with nonzero intensity become 1, the others 0 (as uint8)."""
    return (np.asarray(images) > 0).astype(np.uint8)


def read_mnist_file(folder, key):
    """One of the MNIST_FILES of ``folder``, checked to be of its kind: 28x28 images or
    digit labels."""
    path = find_mnist_file(folder, key)
    array = read_idx(path)
    if key.endswith('_images'):
        fits, expected = array.ndim == 3 and array.shape[1:] == (28, 28), 'images of 28x28'
    else:
        fits, expected = array.ndim == 1 and (array.size == 0 or array.max() <= 9), 'labels 0-9'
    if not fits:
        found = (f"{len(array)} images of {array.shape[1]}x{array.shape[2]}" if array.ndim == 3
                 else f"{len(array)} labels from {array.min()} to {array.max()}"
                 if array.ndim == 1 and array.size else f"an array of shape {array.shape}")
        raise UserError(f"{path} holds {found}, not MNIST's {expected}: a file of another "
                        f"kind or data set; {MISSING_MNIST_HINT}")
    return array


def load_mnist(folder, split='merged', labels=False):
    """Binarized MNIST images of shape (N, 28, 28, 1) as uint8 0/1.

    ``split`` is 'train' (60,000), 'test' (10,000) or 'merged' (70,000, the
    paper's GAN training set). With ``labels`` also returns the digit labels.
    The labels are read, and their count checked against the images', either way.
    """
    if not os.path.isdir(folder):
        raise UserError(f"MNIST folder {folder} does not exist: {MISSING_MNIST_HINT}")
    parts = {'train': ['train'], 'test': ['test'], 'merged': ['train', 'test']}[split]
    images, label_values = [], []
    for part in parts:
        images.append(read_mnist_file(folder, part + '_images'))
        label_values.append(read_mnist_file(folder, part + '_labels'))
        if len(images[-1]) != len(label_values[-1]):
            raise UserError(
                f"{folder}: {MNIST_FILES[part + '_images']} holds {len(images[-1])} images but "
                f"{MNIST_FILES[part + '_labels']} {len(label_values[-1])} labels: a file of "
                f"another set; {MISSING_MNIST_HINT}")
    images = binarize(np.concatenate(images))[..., None]
    return (images, np.concatenate(label_values)) if labels else images


def as_image_batch(array, source):
    """Checks and reshapes a stored array to binarized (N, 28, 28, 1) uint8."""
    array = np.asarray(array)
    if array.dtype.kind not in 'biuf':
        raise UserError(f"{source} holds values of type {array.dtype}; expected numbers "
                        "(pixels 0/1 or 0-255)")
    if array.ndim == 2 and array.shape[1] == 784:
        array = array.reshape(-1, 28, 28)
    if array.ndim == 3:
        array = array[..., None]
    if array.ndim != 4 or array.shape[1:] != (28, 28, 1):
        raise UserError(f"{source} has shape {array.shape}; expected N images of "
                        "28x28 (N x 28 x 28, N x 28 x 28 x 1 or N x 784)")
    return binarize(array)


def load_training_data(name, location):
    """The training images as binarized (N, 28, 28, 1) uint8.

    location 'hd': ``name`` is an MNIST IDX folder (train and test merged) or
    a .npy file. location 'sa': ``name`` is a SharedArray name.
    """
    if location == 'hd':
        if not os.path.exists(name):
            hint = '' if name.endswith('.npy') else f": {MISSING_MNIST_HINT}"
            raise UserError(f"training data {name} does not exist{hint}")
        if os.path.isdir(name):
            return load_mnist(name, 'merged')
        if name.endswith('.npy'):
            try:
                return as_image_batch(np.load(name), name)
            except (ValueError, OSError, EOFError) as e:
                raise UserError(f"cannot read {name} as a .npy file: {e}") from None
        raise UserError(f"training data {name} is neither an MNIST folder nor a "
                        f".npy file: {MISSING_MNIST_HINT}")
    if location == 'sa':
        import SharedArray as sa
        try:
            array = sa.attach(name)
        except (FileNotFoundError, OSError):
            raise UserError(
                f"no SharedArray named {name!r}: store MNIST in shared memory first with "
                "`cd training_data && python ./load_mnist_to_sa.py ./mnist --binary --merge` "
                "(it stores 'binarized_mnist_x'; with --prefix P, 'P_binarized_mnist_x')"
            ) from None
        return as_image_batch(array, f"SharedArray {name!r}")
    raise UserError(f"unknown training data location {location!r}; valid: hd, sa")


class BatchSampler:
    """The training images in memory, as a TensorFlow variable, and the batches of an
    epoch's permutation of them, gathered inside the compiled training iteration.
    ``rng``: the training run's ``tf.random.Generator`` (its state is checkpointed).
    TensorFlow is imported here, not on import: this module is read before it starts."""

    def __init__(self, images, batch_size, rng):
        import tensorflow as tf
        self.batch_size, self.rng = batch_size, rng
        self.num_images = int(images.shape[0])
        # Not checkpointed: the images are input, not state.
        self.images = tf.Variable(tf.cast(images, tf.float32), trainable=False, name='images')
        self.permutation = tf.Variable(tf.range(self.num_images), trainable=False)

    def shuffle(self):
        """A new permutation of the training images, for a new epoch."""
        import tensorflow as tf
        self.permutation.assign(tf.argsort(self.rng.uniform([self.num_images])))

    def batch(self, index):
        """Batch ``index`` of the epoch's permutation."""
        import tensorflow as tf
        start = index * self.batch_size
        return tf.gather(self.images, self.permutation[start:start + self.batch_size])

    def random_batch(self):
        """A batch of images drawn at random (with replacement across batches)."""
        import tensorflow as tf
        indices = self.rng.uniform([self.batch_size], 0, self.num_images, dtype=tf.int32)
        return tf.gather(self.images, indices)
