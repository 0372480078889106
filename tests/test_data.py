import gzip

import numpy as np
import pytest

from binarygan import UserError
from binarygan.data import binarize, load_mnist, load_training_data, read_idx
from conftest import idx_bytes, write_mnist

IMAGES = np.arange(3 * 4 * 5, dtype=np.uint8).reshape(3, 4, 5)
LABELS = np.array([7, 0, 9], np.uint8)


@pytest.mark.parametrize('array', [IMAGES, LABELS])
@pytest.mark.parametrize('compressed', [False, True])
def test_reads_idx_files_gzipped_or_not(tmp_path, array, compressed):
    data = idx_bytes(array)
    path = tmp_path / ('f.gz' if compressed else 'f')
    path.write_bytes(gzip.compress(data) if compressed else data)
    np.testing.assert_array_equal(read_idx(str(path)), array)


def test_truncated_file_is_refused(tmp_path):
    path = tmp_path / 'train-images-idx3-ubyte'
    path.write_bytes(idx_bytes(IMAGES)[:-7])
    with pytest.raises(UserError, match='truncated'):
        read_idx(str(path))


def test_file_longer_than_its_dimensions_is_refused(tmp_path):
    path = tmp_path / 'f'
    path.write_bytes(idx_bytes(IMAGES) + b'\0\0')
    with pytest.raises(UserError, match=r'header \(3, 4, 5\) needs 76'):
        read_idx(str(path))


def test_wrong_magic_number_is_refused(tmp_path):
    path = tmp_path / 'f'
    path.write_bytes(idx_bytes(IMAGES, magic=0x00000803 + 0x1000))
    with pytest.raises(UserError, match='magic number 6147, expected 2051'):
        read_idx(str(path))


def test_gz_that_is_not_gzip_is_refused(tmp_path):
    path = tmp_path / 'f.gz'
    path.write_bytes(idx_bytes(IMAGES))
    with pytest.raises(UserError, match='not a gzip file'):
        read_idx(str(path))


def test_damaged_gzip_is_refused(tmp_path):
    path = tmp_path / 'f.gz'
    path.write_bytes(gzip.compress(idx_bytes(IMAGES))[:-10])
    with pytest.raises(UserError, match='damaged gzip'):
        read_idx(str(path))


def test_binarize_maps_nonzero_pixels_to_one():
    np.testing.assert_array_equal(binarize(np.array([0, 1, 128, 255])), [0, 1, 1, 1])


def test_mnist_folder_merges_train_and_test(tmp_path):
    write_mnist(tmp_path)
    images, labels = load_mnist(str(tmp_path), 'merged', labels=True)
    assert images.shape == (8, 28, 28, 1) and labels.shape == (8,)
    assert set(np.unique(images)) <= {0, 1}
    assert load_training_data(str(tmp_path), 'hd').shape == (8, 28, 28, 1)


def test_missing_mnist_file_names_the_download_script(tmp_path):
    write_mnist(tmp_path)
    (tmp_path / 'train-images-idx3-ubyte').unlink()
    with pytest.raises(UserError, match='download_mnist.sh.*MNIST_MIRROR'):
        load_training_data(str(tmp_path), 'hd')


@pytest.mark.parametrize('shape', [(6, 28, 28), (6, 28, 28, 1), (6, 784)])
def test_npy_training_data(tmp_path, shape):
    path = tmp_path / 'x.npy'
    np.save(path, np.random.RandomState(0).rand(*shape))
    images = load_training_data(str(path), 'hd')
    assert images.shape == (6, 28, 28, 1) and images.dtype == np.uint8


def test_npy_of_wrong_shape_is_refused(tmp_path):
    path = tmp_path / 'x.npy'
    np.save(path, np.zeros((6, 27, 27)))
    with pytest.raises(UserError, match='shape'):
        load_training_data(str(path), 'hd')


def test_shared_array_round_trip_and_missing_name():
    import SharedArray as sa
    name = 'binarygan_test_images'
    try:
        sa.delete(name)
    except FileNotFoundError:
        pass
    array = sa.create(name, (4, 28, 28, 1), bool)
    array[0, 0, 0, 0] = True
    try:
        images = load_training_data(name, 'sa')
        assert images.shape == (4, 28, 28, 1) and images.sum() == 1
    finally:
        sa.delete(name)
    with pytest.raises(UserError, match='load_mnist_to_sa.py'):
        load_training_data(name, 'sa')
