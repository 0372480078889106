import json

import imageio.v2 as imageio
import numpy as np
import pytest

import main
from binarygan import configure
from binarygan.checkpoints import checkpoint_counters, find_checkpoint
from binarygan.gan import BinaryGAN
from binarygan.train import run
from conftest import quick_run_args, read_csv

GENERATORS = ['mlp_round', 'mlp_bernoulli', 'mlp_real', 'cnn_round', 'cnn_bernoulli', 'cnn_real']
OBJECTIVES = [('gan', 'adam', 'bn'), ('wgan', 'rmsprop', ''), ('wgan-gp', 'adam', '')]


@pytest.mark.parametrize('preset_g', GENERATORS)
@pytest.mark.parametrize('gan_type, optimizer, d_suffix', OBJECTIVES)
def test_every_preset_and_objective_trains(tmp_path, synthetic_data, preset_g, gan_type,
                                           optimizer, d_suffix):
    preset_d = preset_g.split('_')[0] + ('_' + d_suffix if d_suffix else '')
    args = quick_run_args(synthetic_data, tmp_path, f'gan_type={gan_type}',
                          f'optimizer={optimizer}', f'preset_g={preset_g}',
                          f'preset_d={preset_d}', 'exp.exp_name=run')
    assert main.main(args) == 0
    exp_dir = tmp_path / 'run'
    for name in ('config.json', 'model_summary.txt', 'model_stats.json', 'logs/step.csv',
                 'logs/batch.csv', 'logs/epoch.csv', 'checkpoints/checkpoint',
                 'samples/x_train.png', 'losses.png', 'samples.gif'):
        assert (exp_dir / name).is_file(), name
    batches = read_csv(exp_dir / 'logs/batch.csv')
    assert [int(row['step']) for row in batches] == [0, 1, 2]
    assert [int(row['n_critic']) for row in batches] == [3, 2, 2]
    assert len(read_csv(exp_dir / 'logs/step.csv')) == 7
    for row in batches:
        for key in ('d_loss', 'g_loss', 'gradient_penalty'):
            assert np.isfinite(float(row[key])), (key, row)
    stats = json.loads((exp_dir / 'model_stats.json').read_text())
    assert stats['params_g'] > 0 and stats['params_d'] > 0
    grids = ['binary', 'preactivated'] if not preset_g.endswith('real') else [
        'raw', 'threshold', 'bernoulli']
    for step in (0, 2, 3):
        for grid in grids:
            assert (exp_dir / f'samples/step_{step:06d}_{grid}.png').is_file()
    binary_grids = ['binary'] if not preset_g.endswith('real') else ['threshold', 'bernoulli']
    for grid in binary_grids:  # 0/255 pixels and the gray (128) separators only
        pixels = imageio.imread(exp_dir / f'samples/step_000003_{grid}.png')
        assert set(np.unique(pixels)) <= {0, 128, 255}


def test_samples_of_binary_generators_are_strictly_binary(tmp_path, synthetic_data):
    for preset_g in ('mlp_round', 'cnn_bernoulli'):
        gan = run(configure.load(quick_run_args(
            synthetic_data, tmp_path, f'preset_g={preset_g}', f'exp.exp_name={preset_g}')))
        import tensorflow as tf
        samples = gan.sample(tf.random.normal([200, 128]))
        assert set(np.unique(samples['binary'].numpy())) <= {0., 1.}
        preactivated = samples['preactivated'].numpy()
        assert preactivated.min() >= 0 and preactivated.max() <= 1
        assert len(np.unique(preactivated)) > 2


def test_resume_continues_step_counter_slope_and_logs(tmp_path, synthetic_data):
    # 64 images / batch 16 = 4 generator steps per epoch; slope x1.5 per epoch.
    base = quick_run_args(synthetic_data, tmp_path, 'train.slope_annealing_rate=1.5',
                          'train.num_epoch=3', 'exp.exp_name=resumed')
    exp_dir = tmp_path / 'resumed'
    gan = run(configure.load(base + ['train.max_steps=6']))
    assert checkpoint_counters(find_checkpoint(str(exp_dir))) == (6, 1)
    assert float(gan.slope.numpy()) == pytest.approx(1.5)
    gan = run(configure.load(base + ['train.max_steps=0']))
    assert checkpoint_counters(find_checkpoint(str(exp_dir))) == (12, 3)
    assert float(gan.slope.numpy()) == pytest.approx(1.5 ** 3)
    assert [int(r['step']) for r in read_csv(exp_dir / 'logs/batch.csv')] == list(range(12))
    epochs = read_csv(exp_dir / 'logs/epoch.csv')
    assert [int(r['epoch']) for r in epochs] == [0, 1, 2]
    assert [float(r['slope']) for r in epochs] == pytest.approx([1, 1.5, 2.25])

    # The resumed run's losses equal those of an uninterrupted one.
    straight = quick_run_args(synthetic_data, tmp_path, 'train.slope_annealing_rate=1.5',
                              'train.num_epoch=3', 'train.max_steps=0', 'exp.exp_name=straight')
    run(configure.load(straight))
    resumed_losses = [(r['d_loss'], r['g_loss']) for r in read_csv(exp_dir / 'logs/batch.csv')]
    straight_losses = [(r['d_loss'], r['g_loss'])
                       for r in read_csv(tmp_path / 'straight/logs/batch.csv')]
    assert resumed_losses == straight_losses


def test_pretrained_dir_restores_into_a_new_experiment(tmp_path, synthetic_data):
    run(configure.load(quick_run_args(synthetic_data, tmp_path, 'exp.exp_name=first')))
    # The learning rate is the new experiment's, not the checkpoint's.
    gan = run(configure.load(quick_run_args(
        synthetic_data, tmp_path, 'exp.exp_name=second', 'train.max_steps=5',
        'model.learning_rate=3e-4', f'pretrained_dir={tmp_path / "first"}')))
    assert checkpoint_counters(find_checkpoint(str(tmp_path / 'second'))) == (5, 1)
    assert float(gan.g_optimizer.learning_rate.numpy()) == pytest.approx(3e-4)
    assert float(gan.d_optimizer.learning_rate.numpy()) == pytest.approx(3e-4)
    assert [int(r['step']) for r in read_csv(tmp_path / 'second/logs/batch.csv')] == [3, 4]
    # Rerun: the experiment's own checkpoint wins over pretrained_dir.
    gan = run(configure.load(quick_run_args(
        synthetic_data, tmp_path, 'exp.exp_name=second', 'train.max_steps=6',
        'model.learning_rate=3e-4', f'pretrained_dir={tmp_path / "first"}')))
    assert [int(r['step']) for r in read_csv(tmp_path / 'second/logs/batch.csv')] == [3, 4, 5]


@pytest.mark.parametrize('arch', ['mlp', 'cnn'])
def test_same_seed_gives_the_same_losses(tmp_path, synthetic_data, arch):
    # TensorFlow runs independent ops concurrently (the CNN critic's loss and gradient
    # penalty passes): that must not change a digit.
    presets = [f'preset_g={arch}_bernoulli', f'preset_d={arch}']
    for name in ('a', 'b'):
        run(configure.load(quick_run_args(synthetic_data, tmp_path, *presets,
                                          f'exp.exp_name={name}', 'train.max_steps=4')))
    a = (tmp_path / 'a/logs/step.csv').read_text()
    assert a == (tmp_path / 'b/logs/step.csv').read_text()
    run(configure.load(quick_run_args(synthetic_data, tmp_path, *presets,
                                      'exp.exp_name=c', 'train.max_steps=4', 'seed=1')))
    assert a != (tmp_path / 'c/logs/step.csv').read_text()


def test_iteration_is_traced_once(tmp_path, synthetic_data, monkeypatch):
    iterations = []

    class Watched(BinaryGAN):
        def iteration_function(self, sampler, most_critic_steps):
            iterations.append(super().iteration_function(sampler, most_critic_steps))
            return iterations[-1]

    monkeypatch.setattr('binarygan.gan.BinaryGAN', Watched)
    run(configure.load(quick_run_args(synthetic_data, tmp_path, 'train.max_steps=6',
                                      'train.n_critic_warmup_every=3')))
    assert [f.experimental_get_tracing_count() for f in iterations] == [1]


def test_checkpoints_keep_the_names_earlier_versions_wrote(tmp_path, synthetic_data):
    # Experiments trained before a change must resume and evaluate after it: the objects
    # of the training checkpoint by name, as every version since the first has saved them.
    import tensorflow as tf
    run(configure.load(quick_run_args(synthetic_data, tmp_path, 'exp.exp_name=names',
                                      'sample_along_training=false')))
    names = {key.split('/')[0] for key, _ in tf.train.list_variables(
        find_checkpoint(str(tmp_path / 'names')))}
    # A variable is saved under the first path to it: the networks' weights under their
    # optimizers' names, the generator's moving statistics under its own (this critic
    # has none).
    assert names == {'generator', 'g_optimizer', 'd_optimizer', 'slope', 'rng', 'sample_rng',
                     'permutation', 'step', 'epoch', 'epoch_totals', 'save_counter',
                     '_CHECKPOINTABLE_OBJECT_GRAPH'}
