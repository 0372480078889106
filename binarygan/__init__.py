"""BinaryGAN: GANs with binary neurons at the generator's output (Dong & Yang, 2018)."""
import os

# oneDNN kernels for convolutions and XLA's matrix products: 1.5-1.7x faster training
# on x86 CPUs (bench.py), float32 as before; TensorFlow's CUDA builds leave them off.
# Read when TensorFlow is imported; export TF_ENABLE_ONEDNN_OPTS=0 to compare.
os.environ.setdefault('TF_ENABLE_ONEDNN_OPTS', '1')


class UserError(Exception):
    """A problem with the user's input: reported in one line, without traceback."""


class Diverged(Exception):
    """A loss became NaN or infinite: training stopped, the last good checkpoint is kept."""


class Interrupted(Exception):
    """SIGINT or SIGTERM stopped training after a checkpoint; ``signum`` says which."""

    def __init__(self, message, signum):
        super().__init__(message)
        self.signum = signum
