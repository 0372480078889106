"""Train a BinaryGAN experiment.

Usage: python main.py [key=value ...]

Settings come from config.py; each key=value overrides one of them. A bare key
is a SETUP key; exp., data., model. and train. address the other dictionaries:
    python main.py gan_type=wgan optimizer=rmsprop preset_g=mlp_bernoulli
    python main.py train.num_epoch=2 model.batch_size=32 train.max_steps=100
Rerunning an experiment resumes it from its latest checkpoint; a finished one is left
as it is. One run at a time per experiment: a second one is refused.

Exit status: 0 done, 2 bad input, 3 a loss became NaN or infinite,
130 / 143 stopped by SIGINT (Ctrl-C) / SIGTERM after saving a checkpoint.
"""
import os
import shlex
import sys

from binarygan import configure, fast, start_tensorflow
from binarygan.exit_status import exit_status


def main(argv=None, set_threads=False):
    """Train; ``set_threads``: this process is the training's own, so TensorFlow's
    thread pools (fixed once it starts) can be set for the model first."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in ('-h', '--help'):
        print(__doc__.strip())
        return 0

    def train():
        config = configure.load(argv)
        os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
        fast.set_cpu_options()
        start_tensorflow(config['train']['verbose'])
        from binarygan.fast.policy import batch_parts, set_cpu_threads
        from binarygan.train import run
        if set_threads:
            set_cpu_threads(batch_parts(config['model'], config['train']))
        run(config, ['python', 'main.py', *argv])
    return exit_status(train, f"resume with: {shlex.join(['python', 'main.py', *argv])}")


if __name__ == '__main__':
    sys.exit(main(set_threads=True))
