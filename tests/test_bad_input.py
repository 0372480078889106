"""Bad input ends before training with exit status 2 and one line on stderr that
says what is wrong and what to do, and leaves exp/ as it was."""
import gzip
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import main
from conftest import (ROOT, idx_bytes, quick_run_args, refused, write_mnist,
                      write_synthetic_data)


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """(arguments, experiment root) of a finished quick run named 'trained'."""
    root = tmp_path_factory.mktemp('trained')
    args = quick_run_args(write_synthetic_data(root), root / 'exp', 'exp.exp_name=trained')
    assert main.main(args) == 0
    return args, root / 'exp'


@pytest.mark.parametrize('argument, message', [
    # unknown choices
    ('preset_g=mlp_ternary', "unknown preset_g 'mlp_ternary'; valid: mlp_round, mlp_bernoulli, "
                             "mlp_real, cnn_round"),
    ('preset_d=resnet', "unknown preset_d 'resnet'; valid: mlp, mlp_bn, cnn, cnn_bn"),
    ('gan_type=lsgan', "unknown gan_type 'lsgan'; valid: gan, wgan, wgan-gp, bgan"),
    ('optimizer=sgd', "unknown optimizer 'sgd'; valid: adam, rmsprop"),
    ('training_data_location=s3', "valid: hd, sa"),
    # malformed overrides
    ('gan_type', "not key=value (e.g. gan_type=wgan"),
    ('nonsense=1', "unknown key 'nonsense'; valid: exp_name, prefix"),
    ('model.nonsense=1', "unknown key 'model.nonsense'; valid: model.gan_type"),
    ('network.batch_size=1', "unknown section 'network'"),
    ('model.batch_size=big', "model.batch_size takes an integer, not 'big'"),
    ('model.batch_size=1.5', "model.batch_size takes an integer"),
    ('model.learning_rate=fast', "model.learning_rate takes a number"),
    ('verbose=maybe', "verbose takes true or false"),
    ('train.sample_grid=8', "train.sample_grid takes a tuple such as (8, 8)"),
    ('train.slope_annealing_rate=fast', "train.slope_annealing_rate takes a number, not 'fast'"),
    ('exp.seed=1.5', "exp.seed takes an integer, not '1.5'"),
    ('model.net_g=abc', "model.net_g takes a list of layers as in binarygan/presets.py, "
                        "not 'abc'"),
    ('model.bn_mode=1', "unknown model.bn_mode '1'; valid: batch, affine"),
    # values out of range
    ('model.batch_size=0', "model.batch_size must be a number greater than 0, not 0"),
    ('model.learning_rate=-1e-4', "model.learning_rate must be a number greater than 0"),
    ('model.learning_rate=0', "model.learning_rate must be a number greater than 0"),
    ('train.num_epoch=-1', "train.num_epoch must be a number at least 1, not -1"),
    ('train.num_epoch=0', "train.num_epoch must be a number at least 1, not 0"),
    ('train.checkpoints_to_keep=0', "train.checkpoints_to_keep must be a number greater than 0"),
    ('train.slope_annealing_rate=0', "train.slope_annealing_rate must be a number greater than 0"),
    ('model.clip_value=0', "model.clip_value must be a number greater than 0"),
    ('model.z_dim=0', "model.z_dim must be a number greater than 0"),
    ('train.n_critic=0', "train.n_critic must be a number at least 1, not 0"),
    ('train.n_critic_warmup=0', "train.n_critic_warmup must be a number at least 1"),
    ('train.checkpoint_every_steps=-1', "train.checkpoint_every_steps must be a number at least 0"),
    ('train.eval_every=0', "train.eval_every must be a number at least 1, not 0"),
    ('train.eval_num_samples=1', "train.eval_num_samples must be a number at least 2, not 1"),
    ('train.batch_parts=3', "train.batch_parts must be 0 (automatic) or a whole number that "
                            "divides model.batch_size (16), not 3"),
    ('train.batch_parts=-2', "train.batch_parts must be 0 (automatic) or a whole number"),
    # numbers at their limits
    ('model.learning_rate=nan', "model.learning_rate must be a finite number, not nan"),
    ('model.learning_rate=1e400', "model.learning_rate must be a finite number, not inf"),
    ('train.slope_annealing_rate=inf', "train.slope_annealing_rate must be a finite number, "
                                       "not inf"),
    ('model.initial_slope=-inf', "model.initial_slope must be a finite number, not -inf"),
    ('model.gp_coefficient=nan', "model.gp_coefficient must be a finite number, not nan"),
    ('model.epsilon=inf', "model.epsilon must be a finite number, not inf"),
    ('model.gp_coefficient=1e39', "model.gp_coefficient must be at most 3.403e+38 (TensorFlow "
                                  "float32), not 1e+39"),
    ('model.beta1=1', "model.beta1 must be below 1, not 1.0"),
    ('model.rmsprop_momentum=1', "model.rmsprop_momentum must be below 1, not 1.0"),
    ('seed=-1', "seed must be an integer from 0 to 4294967295, not -1"),
    ('seed=4294967296', "seed must be an integer from 0 to 4294967295, not 4294967296"),
    ('train.n_critic=4294967296', "train.n_critic must be at most 2147483647, not 4294967296"),
    ('model.z_dim=4294967296', "model.z_dim must be at most 2147483647"),
    # grids and shapes
    ('train.sample_grid=(0, 8)', "train.sample_grid must be 2 whole numbers greater than 0, "
                                 "not (0, 8)"),
    ('train.sample_grid=(8, -1)', "train.sample_grid must be 2 whole numbers greater than 0"),
    ('train.sample_grid=(8,)', "train.sample_grid must be 2 whole numbers greater than 0"),
    ("train.sample_grid=('a', 8)", "train.sample_grid must be 2 whole numbers greater than 0"),
    ('train.sample_grid=(9, 9)', "train.sample_grid (9, 9) needs 81 training images; the "
                                 "training set has 64"),
    ('model.image_shape=(28, 28)', "model.image_shape must be 3 whole numbers greater than 0"),
    ('model.image_shape=(32, 32, 1)', "model.image_shape (32, 32, 1) is not the training "
                                      "images' (28, 28, 1)"),
    # layer lists
    ('model.net_g=[]', "model.net_g must be a non-empty list of layers"),
    ('model.net_d=[1]', "model.net_d: 1 is not a layer: a tuple starting with dense, conv"),
    ("model.net_d=[('conv',)]", "model.net_d: layer ('conv',) is not of the form "
                                "('conv', (filters, kernel, strides[, 'valid' or 'same']), "
                                "norm, act)"),
    ("model.net_d=[('dense', 1, 'bn', 'tanh')]", "is not of the form ('dense', units, norm, "
                                                 "act) (norm None, 'bn' or 'bn_after_act', "
                                                 "act None"),
    ("model.net_d=[('conv', (8, 3, 1, 'full'), None, None)]", "is not of the form ('conv', "
                                                              "(filters, kernel, strides["),
    ("model.net_g=[('crop', 0)]", "is not of the form ('crop', pixels)"),
    ('model.weight_init=he', "unknown model.weight_init 'he'; valid: truncated_normal, "
                             "torch_default"),
    ('model.output_bn=maybe', "model.output_bn takes true or false, not 'maybe'"),
    ("model.net_d=[('maxpool', (2, 2, 'full'))]", "is not of the form ('maxpool', "
                                                  "(pool, strides, 'valid' or 'same'))"),
    ("model.net_d=[('maxpool', (28, 28, 'valid')), ('reshape', (1,))]",
     "model.net_d has no layer with weights (dense, conv or transconv): nothing to train"),
    # experiment names that are not a plain folder name
    ('exp_name=a/b', "experiment name 'a/b' must be a plain folder name"),
    ('exp_name=..', "experiment name '..' must be a plain folder name"),
    ('exp_name= ', "experiment name ' ' must be a plain folder name"),
    ('exp_name=a\nb', "experiment name 'a\\nb' must be a plain folder name"),
    ('exp_name=' + 'x' * 256, "must be a plain folder name"),
])
def test_bad_setting(capsys, tmp_path, synthetic_data, argument, message):
    line = refused(capsys, quick_run_args(synthetic_data, tmp_path / 'exp', argument),
                   tmp_path / 'exp')
    assert message in line


def test_batch_parts_for_a_critic_with_batch_statistics(capsys, tmp_path, synthetic_data):
    args = quick_run_args(synthetic_data, tmp_path / 'exp', 'gan_type=gan', 'preset_d=mlp_bn',
                          'train.batch_parts=2')
    assert "train.batch_parts=2 needs a critic that scores each image on its own" in refused(
        capsys, args, tmp_path / 'exp')


def test_evaluation_along_training_without_the_mnist_files(capsys, tmp_path, synthetic_data):
    line = refused(capsys, quick_run_args(synthetic_data, tmp_path / 'exp',
                                          'evaluate_along_training=true',
                                          f'train.eval_mnist_dir={tmp_path}/none'),
                   tmp_path / 'exp')
    assert f"train.eval_mnist_dir {tmp_path}/none does not exist" in line
    (tmp_path / 'afile').write_text('not a folder')
    line = refused(capsys, quick_run_args(synthetic_data, tmp_path / 'exp',
                                          'evaluate_along_training=true',
                                          f'train.classifier_dir={tmp_path}/afile'),
                   tmp_path / 'exp')
    assert f"train.classifier_dir {tmp_path}/afile is a file, not a folder" in line


def test_batch_larger_than_the_training_set(capsys, tmp_path, synthetic_data):
    line = refused(capsys, quick_run_args(synthetic_data, tmp_path / 'exp',
                                          'model.batch_size=65'), tmp_path / 'exp')
    assert "model.batch_size 65 is larger than the training set (64 images)" in line


@pytest.mark.parametrize('network, message', [
    ("model.net_d=[('dense', 1, None, None)]",
     "the discriminator (model.net_d) gives shape (28, 28, 1), not one score per image"),
    ("model.net_g=[('dense', 784, None, None), ('reshape', (28, 28))]",
     "the generator (model.net_g) gives shape (28, 28), not the images' (28, 28, 1)"),
    ("model.net_d=[('reshape', (100,)), ('dense', 1, None, None)]",
     "the discriminator's layer ('reshape', (100,)) does not fit its input of shape (28, 28, 1)"),
])
def test_custom_network_that_does_not_fit(capsys, tmp_path, synthetic_data, network, message):
    line = refused(capsys, quick_run_args(synthetic_data, tmp_path / 'exp', network),
                   tmp_path / 'exp')
    assert message in line


def test_model_that_does_not_fit_in_memory(capsys, tmp_path, synthetic_data, monkeypatch):
    import tensorflow as tf

    def out_of_memory(*args):  # as TensorFlow says it for model.z_dim=2147483647
        raise tf.errors.ResourceExhaustedError(
            None, None, "OOM when allocating tensor with shape[2147483647,1024] and type float")

    monkeypatch.setattr('binarygan.gan.BinaryGAN', out_of_memory)
    line = refused(capsys, quick_run_args(synthetic_data, tmp_path / 'exp'), tmp_path / 'exp')
    assert line == ("error: the model does not fit in memory (a tensor of shape[2147483647,1024]):"
                    " give a smaller model.z_dim or network")


def test_missing_mnist_folder(capsys, tmp_path):
    line = refused(capsys, quick_run_args(tmp_path / 'mnist', tmp_path / 'exp'), tmp_path / 'exp')
    assert f"{tmp_path / 'mnist'} does not exist" in line
    assert 'download_mnist.sh' in line and 'MNIST_MIRROR' in line


def test_incomplete_mnist_folder(capsys, tmp_path):
    folder = tmp_path / 'mnist'
    folder.mkdir()
    write_mnist(folder)
    (folder / 't10k-images-idx3-ubyte.gz').unlink()
    line = refused(capsys, quick_run_args(folder, tmp_path / 'exp'), tmp_path / 'exp')
    assert 't10k-images-idx3-ubyte not found' in line
    assert 'download_mnist.sh' in line and 'MNIST_MIRROR' in line


@pytest.mark.parametrize('damage, message', [
    (lambda data: data[:-7], "holds 3929 bytes but its header (5, 28, 28) needs 3936"),
    (lambda data: data + b'\0', "holds 3937 bytes but its header (5, 28, 28) needs 3936"),
    (lambda data: b'\0\0\x09\x99' + data[4:], "has magic number 2457, expected 2051"),
    (lambda data: data[:10], "is truncated inside its header"),
], ids=['truncated', 'too long', 'wrong magic', 'cut in its header'])
def test_damaged_idx_file(capsys, tmp_path, damage, message):
    folder = tmp_path / 'mnist'
    folder.mkdir()
    write_mnist(folder)
    path = folder / 'train-images-idx3-ubyte'
    path.write_bytes(damage(path.read_bytes()))
    line = refused(capsys, quick_run_args(folder, tmp_path / 'exp'), tmp_path / 'exp')
    assert f"{path} {message}" in line


@pytest.mark.parametrize('name, array, message', [
    ('train-images-idx3-ubyte', np.zeros(5), "train-images-idx3-ubyte holds 5 labels from 0 to 0, "
                                             "not MNIST's images of 28x28: a file of another kind"),
    ('train-images-idx3-ubyte', np.zeros((5, 32, 32)), "train-images-idx3-ubyte holds 5 images of "
                                                       "32x32, not MNIST's images of 28x28"),
    ('train-labels-idx1-ubyte', np.zeros((5, 28, 28)), "train-labels-idx1-ubyte holds 5 images of "
                                                       "28x28, not MNIST's labels 0-9"),
    ('train-labels-idx1-ubyte', np.arange(250, 255), "train-labels-idx1-ubyte holds 5 labels from "
                                                     "250 to 254, not MNIST's labels 0-9"),
    ('train-labels-idx1-ubyte', np.zeros(4), "train-images-idx3-ubyte holds 5 images but "
                                             "train-labels-idx1-ubyte 4 labels: a file of "
                                             "another set"),
], ids=['labels as images', 'images of 32x32', 'images as labels', 'labels above 9',
        'fewer labels than images'])
def test_mnist_file_of_another_kind(capsys, tmp_path, name, array, message):
    folder = tmp_path / 'mnist'
    folder.mkdir()
    write_mnist(folder)
    (folder / name).write_bytes(idx_bytes(array))
    line = refused(capsys, quick_run_args(folder, tmp_path / 'exp', 'model.batch_size=2'),
                   tmp_path / 'exp')
    assert message in line and 'download_mnist.sh' in line


def test_mnist_train_and_test_swapped_are_accepted(tmp_path):
    folder = tmp_path / 'mnist'
    folder.mkdir()
    write_mnist(folder, n_train=3, n_test=5)
    from binarygan.data import load_training_data
    assert load_training_data(str(folder), 'hd').shape == (8, 28, 28, 1)


@pytest.mark.parametrize('array, message', [
    (np.full((64, 784), 'a'), "holds values of type <U1; expected numbers"),
    (np.ones((64, 784), complex), "holds values of type complex128; expected numbers"),
], ids=['strings', 'complex'])
def test_npy_file_of_other_values(capsys, tmp_path, array, message):
    path = tmp_path / 'images.npy'
    np.save(path, array)
    line = refused(capsys, quick_run_args(path, tmp_path / 'exp'), tmp_path / 'exp')
    assert f"{path} {message}" in line


def test_folders_that_are_files(capsys, tmp_path, synthetic_data):
    afile = tmp_path / 'afile'
    afile.write_text('not a folder')
    line = refused(capsys, quick_run_args(synthetic_data, afile), tmp_path)
    assert f"exp.exp_root {afile} is a file, not a folder" in line
    line = refused(capsys, quick_run_args(synthetic_data, tmp_path, 'exp.exp_name=afile'),
                   tmp_path)
    assert f"experiment {afile} is a file, not a folder" in line
    for pretrained, what in ((afile, 'is a file'), (tmp_path / 'missing', 'does not exist')):
        line = refused(capsys, quick_run_args(synthetic_data, tmp_path / 'exp',
                                              f'pretrained_dir={pretrained}'), tmp_path)
        assert f"pretrained_dir {pretrained} {what}: give an experiment folder" in line
    line = refused(capsys, quick_run_args(afile, tmp_path / 'exp'), tmp_path)
    assert f"training data {afile} is neither an MNIST folder nor a .npy file" in line


def test_gz_file_that_is_not_gzip(capsys, tmp_path):
    folder = tmp_path / 'mnist'
    folder.mkdir()
    write_mnist(folder)
    path = folder / 't10k-images-idx3-ubyte.gz'
    path.write_bytes(gzip.decompress(path.read_bytes()))
    line = refused(capsys, quick_run_args(folder, tmp_path / 'exp'), tmp_path / 'exp')
    assert f"{path} is not a gzip file; delete it and download it again" in line


def test_missing_shared_array(capsys, tmp_path):
    line = refused(capsys, quick_run_args('binarygan_test_no_such_array', tmp_path / 'exp',
                                          'training_data_location=sa'), tmp_path / 'exp')
    assert "no SharedArray named 'binarygan_test_no_such_array'" in line
    assert 'python ./load_mnist_to_sa.py ./mnist --binary --merge' in line


def test_pretrained_dir_without_checkpoint(capsys, tmp_path, synthetic_data):
    (tmp_path / 'empty').mkdir()
    line = refused(capsys, quick_run_args(synthetic_data, tmp_path / 'exp',
                                          f'pretrained_dir={tmp_path / "empty"}'), tmp_path)
    assert f"pretrained_dir {tmp_path / 'empty'} holds no checkpoint" in line


@pytest.mark.parametrize('change, message', [
    ('model.z_dim=64', "is of shape [128, 1024] there, of shape [64, 1024] here"),
    ('preset_d=mlp_bn', "does not fit this model (another architecture or optimizer?)"),
])
def test_pretrained_dir_of_another_architecture(capsys, trained, change, message):
    args, exp_root = trained
    line = refused(capsys, args + ['exp.exp_name=other', change, 'train.max_steps=6',
                                   f'pretrained_dir={exp_root / "trained"}'], exp_root)
    assert message in line


def test_pretrained_dir_at_the_end_of_the_training(capsys, trained):
    args, exp_root = trained  # trained for train.max_steps=3
    line = refused(capsys, args + ['exp.exp_name=other', f'pretrained_dir={exp_root / "trained"}'],
                   exp_root)
    assert (f"the checkpoint of pretrained_dir, {exp_root / 'trained/checkpoints/ckpt-3'}, is at "
            "the end of this training already (epoch 0 of 20, step 3 of 3): give a larger "
            "train.num_epoch or train.max_steps") in line


def test_existing_experiment_with_other_settings(capsys, trained):
    args, exp_root = trained
    line = refused(capsys, args + ['model.learning_rate=0.001', 'train.n_critic=3'], exp_root)
    # The generator's learning rate follows model.learning_rate when not given.
    assert ("exists with other settings (model.generator_learning_rate 0.0001 -> 0.001; "
            "model.learning_rate 0.0001 -> 0.001; train.n_critic 2 -> 3)") in line
    assert "rerun with its settings (saved in config.json) to resume it" in line
    assert "new exp_name=..." in line


def test_damaged_experiment_folder(capsys, trained, tmp_path):
    args, exp_root = trained
    shutil.copytree(exp_root, tmp_path / 'exp')
    args = args + [f'exp.exp_root={tmp_path / "exp"}']
    checkpoints = tmp_path / 'exp/trained/checkpoints'
    for name in os.listdir(checkpoints):
        if name.startswith('ckpt-'):
            (checkpoints / name).unlink()
    assert "names no complete checkpoint" in refused(capsys, args, tmp_path / 'exp')
    (tmp_path / 'exp/trained/config.json').write_text('{"setup": ')
    assert "cannot read" in refused(capsys, args, tmp_path / 'exp')


def test_no_traceback_from_the_command_line():
    result = subprocess.run([sys.executable, 'main.py', 'gan_type=lsgan'], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith('error: unknown gan_type')
    assert 'Traceback' not in result.stderr


@pytest.mark.parametrize('bad_gz', [
    b'<html>Not Found</html>',                                        # a wrong file
    gzip.compress(idx_bytes(np.zeros((9, 28, 28))))[:-50],  # cut short
])
def test_download_with_a_wrong_or_partial_file_leaves_nothing(tmp_path, bad_gz):
    mirror, dest = tmp_path / 'mirror', tmp_path / 'mnist'
    mirror.mkdir()
    (mirror / 'train-images-idx3-ubyte.gz').write_bytes(bad_gz)
    env = dict(os.environ, MNIST_MIRROR=str(mirror), MNIST_DIR=str(dest), MNIST_PUBLIC_MIRRORS='0')
    result = subprocess.run(['bash', os.path.join(ROOT, 'training_data', 'download_mnist.sh')],
                            env=env, capture_output=True, text=True)
    assert result.returncode == 2
    assert 'md5 mismatch' in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert 'no source gave a valid train-images-idx3-ubyte.gz; set MNIST_MIRROR' in last
    assert os.listdir(dest) == []
