"""The binarized-weights study's speed on one thread, as the study's lanes run it
(`python bench.py --binarized-weights all`): each configuration's training step, timed in
turns with the others (the machine's speed drifts within minutes), its analytic FLOPs as a
fraction of one core's float32 matmul rate, and its seconds per epoch (the steps of 50,000
training images, and the evaluation of 10,000 validation and 10,000 test images, twice for
stochastic runs: sign(W) and W). One JSON line per configuration, then each one's time per
epoch as a ratio to the seed's deterministic binarized MLP."""
import json
import math
import statistics
import time

import numpy as np
import tensorflow as tf

from binarygan.exit_status import exit_status
from experiments.cli import names
from studies.binarized_weights_network import CONFIGS, IMAGE_PIXELS, CLASSES, Classifier

TRAINING_IMAGES, EVALUATION_SET_IMAGES = 50000, 10000
REFERENCE = 'seed_binary_deterministic'


def step_flops(config):
    """Multiply-adds x 2 of a training step: each dense layer's product forward, its
    kernel's gradient and its input's gradient (none for the first layer's input)."""
    sizes = (IMAGE_PIXELS, *config['hidden_units'], CLASSES)
    products = sum(n_in * n_out for n_in, n_out in zip(sizes[:-1], sizes[1:]))
    return 2 * config['batch_size'] * (3 * products - sizes[0] * sizes[1])


def timed(function, repeats):
    start = time.perf_counter()
    for _ in range(repeats):
        result = function()
    float(result)
    return (time.perf_counter() - start) / repeats


def time_configs(config_names, steps, rounds, core_gflops):
    """{config: its JSON line}: the median over ``rounds`` of ``steps`` training steps
    and of an evaluation of 10,000 images, the configurations in turns in each round."""
    rng = np.random.default_rng(0)
    classifiers = {name: Classifier(CONFIGS[name], seed=0) for name in config_names}
    steps_seconds = {name: [] for name in config_names}
    evaluation_seconds = {name: [] for name in config_names}
    images = tf.constant(rng.random((EVALUATION_SET_IMAGES, IMAGE_PIXELS), np.float32))
    labels = tf.constant(rng.integers(0, CLASSES, EVALUATION_SET_IMAGES, np.int32))
    batches = {name: (images[:CONFIGS[name]['batch_size']], labels[:CONFIGS[name]['batch_size']])
               for name in config_names}
    for name, classifier in classifiers.items():  # traced and compiled before any clock
        classifier.train_step(*batches[name])
        classifier.evaluate(images, labels)
    for _ in range(rounds):
        for name, classifier in classifiers.items():
            steps_seconds[name].append(
                timed(lambda: classifier.train_step(*batches[name]), steps))
            evaluation_seconds[name].append(
                timed(lambda: classifier.evaluate(images, labels)[1], 1))
    lines = {}
    for name in config_names:
        config, step = CONFIGS[name], statistics.median(steps_seconds[name])
        flops = step_flops(config)
        evaluations = 2 * (2 if config['binarization'] == 'stochastic' else 1)
        epoch = (math.ceil(TRAINING_IMAGES / config['batch_size']) * step
                 + evaluations * statistics.median(evaluation_seconds[name]))
        lines[name] = {'study': 'binarized_weights', 'config': name,
                       'batch_size': config['batch_size'], 'ms_per_step': round(1e3 * step, 1),
                       'step_gflop': round(flops / 1e9, 2),
                       'fraction_of_core_matmul_rate': round(
                           flops / step / 1e9 / core_gflops, 3),
                       'seconds_per_epoch': round(epoch, 1)}
    return lines


def main(configs, steps, rounds, core_matmul_gflops):
    """Time ``configs`` ('all' or comma-separated names) beside REFERENCE on one thread;
    print their lines and their epochs' ratios to REFERENCE's. The exit status."""
    def run():
        chosen = names('' if configs == 'all' else configs, CONFIGS, 'configuration')
        try:
            tf.config.threading.set_intra_op_parallelism_threads(1)
            tf.config.threading.set_inter_op_parallelism_threads(1)
        except RuntimeError:  # TensorFlow started before (a test): its threads stay
            pass
        core = core_matmul_gflops()
        # The threads it ran on (0: TensorFlow's default, all cores).
        print(json.dumps({'impl': 'tf', 'one_core_matmul_2048_gflops_per_s': round(core, 1),
                          'intra_op_threads':
                              tf.config.threading.get_intra_op_parallelism_threads()}))
        lines = time_configs(list(dict.fromkeys([REFERENCE, *chosen])), steps, rounds, core)
        for line in lines.values():
            print(json.dumps(line), flush=True)
        reference = lines[REFERENCE]['seconds_per_epoch']
        print(json.dumps({f'seconds_per_epoch_over_{REFERENCE}': {
            name: round(line['seconds_per_epoch'] / reference, 2)
            for name, line in lines.items()}}))
    return exit_status(run)
