"""python -m binarygan.sample: samples of a trained generator as PNG grids and .npy files."""
import os

import imageio.v2 as imageio
import numpy as np
import pytest

import main
from binarygan import sample
from conftest import quick_run_args, snapshot, write_synthetic_data


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """{preset_g: experiment folder} of 3-step runs with binary and real-valued outputs,
    checkpoints at steps 2 and 3."""
    root = tmp_path_factory.mktemp('trained')
    data = write_synthetic_data(root)
    for preset in ('mlp_round', 'mlp_real'):
        assert main.main(quick_run_args(data, root, f'exp.exp_name={preset}',
                                        f'preset_g={preset}',
                                        'train.checkpoint_every_steps=2')) == 0
    return {preset: root / preset for preset in ('mlp_round', 'mlp_real')}


@pytest.mark.parametrize('preset, outputs', [
    ('mlp_round', {'binary': True, 'preactivated': False}),
    ('mlp_real', {'raw': False, 'threshold': True, 'bernoulli': True})])
def test_samples_of_the_latest_checkpoint(trained, preset, outputs, capsys):
    exp_dir = trained[preset]
    assert sample.main([str(exp_dir), '--num', '5', '--seed', '3']) == 0
    prefix = exp_dir / 'samples' / 'sampled_000003'
    paths = [f'{prefix}_{name}.{ending}' for name in outputs for ending in ('png', 'npy')]
    assert capsys.readouterr().out == (
        f"5 samples from {exp_dir / 'checkpoints' / 'ckpt-3'} (step 3): {', '.join(paths)}\n")
    for name, binary in outputs.items():
        images = np.load(f'{prefix}_{name}.npy')
        assert images.shape == (5, 28, 28, 1) and images.dtype == np.float32
        if binary:
            assert set(np.unique(images)) <= {0., 1.}
        else:  # sigmoid outputs, not all 0 or 1
            assert 0 <= images.min() and images.max() <= 1
            assert not set(np.unique(images)) <= {0., 1.}
        grid = imageio.imread(f'{prefix}_{name}.png')  # 2 rows of 3: 28 pixels and a line
        assert grid.shape == (2 * 29 - 1, 3 * 29 - 1)
        np.testing.assert_array_equal(grid[:28, :28], np.round(images[0, ..., 0] * 255))


def test_same_seed_same_samples_elsewhere_and_from_a_given_checkpoint(trained, tmp_path):
    exp_dir = trained['mlp_round']
    checkpoint = str(exp_dir / 'checkpoints' / 'ckpt-2')
    for name, seed in (('a', '7'), ('b', '7'), ('c', '8')):
        assert sample.main([str(exp_dir), '--num', '16', '--seed', seed, '--checkpoint',
                            checkpoint, '--out', str(tmp_path / 'new' / f'{name}.png')]) == 0
    a, b, c = (np.load(tmp_path / 'new' / f'{name}_preactivated.npy') for name in 'abc')
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert sample.main([str(exp_dir), '--num', '16', '--seed', '7', '--checkpoint',
                        checkpoint]) == 0  # named after the checkpoint's step
    np.testing.assert_array_equal(
        np.load(exp_dir / 'samples' / 'sampled_000002_preactivated.npy'), a)
    assert sample.main([str(exp_dir), '--num', '16', '--seed', '7', '--out',
                        str(tmp_path / 'latest')]) == 0  # ckpt-3
    assert not np.array_equal(np.load(tmp_path / 'latest_preactivated.npy'), a)
    assert sorted(os.listdir(tmp_path / 'new')) == sorted(
        f'{name}_{output}.{ending}' for name in 'abc' for output in ('binary', 'preactivated')
        for ending in ('png', 'npy'))


def test_bad_input_is_one_line_and_writes_nothing(trained, tmp_path, capsys):
    exp_dir = trained['mlp_round']
    untrained = tmp_path / 'untrained'
    untrained.mkdir()
    (untrained / 'config.json').write_text((exp_dir / 'config.json').read_text())
    a_file = tmp_path / 'a_file'
    a_file.write_text('')
    before = snapshot(exp_dir)
    for argv, message in [
            ([str(tmp_path)], f"{tmp_path} is not an experiment folder (it has no config.json)"),
            ([str(untrained)], f"no checkpoint in {untrained}: train it first"),
            ([str(exp_dir), '--num', '0'], "--num must be at least 1, not 0"),
            ([str(exp_dir), '--out', str(a_file / 'samples')],
             f"cannot write {a_file / 'samples'}_* ({a_file}: File exists): give another "
             "--out")]:
        assert sample.main(argv) == 2
        assert capsys.readouterr().err == f"error: {message}\n"
    with pytest.raises(SystemExit) as stopped:
        sample.main([str(exp_dir), '--num', 'many'])
    assert stopped.value.code == 2
    assert capsys.readouterr().err == (
        "error: argument --num: invalid int value: 'many' (see --help)\n")
    assert snapshot(exp_dir) == before
    assert sorted(os.listdir(tmp_path)) == ['a_file', 'untrained']
