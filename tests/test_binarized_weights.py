"""Study 2 of issue 21, binarized weights: the binarization and its straight-through
gradient, clipping, the model's size, the configurations training, and the command
(resuming, the report, bad input)."""
import json
import os

import numpy as np
import pytest
import tensorflow as tf

from conftest import mnist_mirror, snapshot, write_mnist
from experiments.records import read_rows
from studies import binarized_weights as study
from studies.binarized_weights_network import CONFIGS, Classifier, binarized
from studies.binarized_weights_report import COMPARISONS, comparison_section


def small(name, **changes):
    """A configuration with other settings (smaller layers: a fast test)."""
    return dict(CONFIGS[name], **changes)


def images_and_labels(count, seed=0):
    rng = np.random.RandomState(seed)
    return (tf.constant(rng.rand(count, 784).astype(np.float32)),
            tf.constant(rng.randint(0, 10, count).astype(np.int32)))


def sign(array):
    return np.where(array >= 0, 1., -1.).astype(np.float32)


def test_binarized_kernel_is_exactly_plus_or_minus_one():
    kernel = tf.constant([[-2., -1., -1e-8, 0.], [1e-8, 0.3, 1., 5.]])
    assert binarized(kernel).numpy().tolist() == [[-1, -1, -1, 1], [1, 1, 1, 1]]
    stochastic = binarized(tf.random.uniform([50, 50], -2, 2),
                           tf.random.Generator.from_seed(0)).numpy()
    assert set(np.unique(stochastic)) == {-1., 1.}


@pytest.mark.parametrize('name', ['seed_binary_deterministic', 'seed_binary_stochastic'])
def test_binarized_layer_multiplies_by_the_sign_of_the_kernel(name):
    """One dense layer (784 -> 10): its output at test is x sign(W) + b, whatever
    binarization trained it (and in training too when deterministic); with the
    real-weights rule x W + b."""
    classifier = Classifier(small(name, hidden_units=()), seed=1)
    classifier.biases[0].assign(tf.range(10, dtype=tf.float32) / 10)
    images, _ = images_and_labels(32)
    kernel, bias = classifier.kernels[0].numpy(), classifier.biases[0].numpy()
    binary = images.numpy() @ sign(kernel) + bias
    np.testing.assert_allclose(classifier.logits(images).numpy(), binary, rtol=1e-5,
                               atol=1e-4)
    training = classifier.logits(images, training=True).numpy()
    deterministic = name == 'seed_binary_deterministic'
    assert np.allclose(training, binary, rtol=1e-5, atol=1e-4) == deterministic
    np.testing.assert_allclose(classifier.logits(images, real_weights=True).numpy(),
                               images.numpy() @ kernel + bias, rtol=1e-5, atol=1e-4)


def test_the_gradient_reaches_the_shadow_kernel_straight_through():
    kernel = tf.Variable([[-3., -0.5], [0., 0.7]])
    upstream = tf.constant([[1., 2.], [3., 4.]])
    with tf.GradientTape() as tape:
        total = tf.reduce_sum(upstream * binarized(kernel, tf.random.Generator.from_seed(0)))
    np.testing.assert_array_equal(tape.gradient(total, kernel).numpy(), upstream.numpy())

    # In the model: d loss / d W = d loss / d W_b = x^T (softmax - one hot) / batch.
    classifier = Classifier(small('seed_binary_deterministic', hidden_units=()), seed=2)
    images, labels = images_and_labels(16, seed=3)
    with tf.GradientTape() as tape:
        loss = classifier.loss(labels, classifier.logits(images))
    gradient = tape.gradient(loss, classifier.kernels[0]).numpy()
    x = images.numpy().astype(np.float64)
    logits = x @ sign(classifier.kernels[0].numpy())
    softmax = np.exp(logits - logits.max(1, keepdims=True))
    softmax /= softmax.sum(1, keepdims=True)
    expected = x.T @ (softmax - np.eye(10)[labels.numpy()]) / len(x)
    np.testing.assert_allclose(gradient, expected, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize('name', ['seed_binary_deterministic', 'seed_binary_stochastic',
                                  'binaryconnect_stochastic'])
def test_shadow_weights_stay_in_minus_one_to_one(name):
    """Steps of a large learning rate would take the kernels far beyond +-1 (as they do
    the baseline's); the binarized ones are clipped back after every step."""
    images, labels = images_and_labels(64)
    for config, clipped in ((small(name, hidden_units=(32,), learning_rate=30.), True),
                            (small('seed_baseline_dropout', hidden_units=(32,),
                                   learning_rate=30.), False)):
        classifier = Classifier(config, seed=0)
        for _ in range(3):
            classifier.train_step(images, labels)
        kernels = np.concatenate([k.numpy().ravel() for k in classifier.kernels])
        assert (np.abs(kernels).max() <= 1.) == clipped
    assert np.mean(np.abs(kernels) == 1.) < 1.  # not all saturated: the steps are real


def test_binaryconnect_scales_the_kernel_steps_by_glorot_factor():
    """Adam's first step moves a parameter by the learning rate (less where its gradient is
    within a few epsilons of 0); the binarized kernels' by that times
    1 / sqrt(1.5 / (fan_in + fan_out)) (BinaryConnect's W_LR_scale), batch normalization's
    shifts by the learning rate alone."""
    classifier = Classifier(small('binaryconnect_stochastic', hidden_units=(8,)), seed=0)
    images, labels = images_and_labels(32)
    parameters = classifier.kernels + [norm.beta for norm in classifier.norms]
    old = [p.numpy() for p in parameters]
    classifier.train_step(images, labels)
    scales = [1 / np.sqrt(1.5 / (784 + 8)), 1 / np.sqrt(1.5 / (8 + 10)), 1., 1.]
    for before, parameter, scale in zip(old, parameters, scales):
        after = parameter.numpy()
        steps = np.abs(after - before)[np.abs(after) < 1.]  # not clipped
        assert steps.size > 0.9 * after.size
        np.testing.assert_allclose([np.median(steps), steps.max()], 1e-3 * scale, rtol=1e-3)


def test_stochastic_binarization_is_plus_one_with_probability_hard_sigmoid():
    """Each weight value binarized 40,000 times: the share of +1 within 0.01 of
    hard_sigmoid(w) = clip((w + 1) / 2, 0, 1), four standard errors at most (0.0025)."""
    values = np.array([-1.5, -1., -0.6, -0.1, 0., 0.25, 0.9, 1., 3.], np.float32)
    draws = 40000
    kernel = tf.constant(np.repeat(values[:, None], draws, axis=1))
    shares = np.mean(binarized(kernel, tf.random.Generator.from_seed(4)).numpy() == 1., axis=1)
    np.testing.assert_allclose(shares, np.clip((values + 1) / 2, 0, 1), atol=0.01)
    # Exactly at the ends, where the clip holds every saturated weight.
    assert list(shares[[0, 1, 7, 8]]) == [0., 0., 1., 1.]


@pytest.mark.parametrize('optimizer', ['sgd', 'adam'])
def test_the_optimizer_takes_keras_steps(optimizer):
    """Without binarization, its steps are Keras's SGD's or Adam's (epsilon 1e-8) on the
    same gradients, step after step (Adam's bias correction changes after the first)."""
    import keras
    config = small('seed_baseline_dropout', hidden_units=(8,), optimizer=optimizer,
                   learning_rate=1e-2)
    classifier = Classifier(config, seed=0)
    copies = [tf.Variable(v) for v in classifier.trainable]
    reference = (keras.optimizers.Adam(1e-2, epsilon=1e-8) if optimizer == 'adam'
                 else keras.optimizers.SGD(1e-2))
    rng = np.random.default_rng(0)
    for _ in range(5):
        gradients = [tf.constant(rng.normal(size=v.shape).astype(np.float32))
                     for v in copies]
        classifier.optimizer.apply(gradients)
        reference.apply_gradients(zip(gradients, copies))
    for ours, theirs in zip(classifier.trainable, copies):
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-5, atol=1e-6)


def test_the_seeds_dropout_keeps_69_percent_of_the_units_scaled_by_two():
    """layers.py's mask: kept where a normal draw is below 0.5 (Phi(0.5) = 0.6915), kept
    units times 1 / 0.5; one mask for every hidden layer."""
    classifier = Classifier(small('seed_baseline_as_it_ran', hidden_units=(1000,) * 3), 0)
    mask = classifier.seed_dropout_mask(200).numpy()
    assert mask.shape == (200, 1000) and set(np.unique(mask)) == {0., 2.}
    assert np.mean(mask == 2.) == pytest.approx(0.6915, abs=0.005)


def test_the_seeds_output_layer_never_trains_and_its_batches_keep_their_order():
    classifier = Classifier(small('seed_baseline_as_it_ran', hidden_units=(16,) * 3), 0)
    np.testing.assert_array_equal(classifier.batch_order(5).numpy(), np.arange(5))
    before = [v.numpy() for v in classifier.kernels + classifier.biases]
    classifier.train_epoch(*images_and_labels(512))
    after = [v.numpy() for v in classifier.kernels + classifier.biases]
    changed = [not np.array_equal(a, b) for a, b in zip(before, after)]
    assert changed == [True, True, True, False, True, True, True, False]


def test_size_in_bits_by_hand():
    # 784 -> 3 -> 10: 2,382 kernel weights, 13 biases (and 4 x 13 batch-normalization numbers)
    assert Classifier(small('seed_binary_deterministic', hidden_units=(3,)),
                      0).size_in_bits() == (2382 + 32 * 13, 32 * (2382 + 13))
    assert Classifier(small('seed_baseline_dropout', hidden_units=(3,)),
                      0).size_in_bits() == (32 * (2382 + 13), 32 * (2382 + 13))
    assert Classifier(small('binaryconnect_stochastic', hidden_units=(3,)),
                      0).size_in_bits() == (2382 + 32 * 65, 32 * (2382 + 65))
    # The seed's MLP: 784*2048 + 2*2048*2048 + 2048*10 = 10,014,720 weights, 6,154 biases.
    assert Classifier(CONFIGS['seed_binary_deterministic'], 0).size_in_bits() == (
        10014720 + 32 * 6154, 32 * (10014720 + 6154))


# The seed's baseline with one of its traits each trains as the others do (their traits
# are tested above); the step test's configurations differ from the seed's only in the step.
LEARNING = [name for name in CONFIGS if name not in (
    'seed_baseline_seed_dropout', 'seed_baseline_frozen_output', 'seed_baseline_file_order',
    'seed_binary_deterministic_step_x10', 'seed_binary_stochastic_step_x10')]


@pytest.mark.parametrize('name', LEARNING)
def test_each_configuration_learns_a_slice_of_mnist(name):
    """Its recipe, at an eighth of the width and in batches of 64, trained for 6 epochs on
    1,024 MNIST images: the loss on them falls by a fifth at least (the seed's tiny steps
    take it from about 2e4 to 1e4; BinaryConnect's from 1e7 to 1), and the binarized
    kernels stay in [-1, 1]."""
    splits = study.load_mnist_splits(mnist_mirror(), 10000)
    if CONFIGS[name]['center_inputs']:
        splits = study.centred(splits)
    images, labels = (tf.constant(array[:1024]) for array in splits['train'])
    classifier = Classifier(small(name, hidden_units=(256, 256, 256), batch_size=64), seed=1)
    before = classifier.evaluate(images, labels)[0]
    losses = [classifier.train_epoch(images, labels) for _ in range(6)]
    after = classifier.evaluate(images, labels)[0]
    assert np.all(np.isfinite(losses)) and int(classifier.epoch) == 6
    assert after < 0.8 * before, (before, after)
    if CONFIGS[name]['binarization']:
        assert max(np.abs(k.numpy()).max() for k in classifier.kernels) <= 1.


# -- the command ------------------------------------------------------------------------
def command(tmp_path, out, *args):
    return ['--out', str(tmp_path / out), '--figs-dir', str(tmp_path / 'figs'),
            '--data', str(tmp_path / 'mnist'), '--validation-images', '8', *args]


def checkpoint_values(run_dir):
    reader = tf.train.load_checkpoint(os.path.join(run_dir, 'checkpoints'))
    return {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()
            if name.startswith(('kernels', 'biases', 'norms', 'optimizer', 'rng'))}


@pytest.mark.parametrize('name', ['seed_binary_stochastic', 'binaryconnect_stochastic'])
def test_a_resumed_run_ends_as_an_uninterrupted_one(tmp_path, capsys, name):
    """Stochastic binarization (the random stream in every step), the seed's SGD or
    BinaryConnect's Adam (its moments and step count) with batch normalization (its
    moving statistics): 2 epochs in one go, or 1, then a second after a run killed between
    its CSV row and its checkpoint; then the finished run is skipped, and the report is
    built from the records alone."""
    (tmp_path / 'mnist').mkdir()
    write_mnist(tmp_path / 'mnist', n_train=40, n_test=12)
    whole, resumed = (tmp_path / out / name / 'seed0' for out in ('whole', 'resumed'))
    assert study.main(command(tmp_path, 'whole', '--configs', name, '--epochs', '2')) == 0
    assert study.main(command(tmp_path, 'resumed', '--configs', name, '--epochs', '1')) == 0
    with open(resumed / 'epochs.csv', 'a') as f:  # the row of an epoch never checkpointed
        f.write('2,1,1,1,1,1,1,1,1\n')
    capsys.readouterr()
    assert study.main(command(tmp_path, 'resumed', '--configs', name, '--epochs', '2')) == 0
    assert f'[{name}/seed0] resuming at epoch 2 (2 epochs)' in capsys.readouterr().out

    expected, found = checkpoint_values(whole), checkpoint_values(resumed)
    assert expected.keys() == found.keys() and any(k.startswith('rng') for k in found)
    for key in expected:
        np.testing.assert_array_equal(found[key], expected[key], err_msg=key)
    rows = {out: read_rows(tmp_path / out / name / 'seed0' / 'epochs.csv')
            for out in ('whole', 'resumed')}
    assert [row['epoch'] for row in rows['resumed']] == ['1', '2']
    for row_whole, row_resumed in zip(rows['whole'], rows['resumed']):
        row_whole.pop('seconds'), row_resumed.pop('seconds')
        assert row_whole == row_resumed

    before = snapshot(str(resumed))
    assert study.main(command(tmp_path, 'resumed', '--configs', name, '--epochs', '2')) == 0
    assert f'[{name}/seed0] trained for 2 epochs: skipped' in capsys.readouterr().out
    assert snapshot(str(resumed)) == before

    study_dir = tmp_path / 'figs' / 'studies' / 'binarized_weights'
    with open(study_dir / 'runs' / name / 'seed0.json') as f:
        record = json.load(f)
    assert record['epochs'] == 2 and record['rows'][1]['test_accuracy_real_weights'] >= 0
    os.remove(study_dir / 'results.md')
    assert study.main(['--report-only', '--figs-dir', str(tmp_path / 'figs')]) == 0
    results = (study_dir / 'results.md').read_text()
    assert '| seed_baseline_dropout | not run yet |' in results
    assert f'| {name} | 2 |' in results
    assert (study_dir / 'training_curves.png').stat().st_size > 0


@pytest.mark.parametrize('args, message', [
    (['--configs', 'seed_baseline_dropout,nope'], "unknown configuration 'nope'"),
    (['--epochs', '0'], '--epochs must be at least 1'),
    (['--epochs', 'many'], "argument --epochs: invalid int value: 'many'"),
    (['--seeds', '0,-1'], '--seeds takes distinct integers from 0'),
    (['--data', 'missing'], 'MNIST folder missing does not exist'),
    (['--validation-images', '40'], '--validation-images must be from 1 to 39'),
    (['--out', 'file'], '--out file is a file, not a folder'),
    (['--configs', 'seed_binary_deterministic', '--seeds', '3'],
     'holds a run trained with other settings (seed)'),
    (['--report-only'], 'no run records in'),
])
def test_bad_input_is_one_line_and_exit_status_2(tmp_path, capsys, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / 'mnist').mkdir()
    write_mnist(tmp_path / 'mnist', n_train=40, n_test=12)
    (tmp_path / 'file').write_text('not a folder')
    run_dir = tmp_path / 'exp' / 'seed_binary_deterministic' / 'seed3'
    run_dir.mkdir(parents=True)
    settings = study.run_settings('seed_binary_deterministic', 4, 8)
    (run_dir / 'settings.json').write_text(json.dumps(settings))
    before = snapshot(str(tmp_path))
    assert study.main(['--out', 'exp', '--figs-dir', 'figs', '--data', 'mnist',
                       '--validation-images', '8', *args]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('error: ') and message in lines[0], lines
    assert captured.out == '' and snapshot(str(tmp_path)) == before


# -- the speed benchmark ----------------------------------------------------------------
def test_the_benchmark_times_each_configuration_beside_the_reference(monkeypatch, capsys):
    """Small stand-ins for the reference and BinaryConnect's recipe: a line each with the
    step's FLOPs by hand (forward, the kernels' and the inputs' gradients, none for the
    images), its fraction of the given matmul rate and an epoch's seconds; then the ratios."""
    from studies import binarized_weights_bench as bench
    configs = {bench.REFERENCE: small(bench.REFERENCE, hidden_units=(16,), batch_size=8),
               'binaryconnect_stochastic': small('binaryconnect_stochastic',
                                                 hidden_units=(16,), batch_size=4)}
    monkeypatch.setattr(bench, 'CONFIGS', configs)
    core_gflops = 1e-3  # tiny: the tiny steps' fractions keep their digits
    assert bench.main('binaryconnect_stochastic', 2, 1, lambda: core_gflops) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines[0]['one_core_matmul_2048_gflops_per_s'] == 0.
    reference, binaryconnect, ratios = lines[1:]
    assert [reference['config'], binaryconnect['config']] == list(configs)
    flops = 2 * 4 * (2 * 784 * 16 + 3 * 16 * 10)
    milliseconds = binaryconnect['ms_per_step']  # rounded to 0.1 ms: within 0.05 ms
    assert binaryconnect['fraction_of_core_matmul_rate'] == pytest.approx(
        flops / (milliseconds / 1e3) / (core_gflops * 1e9),
        rel=0.05 / (milliseconds - 0.05) + 1e-3)
    assert binaryconnect['seconds_per_epoch'] >= 12500 * (milliseconds - 0.05) / 1e3 - 0.05
    assert ratios['seconds_per_epoch_over_seed_binary_deterministic'] == {
        bench.REFERENCE: 1.0, 'binaryconnect_stochastic': round(
            binaryconnect['seconds_per_epoch'] / reference['seconds_per_epoch'], 2)}
    assert bench.main('nope', 2, 1, lambda: 50.) == 2
    assert capsys.readouterr().err.startswith("error: unknown configuration 'nope'")


def test_a_comparison_reads_its_configurations_over_the_epochs_all_have():
    # The reference ran 3 epochs, a trait 2: both are read over epochs 1-2; the trait's
    # best validation epoch is its first (a tie goes to the first, as the seed's rule).
    def run(accuracies):
        return {'rows': [{'epoch': epoch, 'val_accuracy': validation,
                          'test_accuracy': test}
                         for epoch, (validation, test) in enumerate(accuracies, 1)]}
    records = {'seed_baseline_dropout': [run([(0.90, 0.89), (0.92, 0.91), (0.95, 0.94)])],
               'seed_baseline_seed_dropout': [run([(0.94, 0.935), (0.94, 0.95)])]}
    assert all({reference, *names} <= set(CONFIGS)
               for _, reference, _, names, _ in COMPARISONS)
    baseline_gap = COMPARISONS[0]
    lines = comparison_section(records, *baseline_gap)
    assert '| configuration | test accuracy % (epochs 1–2) |' in lines[5]
    assert lines[-2:] == ['| seed_baseline_dropout | 91.00 | 2 | +0.00 | 92.00 |',
                          '| seed_baseline_seed_dropout | 93.50 | 1 | +2.50 | 94.00 |']
    assert comparison_section({'seed_baseline_dropout': records['seed_baseline_dropout']},
                              *baseline_gap) == []
