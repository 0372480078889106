"""The binary-activation classifier study (seed 002's table): its neurons and estimators,
that each row trains as intended, resuming, the report and bad input."""
import itertools
import json
import os

import numpy as np
import pytest
import tensorflow as tf

from binarygan.data import MNIST_FILES, read_mnist_file
from binarygan.estimators import reinforce_surrogate
from conftest import idx_bytes, mnist_mirror, snapshot
from experiments.records import read_rows
from studies import binary_activations as study
from studies import binary_activations_network as network
from studies import binary_activations_table as table

TRAIN_IMAGES, TEST_IMAGES = 200, 50  # 180 to train on: 3 steps an epoch


@pytest.fixture(scope='module')
def mnist_slice():
    """The first real MNIST training and test images and labels."""
    folder = mnist_mirror()
    return [read_mnist_file(folder, key)[:count] for key, count in (
        ('train_images', TRAIN_IMAGES), ('train_labels', TRAIN_IMAGES),
        ('test_images', TEST_IMAGES), ('test_labels', TEST_IMAGES))]


@pytest.fixture
def mnist_folder(tmp_path, mnist_slice):
    """The slice as an MNIST IDX folder, for the command."""
    folder = tmp_path / 'mnist'
    folder.mkdir()
    for name, array in zip(MNIST_FILES.values(), mnist_slice):
        (folder / name).write_bytes(idx_bytes(array))
    return str(folder)


def test_the_seeds_table():
    assert len(table.ROWS) == 13 == len(table.ROWS_BY_NAME)
    assert table.ROWS_BY_NAME['stochastic_reinforce_both'].seed_accuracy == 80.68
    assert (table.ROWS_BY_NAME['deterministic_straight_through_first'].label
            == "Deterministic binary model in the first conv layer with ST")
    applies = {name: [row.name for row in table.ROWS if variant.applies(row)]
               for name, variant in table.VARIANTS.items()}
    assert applies['reinforce'] == ['stochastic_reinforce_first', 'stochastic_reinforce_last',
                                    'stochastic_reinforce_both']
    assert applies['reinforce_lr_0.01'] == applies['reinforce']
    assert [table.VARIANTS[v].learning_rate for v in ('seed', 'reinforce',
                                                       'reinforce_lr_0.01')] == [0.1, 0.1, 0.01]
    assert len(applies['annealed']) == 6 and len(applies['seed']) == 13
    assert [table.VARIANTS['annealed'].slope(epoch) for epoch in (0, 2)] == [1., 1.005 ** 2]
    assert table.VARIANTS['seed'].slope(5) == 1.


def test_binary_neurons_output_exactly_0_and_1():
    x = tf.constant(np.linspace(-3., 3., 601), tf.float32)
    probabilities = network.hard_sigmoid(x, 1.)
    np.testing.assert_allclose(probabilities, np.clip((x.numpy() + 1.) / 2., 0., 1.))
    rng = tf.random.Generator.from_seed(0)
    for neuron in ('stochastic', 'deterministic'):
        bits = network.binarize(probabilities, neuron, rng).numpy()
        assert set(np.unique(bits)) == {0., 1.}
    np.testing.assert_array_equal(network.binarize(probabilities, 'deterministic', rng),
                                  (x.numpy() > 0).astype(np.float32))
    draws = network.binarize(tf.fill([100000], 0.3), 'stochastic', rng).numpy()
    assert abs(draws.mean() - 0.3) < 0.01


def test_straight_through_passes_the_hard_sigmoids_derivative():
    x = tf.constant([-2., -0.7, -0.2, 0.1, 0.45, 0.8, 3.])
    slope = 2.
    with tf.GradientTape() as tape:
        tape.watch(x)
        probabilities = network.hard_sigmoid(x, slope)
        bits = network.binarize(probabilities, 'deterministic', None)
        outputs = network.straight_through(bits, probabilities)
    np.testing.assert_array_equal(outputs, bits)
    # slope / 2 where |slope * x| < 1, else 0
    np.testing.assert_allclose(tape.gradient(outputs, x), [0., 0., 1., 1., 1., 0., 0.])


def test_reinforce_is_unbiased_on_an_enumerable_case():
    """Over every pair of bits that a batch of two can draw, weighted by its probability,
    the surrogate's gradient is the exact gradient of the expected loss."""
    loss_of = {0: 1., 1: 3.}
    for x_value, exact in ((0.2, (3. - 1.) * 0.5), (2., 0.)):  # dp/dx 1/2, or saturated
        x = tf.Variable(x_value)
        p = float(network.hard_sigmoid(x, 1.))
        expected = 0.
        for pair in itertools.product((0., 1.), repeat=2):
            chance = np.prod([p if bit else 1. - p for bit in pair])
            with tf.GradientTape() as tape:
                probabilities = network.hard_sigmoid(x * tf.ones([2, 3]), 1.)
                bits = tf.constant([[bit, 0., 1.] for bit in pair])
                log_probs = network.bits_log_prob(bits, probabilities)
                surrogate = reinforce_surrogate(tf.constant([loss_of[b] for b in pair]),
                                                log_probs)
            assert np.all(np.isfinite(log_probs))
            expected += chance * float(tape.gradient(surrogate, x))
        assert expected == pytest.approx(exact, abs=1e-5)
    # log p of the bits, summed over the units: p = 0.6 for x = 0.2
    np.testing.assert_allclose(
        network.bits_log_prob(tf.constant([[1., 0.]]), tf.constant([[0.6, 0.6]])),
        [np.log(0.6) + np.log(0.4)], rtol=1e-6)


def frozen_layers(row, variant):
    """The layers that cannot train: those before the last binary activation when the
    seed's "REINFORCE" stops the gradient there."""
    if table.gradient_estimator(row, variant) != 'stop_gradient':
        return []
    return ['conv1', 'norm1'] if row.layers == 'first' else ['conv1', 'norm1', 'conv2', 'norm2']


@pytest.mark.parametrize('variant,name', [
    (variant, row.name) for variant in table.VARIANTS for row in table.ROWS
    if table.VARIANTS[variant].applies(row)])
def test_each_configuration_trains(tmp_path, mnist_slice, variant, name):
    """A few steps on real images: the loss is finite, and exactly the layers before the
    seed's "REINFORCE" stay at their initialization, while real REINFORCE, straight-through
    and the hard sigmoid train every layer."""
    row = table.ROWS_BY_NAME[name]
    record = study.train_run(str(tmp_path / 'run'), row, variant, 0, 1,
                             study.prepare_data(*mnist_slice, seed=0), say=lambda line: None)
    assert len(record['epochs']) == 1 and record['selected_epoch'] == 1
    assert np.isfinite(record['epochs'][0]['train_loss']) and np.isfinite(record['test_loss'])
    assert 0. <= record['test_accuracy'] <= 100.
    frozen = frozen_layers(row, variant)
    assert [layer for layer, change in record['weights_moved'].items() if change == 0.] == frozen
    if variant.startswith('reinforce'):
        assert record['settings']['gradient_estimator'] == 'reinforce'


def run_command(capsys, *args):
    """(exit status, stdout lines, stderr lines) of the study's command."""
    capsys.readouterr()
    status = study.main([str(arg) for arg in args])
    out, err = capsys.readouterr()
    return status, out.splitlines(), err.strip().splitlines()


def epoch_rows(path):
    return [{key: value for key, value in row.items() if key != 'seconds'}
            for row in read_rows(path)]


def test_resume_gives_the_uninterrupted_run_and_the_report_needs_only_records(
        tmp_path, capsys, mnist_folder):
    common = ['--rows', 'stochastic_straight_through_last', '--variant', 'annealed',
              '--mnist', mnist_folder]
    interrupted, uninterrupted = tmp_path / 'interrupted', tmp_path / 'uninterrupted'
    figs = tmp_path / 'figs'
    run = os.path.join('annealed', 'stochastic_straight_through_last', 'seed0')

    assert run_command(capsys, *common, '--epochs', 1, '--out', interrupted,
                       '--figs-dir', figs)[0] == 0
    status, out, _ = run_command(capsys, *common, '--epochs', 2, '--out', interrupted,
                                 '--figs-dir', figs)
    assert status == 0 and any('resuming at epoch 2' in line for line in out)
    record_file = (figs / 'studies' / 'binary_activations' / 'runs' / run).with_suffix('.json')
    finished = json.loads(record_file.read_text())['finished']
    assert run_command(capsys, *common, '--epochs', 2, '--out', uninterrupted,
                       '--figs-dir', tmp_path / 'figs_uninterrupted')[0] == 0
    resumed = epoch_rows(interrupted / run / 'epochs.csv')
    assert resumed == epoch_rows(uninterrupted / run / 'epochs.csv')
    assert [row['slope'] for row in resumed] == ['1', '1.005']

    status, out, _ = run_command(capsys, *common, '--epochs', 2, '--out', interrupted,
                                 '--figs-dir', figs)
    assert status == 0 and any('trained for 2 epochs: skipped' in line for line in out)

    record = json.loads(record_file.read_text())
    assert record['finished'] == finished  # the skip rewrote the record, not its time
    assert [e['test_loss'] for e in record['epochs']] == [float(r['test_loss']) for r in resumed]
    report = figs / 'studies' / 'binary_activations' / 'results.md'
    report.unlink()
    assert run_command(capsys, '--report-only', '--figs-dir', figs,
                       '--out', tmp_path / 'nowhere')[0] == 0
    text = report.read_text()
    row = next(line for line in text.splitlines() if '`stochastic_straight_through_last`' in line)
    assert f"{record['test_accuracy']:.2f}" in row and '98.31' in row and 'not run' in row
    assert (report.parent / 'test_accuracy.png').exists()
    assert (report.parent / 'accuracy_vs_seed.png').exists()


@pytest.mark.parametrize('args,message', [
    (['--rows', 'no_binary,first_layer'], "unknown row 'first_layer'"),
    (['--variant', 'reinforce,annealing'], "unknown variant 'annealing'"),
    (['--seeds', '0,x'], "--seeds takes distinct integers from 0"),
    (['--seeds', '1,1'], "distinct"),
    (['--epochs', '0'], "--epochs must be at least 1"),
    (['--epochs', 'ten'], "invalid int value"),
    (['--frobnicate'], "unrecognized arguments"),
    (['--variant', 'reinforce', '--rows', 'deterministic_reinforce_first'], "applies to none"),
    (['--mnist', 'MISSING'], "does not exist"),
    (['--report-only'], "no run records"),
])
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, capsys, args, message):
    (tmp_path / 'figs').mkdir()
    args = [str(tmp_path / arg) if arg == 'MISSING' else arg for arg in args]
    status, _, err = run_command(capsys, *args, '--out', tmp_path / 'exp',
                                 '--figs-dir', tmp_path / 'figs')
    assert status == 2 and len(err) == 1 and err[0].startswith('error: ') and message in err[0]
    assert snapshot(tmp_path / 'figs') == {} and not (tmp_path / 'exp').exists()


def test_a_run_folder_of_other_settings_is_refused_untouched(tmp_path, capsys, mnist_folder):
    args = ['--rows', 'no_binary', '--variant', 'seed', '--epochs', 1, '--mnist', mnist_folder,
            '--out', tmp_path / 'exp', '--figs-dir', tmp_path / 'figs']
    assert run_command(capsys, *args)[0] == 0
    settings = tmp_path / 'exp' / 'seed' / 'no_binary' / 'seed0' / 'settings.json'
    settings.write_text(settings.read_text().replace('"batch_size": 64', '"batch_size": 32'))
    before = snapshot(tmp_path)
    status, _, err = run_command(capsys, *args)
    assert status == 2 and len(err) == 1 and 'other settings (batch_size)' in err[0]
    assert snapshot(tmp_path) == before
