"""The FID classifier, the metrics on real MNIST and the evaluation of experiments."""
import json
import os
import shutil
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from binarygan import configure, fid_classifier
from binarygan.fid_classifier import fid_reference, load_or_train
from binarygan.data import load_mnist
from binarygan.evaluate import compare_preactivations, main
from binarygan.metrics import fid, sample_metrics
from binarygan.train import run
from conftest import ROOT, mnist_mirror, quick_run_args, read_csv, scalar_and_image_events

METRIC_KEYS = {'fid', 'inception_score', 'class_entropy', 'min_class_share',
               'mean_confidence', 'ink_density', 'isolated_pixels', 'components'}
ARTIFACT_KEYS = {'isolated_pixels', 'components'}  # of binary images only


def test_classifier_reaches_99_percent_on_the_binarized_test_set(classifier_dir, capsys):
    cached = load_or_train(classifier_dir, mnist_mirror())  # from the cache, not retrained
    assert 'Training' not in capsys.readouterr().out
    test_images, test_labels = load_mnist(mnist_mirror(), 'test', labels=True)
    accuracy = np.mean(np.argmax(cached.score(test_images)[1], axis=1) == test_labels)
    print(f"FID classifier: test accuracy {accuracy:.4f}, record {cached.record}")
    assert accuracy >= 0.99
    assert cached.record['test_accuracy'] == pytest.approx(accuracy)
    assert set(cached.record['data_md5']) == {'train_images', 'train_labels', 'test_images',
                                              'test_labels'}


def test_classifier_is_retrained_when_its_record_does_not_match(classifier_dir, tmp_path,
                                                               monkeypatch):
    retrained = []
    monkeypatch.setattr(fid_classifier, 'train_classifier',
                        lambda *args: retrained.append(True))
    cache = tmp_path / 'cache'
    shutil.copytree(classifier_dir, cache)
    load_or_train(str(cache), mnist_mirror())
    assert not retrained
    record = json.loads((cache / fid_classifier.RECORD_FILE).read_text())
    record['data_md5']['test_labels'] = '0' * 32
    (cache / fid_classifier.RECORD_FILE).write_text(json.dumps(record))
    untrained = load_or_train(str(cache), mnist_mirror())  # the fake fit leaves it untrained
    assert retrained and untrained.record['test_accuracy'] < 0.5
    assert json.loads((cache / fid_classifier.RECORD_FILE).read_text()) == untrained.record
    (cache / fid_classifier.WEIGHTS_FILE).unlink()
    load_or_train(str(cache), mnist_mirror())
    assert len(retrained) == 2


def test_runs_starting_at_once_train_the_classifier_once(tmp_path, monkeypatch, capsys):
    """Two runs of a grid that start together find no classifier: one trains it while
    the other waits for it, then reads it (here two threads, and a training that only
    takes its time: the real one takes minutes)."""
    trained = []

    def slow_training(*args):
        trained.append(threading.current_thread().name)
        time.sleep(3)
    monkeypatch.setattr(fid_classifier, 'train_classifier', slow_training)
    cache, loaded = str(tmp_path / 'cache'), {}
    threads = [threading.Thread(target=lambda: loaded.setdefault(
        threading.current_thread().name, load_or_train(cache, mnist_mirror())))
        for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(trained) == 1 and len(loaded) == 2
    first, second = loaded.values()
    assert first.record == second.record
    out = capsys.readouterr().out
    assert out.count('Training the reference classifier') == 1
    assert out.count('Waiting for another process to train the reference classifier') == 1


def test_fid_of_real_images_is_small_and_far_below_noise_of_the_same_ink(classifier_dir):
    ref = fid_reference(classifier_dir, mnist_mirror())
    train_images = load_mnist(mnist_mirror(), 'train')
    real = np.random.RandomState(1).choice(len(train_images), 10000, replace=False)
    real_metrics = sample_metrics(*ref.score(train_images[real]), train_images[real],
                                  ref.test_fit)
    noise = (np.random.RandomState(2).rand(10000, 28, 28, 1) < ref.data_ink_density)
    noise_metrics = sample_metrics(*ref.score(noise), noise, ref.test_fit)
    print(f"fid_train_vs_test {ref.record['fid_train_vs_test']:.3f}, another 10,000 training "
          f"images {real_metrics['fid']:.3f}, noise {noise_metrics['fid']:.3f}")
    assert ref.record['fid_train_vs_test'] < 1.
    assert real_metrics['fid'] < 1.
    assert noise_metrics['fid'] > 100 * real_metrics['fid']
    assert real_metrics['class_entropy'] > 0.99 and real_metrics['inception_score'] > 9.
    assert noise_metrics['ink_density'] == pytest.approx(real_metrics['ink_density'], abs=0.01)
    assert fid(ref.test_features, ref.test_features) == pytest.approx(0., abs=1e-6)


def test_evaluation_along_training_and_of_a_finished_experiment(
        classifier_dir, synthetic_data, tmp_path, capsys):
    # 64 images in batches of 16: 4 steps an epoch, evaluated after each of 2 epochs.
    eval_args = ['evaluate_along_training=true', 'train.eval_num_samples=300',
                 f'train.classifier_dir={classifier_dir}',
                 f'train.eval_mnist_dir={mnist_mirror()}', 'train.num_epoch=2',
                 'train.max_steps=0']
    variants = {'mlp_round': ['binary'], 'mlp_real': ['raw', 'threshold', 'bernoulli']}
    for preset_g, names in variants.items():
        run(configure.load(quick_run_args(synthetic_data, tmp_path, f'preset_g={preset_g}',
                                          f'exp.exp_name={preset_g}', *eval_args)))
        eval_dir = tmp_path / preset_g / 'eval'
        rows = read_csv(eval_dir / 'metrics.csv')
        assert [(int(r['epoch']), int(r['step']), r['variant']) for r in rows] == [
            (epoch, 4 * epoch, name) for epoch in (1, 2) for name in names]
        for row in rows:
            assert all(np.isfinite(float(row[key])) for key in METRIC_KEYS - ARTIFACT_KEYS)
            assert all((row[key] == '') == (row['variant'] == 'raw') for key in ARTIFACT_KEYS)
        assert (eval_dir / 'metrics.png').stat().st_size > 0
        scalars, _ = scalar_and_image_events(tmp_path / preset_g / 'logs')
        for row in rows:
            tag = f"eval/{row['variant']}/fid"
            assert scalars[int(row['step'])][tag] == pytest.approx(float(row['fid']), rel=1e-5)

        capsys.readouterr()
        assert main([str(tmp_path / preset_g), '--num-samples', '500',
                     '--checkpoint', str(tmp_path / preset_g / 'checkpoints' / 'ckpt-4')]) == 0
        assert 'fid_train_vs_test' in capsys.readouterr().out
        metrics = json.loads((eval_dir / 'metrics.json').read_text())
        assert metrics['step'] == 4 and metrics['num_samples'] == 500
        assert 0 < metrics['fid_train_vs_test'] < 1
        # The binarized test images: 0.0056 isolated on-pixels and 1.03 components each.
        assert metrics['data_isolated_pixels'] == pytest.approx(0.0056, abs=1e-4)
        assert metrics['data_components'] == pytest.approx(1.03, abs=0.01)
        assert list(metrics['variants']) == names
        for values in metrics['variants'].values():
            assert set(values) == METRIC_KEYS
            assert (values['isolated_pixels'] is None) == (values is metrics['variants'].get('raw'))
            assert values['fid'] > 10 * metrics['fid_train_vs_test']  # 8 steps of training
            assert 1 <= values['inception_score'] <= 10
            assert 0 <= values['class_entropy'] <= 1 and 0 <= values['min_class_share'] <= 0.1
        shares = metrics['preactivated']
        assert 0 <= shares['share_0.4_to_0.6'] <= 1
        assert 0 <= shares['share_below_0.1_or_above_0.9'] <= 1
        histogram = json.loads((eval_dir / 'preactivation_histogram.json').read_text())
        assert sum(histogram['counts']) == 500 * 784
        assert (eval_dir / 'preactivation_histogram.png').stat().st_size > 0

    assert main([str(tmp_path / 'mlp_round')]) == 0  # the latest checkpoint, 10,000 samples
    metrics = json.loads((tmp_path / 'mlp_round/eval/metrics.json').read_text())
    assert metrics['step'] == 8 and metrics['num_samples'] == 10000
    figure = tmp_path / 'figure4.png'
    compare_preactivations([tmp_path / name for name in variants], figure)
    assert figure.stat().st_size > 0


def test_evaluate_reports_bad_input_in_one_line_with_exit_code_2(tmp_path, synthetic_data,
                                                                  capsys):
    result = subprocess.run([sys.executable, '-m', 'binarygan.evaluate', str(tmp_path / 'no')],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"error: {tmp_path / 'no'} is not an experiment folder (it has no config.json)"]
    config = configure.load(quick_run_args(synthetic_data, tmp_path, 'exp.exp_name=untrained'))
    os.makedirs(config['exp']['exp_dir'])
    with open(os.path.join(config['exp']['exp_dir'], 'config.json'), 'w') as f:
        json.dump(config, f)
    capsys.readouterr()
    assert main([config['exp']['exp_dir']]) == 2
    assert capsys.readouterr().err.startswith('error: no checkpoint in ')
    assert main([config['exp']['exp_dir'], '--checkpoint', str(tmp_path / 'ckpt-9')]) == 2
    assert 'does not exist' in capsys.readouterr().err
