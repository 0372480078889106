"""Draw samples from a trained generator.

Usage: python -m binarygan.sample EXP_DIR [--num N] [--out FILE] [--checkpoint PATH]
                                 [--seed S]

Restores the experiment's latest checkpoint (or PATH), draws N samples (default 64)
from the noise of seed S (default 0) and writes, for each output of the generator,
FILE_<output>.png (a grid) and FILE_<output>.npy (N x 28 x 28 x 1, float32): 'binary'
and 'preactivated' for binary neurons; 'raw', 'threshold' and 'bernoulli' for a
real-valued generator. FILE defaults to EXP_DIR/samples/sampled_<step>; a .png or .npy
ending of it is dropped, and its folder is made if missing.
"""
import argparse
import math
import os
import sys

import numpy as np

from binarygan import UserError, fast, start_tensorflow
from binarygan.exit_status import exit_status


def sample_experiment(exp_dir, num=64, out=None, checkpoint=None, seed=0):
    """Write the files of ``num`` samples; returns (their paths, checkpoint, step)."""
    if num < 1:
        raise UserError(f"--num must be at least 1, not {num}")
    tf = start_tensorflow()
    from binarygan.evaluate import restore_experiment
    from binarygan.image_io import save_grid
    restored = restore_experiment(exp_dir, checkpoint)
    gan, path, step = restored.gan, restored.checkpoint, restored.step
    prefix = out or os.path.join(exp_dir, 'samples', f'sampled_{step:06d}')
    if prefix.endswith(('.png', '.npy')):
        prefix = prefix[:-len('.png')]
    columns = math.ceil(math.sqrt(num))
    grid = (math.ceil(num / columns), columns)
    samples = gan.sample(tf.random.stateless_normal([num, gan.z_dim], seed=(seed, 0)))
    written = []
    try:
        os.makedirs(os.path.dirname(prefix) or '.', exist_ok=True)
        for name, images in samples.items():
            images = images.numpy()
            written += [f'{prefix}_{name}.png', f'{prefix}_{name}.npy']
            save_grid(written[-2], images, grid)
            np.save(written[-1], images)
    except OSError as e:
        raise UserError(f"cannot write {prefix}_* ({e.filename}: {e.strerror}): give "
                        "another --out") from None
    return written, path, step


class OneLineErrors(argparse.ArgumentParser):
    """Bad arguments in one line, as every bad input of the project."""

    def error(self, message):
        self.exit(2, f"error: {message} (see --help)\n")


def main(argv=None):
    parser = OneLineErrors(prog='python -m binarygan.sample',
                           description=__doc__.splitlines()[0])
    parser.add_argument('exp_dir', metavar='EXP_DIR',
                        help='an experiment folder, e.g. exp/<experiment name>')
    parser.add_argument('--num', type=int, default=64, metavar='N',
                        help='samples to draw (default 64)')
    parser.add_argument('--out', metavar='FILE', help="the files' path without its ending; "
                        "default: EXP_DIR/samples/sampled_<step>")
    parser.add_argument('--checkpoint', metavar='PATH', help="a checkpoint (e.g. EXP_DIR/"
                        "checkpoints/ckpt-1000) or a folder of them; default: the latest")
    parser.add_argument('--seed', type=int, default=0, metavar='S',
                        help='seed of the noise (default 0)')
    args = parser.parse_args(argv)

    def sample():
        start_tensorflow()  # without its start-up lines, as main.py
        written, path, step = sample_experiment(args.exp_dir, args.num, args.out,
                                                args.checkpoint, args.seed)
        print(f"{args.num} samples from {path} (step {step}): {', '.join(written)}")
    return exit_status(sample)


if __name__ == '__main__':
    os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
    fast.set_cpu_options()  # before TensorFlow loads, as main.py
    sys.exit(main())
