"""BinaryGAN: GANs with binary neurons at the generator's output (Dong & Yang, 2018)."""


class UserError(Exception):
    """A problem with the user's input: reported in one line, without traceback."""


class Diverged(Exception):
    """A loss became NaN or infinite: training stopped, the last good checkpoint is kept."""


class Interrupted(Exception):
    """SIGINT or SIGTERM stopped training after a checkpoint; ``signum`` says which."""

    def __init__(self, message, signum):
        super().__init__(message)
        self.signum = signum
