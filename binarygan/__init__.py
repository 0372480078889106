"""BinaryGAN: GANs with binary neurons at the generator's output (Dong & Yang, 2018)."""
import os
import sys
import tempfile


def start_tensorflow(verbose=False):
    """Import TensorFlow and find its devices, without its start-up chatter unless
    ``verbose``. TF_CPP_MIN_LOG_LEVEL does not reach what its libraries log while they
    load (absl's messages from before its logging starts, tensorflow#100442), so file
    descriptor 2 goes to a temporary file meanwhile, which is shown if this fails."""
    if verbose:
        import tensorflow as tf
        return tf
    sys.stderr.flush()
    stderr = os.dup(2)
    with tempfile.TemporaryFile() as chatter:
        os.dup2(chatter.fileno(), 2)
        try:
            import tensorflow as tf
            tf.config.list_physical_devices()  # on a machine without a GPU: a cuInit error
        except BaseException:
            os.dup2(stderr, 2)
            chatter.seek(0)
            os.write(2, chatter.read())
            raise
        finally:
            os.dup2(stderr, 2)
            os.close(stderr)
    return tf


class UserError(Exception):
    """A problem with the user's input: reported in one line, without traceback."""


class Diverged(Exception):
    """A loss became NaN or infinite: training stopped, the last good checkpoint is kept."""


class Interrupted(Exception):
    """SIGINT or SIGTERM stopped training after a checkpoint; ``signum`` says which."""

    def __init__(self, message, signum):
        super().__init__(message)
        self.signum = signum
