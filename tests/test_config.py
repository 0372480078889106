import copy
import json
import os
import shutil
import subprocess
import sys

import numpy as np

from binarygan import configure
from conftest import ROOT, quick_run_args


def test_defaults_are_the_papers_main_model():
    config = configure.load()
    assert config['model']['gan_type'] == 'wgan-gp'
    assert config['model']['output_neurons'] == 'round'
    assert config['model']['batch_size'] == 64 and config['model']['z_dim'] == 128
    assert config['train']['num_epoch'] == 20
    assert config['exp']['exp_name'] == 'binarygan_wgan-gp_g_mlp_round_d_mlp'
    assert config['exp']['exp_dir'] == os.path.join(ROOT, 'exp', config['exp']['exp_name'])


def test_overrides_reach_every_section_with_the_right_types():
    config = configure.load(['gan_type=wgan', 'preset_g=mlp_bernoulli', '--optimizer=rmsprop',
                             'train.num_epoch=2', 'model.batch_size=32',
                             'model.learning_rate=2e-4', 'verbose=true',
                             'train.sample_grid=(4, 4)', 'exp.exp_name=mine'])
    assert config['model']['gan_type'] == 'wgan'
    assert config['model']['output_neurons'] == 'bernoulli'
    assert config['model']['optimizer'] == 'rmsprop'
    assert config['train']['num_epoch'] == 2 and config['model']['batch_size'] == 32
    assert config['model']['learning_rate'] == 2e-4
    assert config['train']['verbose'] is True
    assert config['train']['sample_grid'] == (4, 4)
    assert config['exp']['exp_name'] == 'mine'


def test_experiment_name_follows_the_setup():
    config = configure.load(['gan_type=gan', 'preset_d=mlp_bn', 'prefix=run1'])
    assert config['exp']['exp_name'] == 'run1_gan_g_mlp_round_d_mlp_bn'


IMPORTS = r"""
import importlib, json, os, pkgutil, sys


def changed(before):
    after = dict(os.environ)
    return {k: after.get(k) for k in set(before) | set(after) if before.get(k) != after.get(k)}


before = dict(os.environ)
import config, binarygan, binarygan.configure, binarygan.presets
light = changed(before)
tensorflow_loaded = 'tensorflow' in sys.modules
# What the libraries do when imported is theirs (TensorFlow sets TF2_BEHAVIOR, ...): they
# are imported before the rest of the project's modules, which are then compared to them.
import numpy, tensorflow, keras, imageio, matplotlib.figure, matplotlib.ticker
before = dict(os.environ)
import experiments, studies
for package in (binarygan, experiments, studies):
    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f'{package.__name__}.{module.name}')
import main, reproduce, bench
print(json.dumps({'light': light, 'tensorflow_loaded': tensorflow_loaded,
                  'rest': changed(before)}))
"""


def files_under(folder):
    return {os.path.relpath(os.path.join(parent, name), folder):
            os.stat(os.path.join(parent, name)).st_mtime_ns
            for parent, _, names in os.walk(folder) for name in names}


def test_what_importing_the_project_does(tmp_path):
    # A copy of the code, run from its folder: a file written next to the modules (e.g.
    # under exp/) or in the working directory appears in it, and trainings writing to the
    # checkout's exp/ meanwhile do not disturb the comparison.
    repo = tmp_path / 'repo'
    for package in ('binarygan', 'experiments', 'studies'):
        shutil.copytree(os.path.join(ROOT, package), repo / package,
                        ignore=shutil.ignore_patterns('__pycache__'))
    for name in ('config.py', 'main.py', 'reproduce.py', 'bench.py'):
        shutil.copy(os.path.join(ROOT, name), repo / name)
    files = files_under(tmp_path)
    # A bare environment: this process has what importing the project sets (conftest).
    env = {k: os.environ[k] for k in ('PATH', 'HOME', 'LANG', 'TMPDIR') if k in os.environ}
    result = subprocess.run([sys.executable, '-B', '-c', IMPORTS], cwd=repo, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    effects = json.loads(result.stdout.strip().splitlines()[-1])
    assert files_under(tmp_path) == files  # no file written or changed
    # Importing the package and main.py sets nothing and loads no TensorFlow; bench.py, a
    # script that loads TensorFlow when imported, sets its options first.
    assert effects == {'light': {}, 'tensorflow_loaded': False,
                       'rest': {'TF_CPP_MIN_LOG_LEVEL': '2', 'TF_ENABLE_ONEDNN_OPTS': '1'}}


def test_resuming_ignores_settings_the_code_no_longer_reads():
    requested = configure.load()
    saved = copy.deepcopy(requested)
    saved['train']['deterministic'] = True  # a key of an earlier version
    assert configure.differences(saved, requested) == []
    saved['train']['n_critic'] = 3
    assert configure.differences(saved, requested) == ['train.n_critic']


def flattened(config):
    return {(section, key): value for section, values in config.items()
            for key, value in values.items()}


def test_protocols_set_exactly_the_settings_they_name():
    paper, original = (flattened(configure.load([f'protocol={name}']))
                       for name in ('paper', 'original_code'))
    assert {key for key in paper if paper[key] != original[key]} == {
        ('setup', 'protocol'), ('model', 'bn_mode'), ('train', 'slope_annealing_rate'),
        ('model', 'rmsprop_initial_accumulator')}
    for name, config in (('paper', paper), ('original_code', original)):
        for key, value in configure.PROTOCOLS[name].items():
            assert config[key] == value, (name, key)
    assert (original[('model', 'bn_mode')], original[('train', 'slope_annealing_rate')],
            original[('model', 'initial_slope')]) == ('affine', 1.0, 1.0)
    # A value given for one of its settings is used instead of the protocol's.
    mixed = configure.load(['protocol=original_code', 'model.bn_mode=batch'])
    assert mixed['model']['bn_mode'] == 'batch'
    assert mixed['train']['slope_annealing_rate'] == 1.0


def test_an_experiment_refuses_to_resume_under_another_protocol(tmp_path, synthetic_data,
                                                                capsys):
    import main
    args = quick_run_args(synthetic_data, tmp_path, 'exp.exp_name=run')
    assert main.main(args) == 0
    capsys.readouterr()
    assert main.main(args + ['protocol=original_code']) == 2
    line = capsys.readouterr().err.strip()
    assert "exists with other settings (model.bn_mode 'batch' -> 'affine'; " \
           "model.rmsprop_initial_accumulator 0.0 -> 1.0; setup.protocol 'paper' -> " \
           "'original_code' and 1 more)" in line


def test_rmsprop_of_the_original_code_starts_its_accumulators_at_one():
    import tensorflow as tf
    from binarygan.optimizers import make_optimizer
    gradient = np.array([0.5, -2.0, 1e-3], np.float32)
    for protocol, start in (('paper', 0.), ('original_code', 1.)):
        model = configure.load([f'protocol={protocol}', 'optimizer=rmsprop'])['model']
        variable = tf.Variable(np.zeros(3, np.float32))
        optimizer = make_optimizer(model, model['learning_rate'])
        optimizer.build([variable])
        optimizer.apply_gradients([(tf.constant(gradient), variable)])
        # TensorFlow 1's RMSPropOptimizer: ms = decay ms + (1 - decay) g^2, from `start`;
        # the variable moves by lr g / sqrt(ms + epsilon).
        ms = 0.9 * start + 0.1 * gradient.astype(np.float64) ** 2
        np.testing.assert_allclose(variable.numpy(), -1e-4 * gradient / np.sqrt(ms + 1e-8),
                                   rtol=1e-5)


def test_settings_that_default_to_none_are_read_as_their_type():
    config = configure.load([
        'exp_name=1e3', 'pretrained_dir=007', 'training_data=1', 'model.bn_mode=affine',
        'model.output_neurons=real', 'train.slope_annealing_rate=2', 'model.initial_slope=1',
        'model.rmsprop_initial_accumulator=0',
        "model.net_d=[('reshape', (784,)), ('dense', 1, None, None)]", 'exp.seed=7'])
    assert config['exp']['exp_name'] == '1e3'
    assert config['exp']['exp_dir'] == os.path.join(ROOT, 'exp', '1e3')
    assert config['exp']['pretrained_dir'] == os.path.join(ROOT, '007')
    assert config['data']['training_data'] == os.path.join(ROOT, '1')
    assert config['model']['bn_mode'] == 'affine' and config['model']['output_neurons'] == 'real'
    for section, name in (('train', 'slope_annealing_rate'), ('model', 'initial_slope'),
                          ('model', 'rmsprop_initial_accumulator')):
        assert type(config[section][name]) is float, name
    assert config['train']['slope_annealing_rate'] == 2.0
    assert config['model']['net_d'] == [('reshape', (784,)), ('dense', 1, None, None)]
    assert config['exp']['seed'] == 7
    # 'none' gives such a setting back to the protocol, SETUP or derivation
    config = configure.load(['model.bn_mode=none', 'exp_name=None', 'protocol=original_code'])
    assert config['model']['bn_mode'] == 'affine'
    assert config['exp']['exp_name'] == 'binarygan_wgan-gp_g_mlp_round_d_mlp'


def test_paths_expand_the_home_folder():
    config = configure.load(['data.training_data=~/x.npy', 'exp.exp_root=~/runs',
                             'pretrained_dir=~/runs/a', 'exp_name=b'])
    assert config['data']['training_data'] == os.path.expanduser('~/x.npy')
    assert config['exp']['exp_dir'] == os.path.expanduser('~/runs/b')
    assert config['exp']['pretrained_dir'] == os.path.expanduser('~/runs/a')
