"""Score a generator against binarized MNIST with the FID classifier.

Usage: python -m binarygan.evaluate EXP_DIR [--num-samples N] [--checkpoint PATH]
                                   [--classifier-dir DIR] [--mnist-dir DIR]

Restores the experiment's latest checkpoint (or PATH), scores N generated samples
against the 10,000 binarized test images and writes EXP_DIR/eval/metrics.json and
the preactivation histogram (.json, .png). Training calls evaluate_along_training
after every epoch and plot_along_training at its end.
"""
import argparse
import collections
import json
import os
import sys
import time

import numpy as np

from binarygan import UserError, configure, fast, start_tensorflow
from binarygan.exit_status import exit_status
from binarygan.checkpoints import checkpoint_to_use, restore_for_sampling
from binarygan.fid_classifier import fid_reference
from binarygan.logs import CsvLog
from binarygan.metrics import notch_ratio, preactivation_histogram, sample_metrics
from binarygan.plots import plot_preactivation_histograms, plot_training_metrics

GENERATE_BATCH = 1000
NOISE_SEED = 1234  # the same noise at every evaluation, so that scores along training compare
METRICS_JSON, METRICS_CSV, METRICS_PLOT = 'metrics.json', 'metrics.csv', 'metrics.png'
HISTOGRAM_JSON, HISTOGRAM_PLOT = 'preactivation_histogram.json', 'preactivation_histogram.png'
NEURON_NAMES = {'round': 'DBNs', 'bernoulli': 'SBNs', 'real': 'real-valued'}
CSV_METRICS = ('fid', 'inception_score', 'class_entropy', 'min_class_share',
               'mean_confidence', 'ink_density', 'isolated_pixels', 'components',
               'preactivated_in_tails')
TAILS = 'share_below_0.1_or_above_0.9'

# A generator restored for sampling: its checkpoint's path, step and epoch, and the
# experiment's config.
Restored = collections.namedtuple('Restored', 'gan config checkpoint step epoch')


def score_generator(gan, classifier, num_samples):
    """(metrics per variant, preactivated outputs) of ``num_samples`` samples: 'binary' for
    binary neurons; 'raw', 'threshold' and 'bernoulli' for real-valued outputs."""
    import tensorflow as tf
    batches = [gan.sample(tf.random.stateless_normal([GENERATE_BATCH, gan.z_dim],
                                                     seed=(NOISE_SEED, i)))
               for i in range(-(-num_samples // GENERATE_BATCH))]
    grids = {name: np.concatenate([batch[name].numpy() for batch in batches])[:num_samples]
             for name in batches[0]}
    preactivated = grids.pop('preactivated', grids.get('raw'))  # real-valued: the sigmoid
    variants = {name: sample_metrics(*classifier.score(images), images, classifier.test_fit)
                for name, images in grids.items()}
    return variants, preactivated


def restore_experiment(exp_dir, checkpoint=None):
    """The generator of the experiment at its latest checkpoint or ``checkpoint``: a
    Restored."""
    config_path = os.path.join(exp_dir, 'config.json')
    if not os.path.isfile(config_path):
        raise UserError(f"{exp_dir} is not an experiment folder (it has no config.json)")
    try:
        with open(config_path) as f:
            config = json.load(f)
        if not all(isinstance(config[section], dict) for section in ('exp', 'model', 'train')):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        raise UserError(f"{config_path} is not a configuration written by training") from None
    path = checkpoint_to_use(exp_dir, checkpoint)

    # Settings added after the experiment was trained take today's defaults.
    defaults = configure.load()
    for section in ('model', 'train'):
        config[section] = {**defaults[section], **config[section]}

    from binarygan.gan import BinaryGAN
    gan = BinaryGAN(config['model'], config['train'], config['exp']['seed'])
    step, epoch = restore_for_sampling(gan, path, config_path)
    return Restored(gan, config, path, step, epoch)


def evaluate_experiment(exp_dir, num_samples=10000, checkpoint=None, classifier_dir=None,
                        mnist_dir=None):
    """Write EXP_DIR/eval/metrics.json and the preactivation histogram; returns the metrics."""
    if num_samples < 2:
        raise UserError(f"--num-samples must be at least 2, not {num_samples}")
    restored = restore_experiment(exp_dir, checkpoint)
    config = restored.config
    ref = fid_reference(classifier_dir or config['train']['classifier_dir'],
                        mnist_dir or config['train']['eval_mnist_dir'])
    variants, preactivated = score_generator(restored.gan, ref, num_samples)
    histogram = preactivation_histogram(preactivated)
    eval_dir = os.path.join(exp_dir, 'eval')
    os.makedirs(eval_dir, exist_ok=True)
    with open(os.path.join(eval_dir, HISTOGRAM_JSON), 'w') as f:
        json.dump(histogram, f)
    plot_preactivation_histograms({_label(config, exp_dir): histogram},
                                  os.path.join(eval_dir, HISTOGRAM_PLOT))
    shares = ('share_0.4_to_0.6', TAILS)
    metrics = {
        'step': restored.step,
        'epoch': restored.epoch,
        'num_samples': num_samples,
        'checkpoint': restored.checkpoint,
        'fid_train_vs_test': ref.record['fid_train_vs_test'],
        'data_ink_density': ref.data_ink_density,
        **{f'data_{key}': value for key, value in ref.data_artifacts.items()},
        'classifier_test_accuracy': ref.record['test_accuracy'],
        'preactivated': {**{key: histogram[key] for key in shares},
                         'notch_ratio': notch_ratio(histogram)},
        'variants': variants,
    }
    with open(os.path.join(eval_dir, METRICS_JSON), 'w') as f:
        json.dump(metrics, f, indent=2)
    return metrics


def _label(config, exp_dir):
    neurons = NEURON_NAMES[config['model']['output_neurons']]
    return f"{neurons} ({os.path.basename(os.path.normpath(exp_dir))})"


def compare_preactivations(exp_dirs, png_path):
    """The paper's Figure 4: the preactivation histograms of evaluated experiments (e.g.
    DBNs, SBNs, real-valued) in one figure."""
    histograms = {}
    for exp_dir in exp_dirs:
        path = os.path.join(exp_dir, 'eval', HISTOGRAM_JSON)
        if not os.path.isfile(path):
            raise UserError(f"{path} does not exist: run python -m binarygan.evaluate "
                            f"{exp_dir} first")
        with open(path) as f, open(os.path.join(exp_dir, 'config.json')) as g:
            histograms[_label(json.load(g), exp_dir)] = json.load(f)
    plot_preactivation_histograms(histograms, png_path)


def evaluate_along_training(gan, config, epoch, step):
    """After ``epoch`` finished epochs (generator step ``step``), every train.eval_every:
    score train.eval_num_samples samples and put a row per variant in
    EXP_DIR/eval/metrics.csv. Returns the metrics per variant ({} when not evaluated)."""
    train = config['train']
    if not train['evaluate_along_training'] or epoch % train['eval_every']:
        return {}
    # Loads the classifier once per process (trains it first if it is not cached).
    ref = fid_reference(train['classifier_dir'], train['eval_mnist_dir'])
    start = time.time()
    variants, preactivated = score_generator(gan, ref, train['eval_num_samples'])
    tails = preactivation_histogram(preactivated)[TAILS]
    for values in variants.values():
        values['preactivated_in_tails'] = tails
    seconds = time.time() - start
    eval_dir = os.path.join(config['exp']['exp_dir'], 'eval')
    os.makedirs(eval_dir, exist_ok=True)
    # A resumed run replaces the rows of the epochs it repeats.
    with CsvLog(os.path.join(eval_dir, METRICS_CSV),
                ('epoch', 'step', 'variant', *CSV_METRICS, 'seconds'),
                lambda row: int(row['epoch']) < epoch) as log:
        for name, values in variants.items():
            log.write(epoch, step, name, *('' if values[key] is None else f'{values[key]:.6g}'
                                           for key in CSV_METRICS), f'{seconds:.2f}')
    print(f"evaluation after epoch {epoch}: " + ', '.join(
        f"{name}: fid {values['fid']:.2f}, class entropy {values['class_entropy']:.3f}"
        for name, values in variants.items()) + f" ({seconds:.1f} s)", flush=True)
    return variants


def plot_along_training(exp_dir):
    """EXP_DIR/eval/metrics.png from the rows of metrics.csv; returns its path, or None
    without rows."""
    csv_path, png_path = (os.path.join(exp_dir, 'eval', name) for name in (METRICS_CSV,
                                                                          METRICS_PLOT))
    if not os.path.exists(csv_path):
        return None
    plot_training_metrics(csv_path, png_path)
    return png_path


def format_table(metrics):
    lines = [f"step {metrics['step']}, {metrics['num_samples']} samples vs the binarized test "
             f"set; fid_train_vs_test {metrics['fid_train_vs_test']:.3f}, data ink density "
             f"{metrics['data_ink_density']:.3f}",
             f"{'variant':<10}{'fid':>9}{'incep.':>8}{'entropy':>9}{'min share':>10}"
             f"{'confid.':>9}{'ink':>7}{'isolated':>10}{'components':>12}"]
    for name, m in metrics['variants'].items():
        artifacts = ''.join('-'.rjust(width) if m[key] is None else f"{m[key]:{width}.3f}"
                            for key, width in (('isolated_pixels', 10), ('components', 12)))
        lines.append(f"{name:<10}{m['fid']:9.3f}{m['inception_score']:8.3f}"
                     f"{m['class_entropy']:9.3f}{m['min_class_share']:10.3f}"
                     f"{m['mean_confidence']:9.3f}{m['ink_density']:7.3f}{artifacts}")
    lines.append(f"test images: isolated on-pixels {metrics['data_isolated_pixels']:.3f}, "
                 f"components {metrics['data_components']:.3f} per image")
    shares = metrics['preactivated']
    notch = shares['notch_ratio']
    lines.append(f"preactivated outputs in [0.4, 0.6]: {shares['share_0.4_to_0.6']:.2%}; "
                 f"in [0, 0.1] or [0.9, 1]: {shares['share_below_0.1_or_above_0.9']:.2%}; "
                 f"notch at 0.5 (0.005 bins): "
                 + ('no values there' if notch is None else f"{notch:.2f} of its neighbours"))
    return '\n'.join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m binarygan.evaluate',
                                     description=__doc__.splitlines()[0])
    parser.add_argument('exp_dir', help='an experiment folder, e.g. exp/<experiment name>')
    parser.add_argument('--num-samples', type=int, default=10000)
    parser.add_argument('--checkpoint', help="a checkpoint (e.g. EXP_DIR/checkpoints/ckpt-"
                        "1000) or a folder of them; default: the experiment's latest")
    parser.add_argument('--classifier-dir', help="the classifier's cache; default: the "
                        "experiment's train.classifier_dir")
    parser.add_argument('--mnist-dir', help="MNIST IDX files with labels; default: the "
                        "experiment's train.eval_mnist_dir")
    args = parser.parse_args(argv)

    def evaluate():
        start_tensorflow()  # without its start-up lines, as main.py
        metrics = evaluate_experiment(args.exp_dir, args.num_samples, args.checkpoint,
                                      args.classifier_dir, args.mnist_dir)
        print(format_table(metrics))
        print(f"Written to {os.path.join(args.exp_dir, 'eval')}")
    return exit_status(evaluate)


if __name__ == '__main__':
    os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
    fast.set_cpu_options()  # before TensorFlow loads, as main.py
    sys.exit(main())
