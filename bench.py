"""Benchmark one training iteration (all critic steps + the generator step).

    python bench.py                        # mlp and cnn, wgan-gp and gan
    python bench.py --arch mlp --gan wgan-gp --iters 20 --repeats 5
    python bench.py --reference /path/to/torch-venv/bin/python --rounds 5 \
                    --reference-arg=--fake-once
    python bench.py --arch mlp --gan wgan-gp --gan bgan --estimator reinforce   # other ways
    python bench.py --binarized-weights all   # the binarized-weights study, one thread

Prints one JSON line per case with the field names of
../shared/bench/torch_reference.py, so the two compare line by line (run both in
the same shell, one right after the other, and compare the medians as a ratio; or
give --reference, which runs them in turns and reports the ratio of each round and
their median: the machine's speed drifts within minutes). Also prints the machine's
float32 matmul rate, the analytic FLOP count of each iteration as a fraction of it,
and the overhead of the real training loop (logging, sampling, checkpoints) over the
pure compiled iteration. Each architecture runs in a process of its own: TensorFlow's
thread pools are fixed once it starts, and the CNNs' steps take their batches in
parts, one thread per operation (train.batch_parts), while the MLPs' XLA steps use
all cores per operation.
"""
import argparse
import csv
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

from binarygan import configure, fast

# A script that loads TensorFlow on import: its options first.
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
fast.set_cpu_options()
import tensorflow as tf  # noqa: E402
from binarygan.fast.policy import batch_parts, set_cpu_threads  # noqa: E402
from binarygan.presets import DISCRIMINATOR_PRESETS, GENERATOR_PRESETS  # noqa: E402


def forward_macs(network, input_shape):
    """Multiply-adds of one forward pass of one sample through a preset layer list."""
    shape, macs = tuple(input_shape), 0
    for layer in network:
        kind, args = layer[0], layer[1]
        if kind == 'reshape':  # -1: the rest of the values
            size = int(np.prod(shape))
            shape = tuple(size // -int(np.prod(args)) if n == -1 else n for n in args)
        elif kind in ('pad', 'crop'):
            change = 2 * args if kind == 'pad' else -2 * args
            shape = (shape[0] + change, shape[1] + change, shape[2])
        elif kind == 'dense':
            macs += int(np.prod(shape)) * args
            shape = (args,)
        elif kind == 'conv':
            filters, kernel, stride, *padding = args
            out = tuple(-(-n // stride) if padding == ['same'] else (n - kernel) // stride + 1
                        for n in shape[:2])
            macs += out[0] * out[1] * kernel * kernel * shape[2] * filters
            shape = out + (filters,)
        elif kind == 'transconv':  # every input pixel meets the whole kernel
            filters, kernel, stride, *padding = args
            macs += shape[0] * shape[1] * kernel * kernel * shape[2] * filters
            shape = tuple(n * stride if padding == ['same'] else (n - 1) * stride + kernel
                          for n in shape[:2]) + (filters,)
        elif kind == 'maxpool':
            pool, stride, padding = args
            size = [(s - pool) // stride + 1 if padding == 'valid' else -(-s // stride)
                    for s in shape[:2]]
            shape = (size[0], size[1], shape[2])
    return macs


def first_layer_macs(network, input_shape):
    """Multiply-adds of one forward pass through the first layer with weights."""
    for k, layer in enumerate(network):
        if layer[0] in ('dense', 'conv', 'transconv'):
            return forward_macs(network[:k + 1], input_shape)
    return 0


# The networks of each --arch: (G preset, D preset, z_dim, its own settings); 'dcgan' is
# seed 003's BGAN networks (kklemon/bgan-pytorch), as ../shared/bench/bgan_reference.py.
ARCHS = {'mlp': ('mlp', 'mlp', 128, []), 'cnn': ('cnn', 'cnn', 128, []),
         'dcgan': ('dcgan', 'dcgan', 64, ['model.z_dim=64', 'model.weight_init=torch_default',
                                          'model.log_likelihood=mean'])}


def iteration_flops(arch, gan_type, n_critic, batch_size=64, estimator='sigmoid_adjusted',
                    samples_per_latent=1):
    """FLOPs (2 per multiply-add) of the matrix products and convolutions of one
    iteration, as this code runs it; a layer's weight gradient and its input gradient
    each cost one forward pass of the layer, and no input gradient of a first layer
    is taken unless something needs it.

    Per sample, in passes through D (the critic; D1 its first layer) and G (the
    generator; G1 its first layer). The generator's logits for all critic steps: G.
    A critic step, on real and fake images: forward 2 D, weight gradients 2 D, input
    gradients 2 (D - D1); WGAN-GP's penalty at the interpolates: forward D (D - D1
    when D1 is dense: its outputs are interpolated instead), the input gradient D and
    its derivative with respect to the weights 2 D. The generator step: G forward,
    weight and input gradients 3 G - G1, D forward and input gradient 2 D; for the
    score-function ways, whose gradient does not pass through D, D forward only, on
    the M samples of each latent. BGAN's last critic step is its generator step too:
    D forward and gradients on the real images and the M samples, (1 + M) (3 D - D1).
    """
    g_preset, d_preset, z_dim, _ = ARCHS[arch]
    generator = GENERATOR_PRESETS[f'{g_preset}_round']['network']
    critic = DISCRIMINATOR_PRESETS[d_preset]
    g, g1 = forward_macs(generator, (z_dim,)), first_layer_macs(generator, (z_dim,))
    d, d1 = forward_macs(critic, (28, 28, 1)), first_layer_macs(critic, (28, 28, 1))
    critic_step = 6 * d - 2 * d1
    if gan_type == 'wgan-gp':
        first_is_dense = next(layer[0] for layer in critic if layer[0] != 'reshape') == 'dense'
        critic_step += 4 * d - (d1 if first_is_dense else 0)
    if gan_type == 'bgan':
        critic_step = (1 + samples_per_latent) * (3 * d - d1)
        return 2 * batch_size * (g + n_critic * critic_step + 3 * g - g1)
    if estimator == 'reinforce':
        generator_step = 3 * g - g1 + samples_per_latent * d
    else:
        generator_step = 3 * g - g1 + 2 * d
    return 2 * batch_size * (g + n_critic * critic_step + generator_step)


def matmul_gflops(size=2048, repeats=20, count=None):
    """Measured float32 matmul rate of this device, the practical peak: one product per
    CPU core at once (or ``count`` products), so that every core counts whatever the
    threads per operation."""
    count = count or os.cpu_count() or 1
    pairs = [(tf.random.normal([size, size]), tf.random.normal([size, size]))
             for _ in range(count)]
    matmuls = tf.function(lambda pairs: tf.add_n([tf.linalg.matmul(a, b) for a, b in pairs]))
    matmuls(pairs).numpy()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        matmuls(pairs).numpy()
        times.append(time.perf_counter() - start)
    return count * 2 * size ** 3 / min(times) / 1e9


def case_config(arch, gan_type, extra=(), estimator='sigmoid_adjusted'):
    """The case's configuration: the paper's DBNs with its estimator, else SBNs; BGAN as
    its authors train it (one discriminator step, taken with the generator's)."""
    neurons = 'round' if estimator == 'sigmoid_adjusted' and gan_type != 'bgan' else 'bernoulli'
    g_preset, d_preset, _, own = ARCHS[arch]
    if gan_type == 'bgan':
        estimator, own = 'reinforce', [*own, 'model.beta2=0.999']
    return configure.load([f'preset_g={g_preset}_{neurons}', f'preset_d={d_preset}',
                           f'gan_type={gan_type}', f'model.gradient_estimator={estimator}',
                           *own, *extra])


def iteration_timer(arch, gan_type, n_critic, iters, repeats, extra=(),
                    estimator='sigmoid_adjusted'):
    """(a function that times the compiled training iteration and returns the median and
    min milliseconds per iteration over ``repeats`` blocks of ``iters``, the config)."""
    from binarygan.data import BatchSampler
    from binarygan.gan import BinaryGAN
    config = case_config(arch, gan_type, extra, estimator)
    # Random binary images like the reference's: only the model math is timed.
    images = (np.random.RandomState(0).rand(70000, 28, 28, 1) > 0.81).astype(np.uint8)
    gan = BinaryGAN(config['model'], config['train'], seed=0)
    sampler = BatchSampler(images, config['model']['batch_size'], gan.rng)
    sampler.shuffle()
    train_iteration = gan.iteration_function(sampler, n_critic)
    n = tf.constant(n_critic, tf.int32)
    for i in range(5):
        train_iteration(n, tf.constant(i, tf.int32))[1].numpy()

    def time_blocks():
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            for i in range(iters):
                result = train_iteration(n, tf.constant(i, tf.int32))
            result[1].numpy()
            times.append((time.perf_counter() - start) / iters * 1e3)
        return statistics.median(times), min(times)
    return time_blocks, config


def reference_ms(command):
    """The reference's median milliseconds per iteration, from its JSON line."""
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ['no output'])[-1]
        raise SystemExit(f"bench.py: the reference failed ({' '.join(command)}): {last}")
    line = json.loads(done.stdout.strip().splitlines()[-1])
    return line.get('ms_per_iteration_median', line.get('ms_per_step_median'))


def loop_ms_per_iteration(arch, gan_type, n_critic, steps, extra=(),
                          estimator='sigmoid_adjusted'):
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
                'train.n_critic_warmup_every=1000000000'], estimator)
            start = time.perf_counter()
            run(config)
            walls.append(time.perf_counter() - start)
        with open(os.path.join(root, 'long', 'logs', 'batch.csv'), newline='') as f:
            inside = sum(float(row['seconds']) for row in csv.DictReader(f)
                         if int(row['step']) >= 10)
        return (walls[1] - walls[0]) / steps * 1e3, inside / steps * 1e3
    finally:
        shutil.rmtree(root, ignore_errors=True)


def own_arguments(args):
    """The command-line arguments of ``args`` other than --arch."""
    arguments = ['--n-critic', str(args.n_critic), '--iters', str(args.iters),
                 '--repeats', str(args.repeats), '--loop-steps', str(args.loop_steps),
                 '--rounds', str(args.rounds), '--reference-script', args.reference_script,
                 '--bgan-reference-script', args.bgan_reference_script]
    if args.reference:
        arguments += ['--reference', args.reference]
    arguments += [f'--reference-arg={arg}' for arg in args.reference_arg]
    for gan_type in args.gan or []:
        arguments += ['--gan', gan_type]
    for estimator in args.estimator or []:
        arguments += ['--estimator', estimator]
    return arguments + args.overrides


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--arch', choices=list(ARCHS), action='append',
                        help="mlp, cnn: the paper's networks; dcgan: seed 003's (default: "
                             "mlp and cnn)")
    parser.add_argument('--gan', choices=['wgan-gp', 'gan', 'bgan'], action='append')
    parser.add_argument('--estimator', action='append', choices=[
        'sigmoid_adjusted', 'straight_through', 'reinforce', 'gumbel_sigmoid',
        'straight_through_gumbel'], help="the generator's estimators to time with each "
        "--gan but bgan (default: sigmoid_adjusted, the paper's, with DBNs; the others "
        "with SBNs)")
    parser.add_argument('--n-critic', type=int, default=5,
                        help="critic steps per iteration (BGAN: always its authors' 1)")
    parser.add_argument('--iters', type=int, default=20, help="iterations per timed block")
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--loop-steps', type=int, default=0,
                        help="also time this many iterations of the real training loop")
    parser.add_argument('--reference', metavar='PYTHON',
                        help="a Python with torch: run the PyTorch reference in turns with "
                             "this benchmark, --rounds times per case, and report the median "
                             "of the per-round ratios (robust to the machine's drift)")
    shared = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'shared', 'bench')
    parser.add_argument('--reference-script', default=os.path.join(
        shared, 'torch_reference.py'), help="the reference of the paper's cases; another "
        "commit's bench.py, with --reference naming its Python, compares two versions of "
        "this code")
    parser.add_argument('--bgan-reference-script', default=os.path.join(
        shared, 'bgan_reference.py'), help="the reference of seed 003's BGAN step "
        "(--arch dcgan --gan bgan)")
    parser.add_argument('--reference-arg', action='append', default=[], metavar='ARG',
                        help="an argument for the reference, e.g. --reference-arg=--fake-once "
                             "(the PyTorch reference's fairest mode)")
    parser.add_argument('--rounds', type=int, default=5)
    parser.add_argument('--binarized-weights', metavar='CONFIGS',
                        help="time the binarized-weights study's configurations instead "
                             "(comma-separated, or all), one thread, --iters steps each in "
                             "--repeats rounds")
    parser.add_argument('overrides', nargs='*', help="config overrides, e.g. train.jit_compile=off")
    args = parser.parse_args(argv)
    archs, gans = args.arch or ['mlp', 'cnn'], args.gan or ['wgan-gp', 'gan']
    if args.reference:
        paper = ('dcgan' not in archs and 'bgan' not in gans
                 and not set(args.estimator or []) - {'sigmoid_adjusted'})
        bgan = archs == ['dcgan'] and gans == ['bgan']
        if not (paper or bgan):
            parser.error("the references run the paper's cases (--arch mlp or cnn, --gan "
                         "wgan-gp or gan, the sigmoid_adjusted estimator) and seed 003's BGAN "
                         "(--arch dcgan --gan bgan) only")
        script = args.bgan_reference_script if bgan else args.reference_script
        if not os.path.isfile(script):
            parser.error(f"no reference script at {script}")
    return args


def reference_command(args, arch, gan_type, n_critic):
    """The reference's command line for a case."""
    if gan_type == 'bgan':
        return [args.reference, args.bgan_reference_script, '--iters', str(args.iters),
                '--repeats', str(args.repeats), *args.reference_arg]
    return [args.reference, args.reference_script, '--arch', arch, '--gan', gan_type,
            '--n-critic', str(n_critic), '--iters', str(args.iters),
            '--repeats', str(args.repeats), *args.reference_arg]


def time_case(args, arch, gan_type, estimator, device, peak):
    """The JSON line of one case: its times, FLOP rate and, with --reference, the ratio
    of each round."""
    n_critic = 1 if gan_type == 'bgan' else args.n_critic
    time_blocks, config = iteration_timer(arch, gan_type, n_critic, args.iters, args.repeats,
                                          args.overrides, estimator)
    rounds = []  # (ours, the reference's) medians, run in turns
    for _ in range(args.rounds if args.reference else 0):
        theirs = reference_ms(reference_command(args, arch, gan_type, n_critic))
        rounds.append((time_blocks(), theirs))
    if rounds:
        median, best = (statistics.median(ours[0] for ours, _ in rounds),
                        min(ours[1] for ours, _ in rounds))
    else:
        median, best = time_blocks()
    model = config['model']
    flops = iteration_flops(arch, gan_type, n_critic, estimator=model['gradient_estimator'],
                            samples_per_latent=model['samples_per_latent'])
    result = {
        'impl': 'tf', 'tf': tf.__version__, 'arch': arch, 'gan': gan_type,
        'estimator': model['gradient_estimator'], 'output_neurons': model['output_neurons'],
        'samples_per_latent': model['samples_per_latent'], 'n_critic': n_critic,
        'device': device,
        'threads': tf.config.threading.get_intra_op_parallelism_threads() or os.cpu_count(),
        'jit_compile': config['train']['jit_compile'],
        'onednn': os.environ['TF_ENABLE_ONEDNN_OPTS'],
        'batch_parts': batch_parts(model, config['train']),
        'ms_per_iteration_median': round(median, 2), 'ms_per_iteration_min': round(best, 2),
        'images_per_s': round(model['batch_size'] * 1e3 / median, 1),
        'gflop_per_iteration': round(flops / 1e9, 3),
        'gflops_per_s': round(flops / median / 1e6, 1),
        'fraction_of_matmul_peak': round(flops / median / 1e6 / peak, 3),
    }
    if rounds:
        ratios = [ours[0] / theirs for ours, theirs in rounds]
        result['reference_ms_per_iteration_median'] = round(
            statistics.median(theirs for _, theirs in rounds), 2)
        result['ratio_per_round'] = [round(ratio, 3) for ratio in ratios]
        result['ratio_median'] = round(statistics.median(ratios), 3)
    if args.loop_steps:
        loop, inside = loop_ms_per_iteration(arch, gan_type, n_critic, args.loop_steps,
                                             args.overrides, estimator)
        result['loop_ms_per_iteration'] = round(loop, 2)
        result['loop_overhead_percent'] = round(100 * (loop / median - 1), 1)
        # Around the iteration calls inside the loop: logging, sampling, checks.
        result['loop_ms_inside_iteration'] = round(inside, 2)
        result['loop_overhead_around_iteration_percent'] = round(100 * (loop / inside - 1), 1)
    return result


def main(argv=None):
    args = parse_arguments(argv)
    if args.binarized_weights:  # one thread, as the study's lanes run it
        from studies import binarized_weights_bench
        raise SystemExit(binarized_weights_bench.main(
            args.binarized_weights, args.iters, args.repeats, lambda: matmul_gflops(count=1)))
    archs = args.arch or ['mlp', 'cnn']
    if len(archs) > 1:  # each in a process of its own: its own thread settings
        for arch in archs:
            done = subprocess.run([sys.executable, os.path.abspath(__file__), '--arch', arch,
                                   *own_arguments(args)])
            if done.returncode:
                raise SystemExit(done.returncode)
        return
    cases = [(gan_type, estimator) for gan_type in args.gan or ['wgan-gp', 'gan']
             for estimator in (['reinforce'] if gan_type == 'bgan'
                               else args.estimator or ['sigmoid_adjusted'])]
    # Before TensorFlow starts (the matmul below): the thread settings of the first case.
    first = case_config(archs[0], cases[0][0], args.overrides, cases[0][1])
    set_cpu_threads(batch_parts(first['model'], first['train']))
    gpus = tf.config.list_physical_devices('GPU')
    device = tf.config.experimental.get_device_details(gpus[0]).get('device_name', 'GPU') \
        if gpus else f'CPU ({os.cpu_count()} cores)'
    peak = matmul_gflops()
    print(json.dumps({'impl': 'tf', 'device': device, 'matmul_2048_gflops_per_s': round(peak, 1)}),
          flush=True)
    for gan_type, estimator in cases:
        print(json.dumps(time_case(args, archs[0], gan_type, estimator, device, peak)),
              flush=True)


if __name__ == '__main__':
    main()
