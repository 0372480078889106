import os
import subprocess
import sys

import pytest

from binarygan import UserError, configure
from conftest import ROOT


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


@pytest.mark.parametrize('argument, message', [
    ('gan_type', "not key=value"),
    ('nonsense=1', "unknown key 'nonsense'"),
    ('model.nonsense=1', "unknown key 'model.nonsense'"),
    ('network.batch_size=1', "unknown section 'network'"),
    ('model.batch_size=big', "model.batch_size takes an integer"),
    ('model.learning_rate=fast', "takes a number"),
    ('verbose=maybe', "takes true or false"),
    ('train.sample_grid=8', "takes a tuple"),
    ('gan_type=lsgan', "unknown gan_type 'lsgan'; valid: gan, wgan, wgan-gp"),
    ('optimizer=sgd', "valid: adam, rmsprop"),
    ('preset_g=mlp_ternary', "valid: mlp_round"),
    ('preset_d=resnet', "valid: mlp, mlp_bn, cnn, cnn_bn"),
    ('training_data_location=s3', "valid: hd, sa"),
    ('model.batch_size=0', "model.batch_size must be a number greater than 0"),
    ('model.learning_rate=-1e-4', "model.learning_rate must be"),
    ('train.num_epoch=-1', "train.num_epoch must be a number at least 0"),
    ('train.slope_annealing_rate=0', "slope_annealing_rate must be"),
    ('model.clip_value=0', "clip_value must be"),
    ('model.z_dim=0', "z_dim must be"),
    ('train.n_critic=0', "train.n_critic must be a number at least 1"),
    ('train.eval_every=0', "train.eval_every must be a number at least 1"),
    ('train.eval_num_samples=1', "train.eval_num_samples must be a number at least 2"),
])
def test_bad_settings_are_refused_with_a_clear_message(argument, message):
    with pytest.raises(UserError, match=message.replace('(', r'\(').replace(')', r'\)')):
        configure.load([argument])


def test_evaluation_along_training_needs_the_mnist_files(tmp_path):
    with pytest.raises(UserError, match="eval_mnist_dir .* does not exist"):
        configure.load(['evaluate_along_training=true', f'train.eval_mnist_dir={tmp_path}/no'])
    assert configure.load([f'train.eval_mnist_dir={tmp_path}/no'])  # needed only when on


def test_importing_config_has_no_side_effects(tmp_path):
    before = sorted(os.listdir(ROOT))
    subprocess.run([sys.executable, '-c', 'import config'], cwd=ROOT, check=True)
    assert sorted(os.listdir(ROOT)) == before or set(os.listdir(ROOT)) - set(before) == {
        '__pycache__'}


def test_main_reports_bad_input_in_one_line_with_exit_code_2():
    result = subprocess.run([sys.executable, 'main.py', 'gan_type=lsgan'], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith('error: unknown gan_type')
    assert 'Traceback' not in result.stderr
