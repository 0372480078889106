"""Benchmark one training iteration (all critic steps + the generator step).

    python bench.py                        # mlp and cnn, wgan-gp and gan
    python bench.py --arch mlp --gan wgan-gp --iters 20 --repeats 5

Prints one JSON line per case with the field names of
../shared/bench/torch_reference.py, so the two compare line by line (run both in
the same shell, one right after the other, and compare the medians as a
ratio). Also prints the machine's float32 matmul rate, the analytic FLOP count of
each iteration as a fraction of it, and the overhead of the real training loop
(logging, sampling, checkpoints) over the pure compiled iteration.
"""
import argparse
import csv
import json
import os
import shutil
import statistics
import tempfile
import time

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

import numpy as np  # noqa: E402

from binarygan import configure  # noqa: E402  (first: it sets TensorFlow's CPU options)
import tensorflow as tf  # noqa: E402
from binarygan.presets import DISCRIMINATOR_PRESETS, GENERATOR_PRESETS  # noqa: E402


def forward_macs(network, input_shape):
    """Multiply-adds of one forward pass of one sample through a preset layer list."""
    shape, macs = tuple(input_shape), 0
    for layer in network:
        kind, args = layer[0], layer[1]
        if kind == 'reshape':
            shape = tuple(args)
        elif kind == 'dense':
            macs += int(np.prod(shape)) * args
            shape = (args,)
        elif kind == 'conv':  # valid padding
            filters, kernel, stride = args
            out = ((shape[0] - kernel) // stride + 1, (shape[1] - kernel) // stride + 1)
            macs += out[0] * out[1] * kernel * kernel * shape[2] * filters
            shape = out + (filters,)
        elif kind == 'transconv':  # valid padding: every input pixel meets the whole kernel
            filters, kernel, stride = args
            macs += shape[0] * shape[1] * kernel * kernel * shape[2] * filters
            shape = ((shape[0] - 1) * stride + kernel, (shape[1] - 1) * stride + kernel, filters)
        elif kind == 'maxpool':
            pool, stride, padding = args
            size = [(s - pool) // stride + 1 if padding == 'valid' else -(-s // stride)
                    for s in shape[:2]]
            shape = (size[0], size[1], shape[2])
    return macs


def iteration_flops(arch, gan_type, n_critic, batch_size=64, z_dim=128):
    """FLOPs (2 per multiply-add) of one iteration, counting a backward pass as twice
    its forward pass (input and weight gradients).

    critic step: G forward + D forward and backward on real and fake (6 D), and
    for WGAN-GP the penalty: D forward, input gradient, and the backward pass
    through both (another 6 D). Generator step: G forward and backward (3 G),
    D forward and input gradient (2 D).
    """
    g = forward_macs(GENERATOR_PRESETS[f'{arch}_round']['network'], (z_dim,))
    d = forward_macs(DISCRIMINATOR_PRESETS[arch], (28, 28, 1))
    critic = g + (12 if gan_type == 'wgan-gp' else 6) * d
    generator = 3 * g + 2 * d
    return 2 * batch_size * (n_critic * critic + generator)


def matmul_gflops(size=2048, repeats=20):
    """Measured float32 matmul rate of this device, the practical peak."""
    a = tf.random.normal([size, size])
    b = tf.random.normal([size, size])
    matmul = tf.function(lambda a, b: tf.linalg.matmul(a, b))
    matmul(a, b).numpy()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        matmul(a, b).numpy()
        times.append(time.perf_counter() - start)
    return 2 * size ** 3 / min(times) / 1e9


def case_config(arch, gan_type, extra=()):
    return configure.load([f'preset_g={arch}_round', f'preset_d={arch}', f'gan_type={gan_type}',
                           *extra])


def bench_iteration(arch, gan_type, n_critic, iters, repeats, extra=()):
    """Median and min milliseconds per iteration of the compiled training iteration."""
    from binarygan.gan import BinaryGAN
    config = case_config(arch, gan_type, extra)
    # Random binary images like the reference's: only the model math is timed.
    images = (np.random.RandomState(0).rand(70000, 28, 28, 1) > 0.81).astype(np.uint8)
    gan = BinaryGAN(config['model'], config['train'], images, seed=0)
    gan.shuffle()
    n = tf.constant(n_critic, tf.int32)
    for i in range(5):
        gan.train_iteration(n, tf.constant(i, tf.int32))[1].numpy()
    times = []
    for r in range(repeats):
        start = time.perf_counter()
        for i in range(iters):
            result = gan.train_iteration(n, tf.constant(i, tf.int32))
        result[1].numpy()
        times.append((time.perf_counter() - start) / iters * 1e3)
    return statistics.median(times), min(times), config


def loop_ms_per_iteration(arch, gan_type, n_critic, steps, extra=()):
    """(wall milliseconds per iteration of the real training loop, milliseconds of it
    inside the compiled iteration): train.run on synthetic data, the difference of a
    short and a long run so that set-up and tracing cancel; the time inside the
    iteration is the sum of the long run's batch.csv seconds after the short run's
    steps."""
    from binarygan.train import run
    root = tempfile.mkdtemp(prefix='binarygan-bench-')
    try:
        data = os.path.join(root, 'images.npy')
        np.save(data, (np.random.RandomState(0).rand(70000, 28, 28) > 0.81).astype(np.uint8))
        walls = []
        for name, max_steps in (('short', 10), ('long', 10 + steps)):
            config = case_config(arch, gan_type, [
                *extra, f'data.training_data={data}', f'exp.exp_root={root}',
                f'exp.exp_name={name}', f'train.max_steps={max_steps}',
                'train.warmup_steps=0', f'train.n_critic={n_critic}',
                'train.n_critic_warmup_every=1000000000'])
            start = time.perf_counter()
            run(config)
            walls.append(time.perf_counter() - start)
        with open(os.path.join(root, 'long', 'logs', 'batch.csv'), newline='') as f:
            inside = sum(float(row['seconds']) for row in csv.DictReader(f)
                         if int(row['step']) >= 10)
        return (walls[1] - walls[0]) / steps * 1e3, inside / steps * 1e3
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--arch', choices=['mlp', 'cnn'], action='append')
    parser.add_argument('--gan', choices=['wgan-gp', 'gan'], action='append')
    parser.add_argument('--n-critic', type=int, default=5)
    parser.add_argument('--iters', type=int, default=20, help="iterations per timed block")
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--loop-steps', type=int, default=0,
                        help="also time this many iterations of the real training loop")
    parser.add_argument('overrides', nargs='*', help="config overrides, e.g. train.jit_compile=off")
    args = parser.parse_args()
    gpus = tf.config.list_physical_devices('GPU')
    device = tf.config.experimental.get_device_details(gpus[0]).get('device_name', 'GPU') \
        if gpus else f'CPU ({os.cpu_count()} cores)'
    peak = matmul_gflops()
    print(json.dumps({'impl': 'tf', 'device': device, 'matmul_2048_gflops_per_s': round(peak, 1)}),
          flush=True)
    for arch in args.arch or ['mlp', 'cnn']:
        for gan_type in args.gan or ['wgan-gp', 'gan']:
            median, best, config = bench_iteration(arch, gan_type, args.n_critic, args.iters,
                                                   args.repeats, args.overrides)
            flops = iteration_flops(arch, gan_type, args.n_critic)
            result = {
                'impl': 'tf', 'tf': tf.__version__, 'arch': arch, 'gan': gan_type,
                'n_critic': args.n_critic, 'device': device,
                'threads': tf.config.threading.get_intra_op_parallelism_threads() or os.cpu_count(),
                'jit_compile': config['train']['jit_compile'],
                'onednn': os.environ['TF_ENABLE_ONEDNN_OPTS'],
                'ms_per_iteration_median': round(median, 2),
                'ms_per_iteration_min': round(best, 2),
                'images_per_s': round(config['model']['batch_size'] * 1e3 / median, 1),
                'gflop_per_iteration': round(flops / 1e9, 3),
                'gflops_per_s': round(flops / median / 1e6, 1),
                'fraction_of_matmul_peak': round(flops / median / 1e6 / peak, 3),
            }
            if args.loop_steps:
                loop, inside = loop_ms_per_iteration(arch, gan_type, args.n_critic,
                                                     args.loop_steps, args.overrides)
                result['loop_ms_per_iteration'] = round(loop, 2)
                result['loop_overhead_percent'] = round(100 * (loop / median - 1), 1)
                # Around the iteration calls inside the loop: logging, sampling, checks.
                result['loop_ms_inside_iteration'] = round(inside, 2)
                result['loop_overhead_around_iteration_percent'] = round(
                    100 * (loop / inside - 1), 1)
            print(json.dumps(result), flush=True)


if __name__ == '__main__':
    main()
