"""BinaryGAN: GANs with binary neurons at the generator's output (Dong & Yang, 2018)."""


class UserError(Exception):
    """A problem with the user's input: reported in one line, without traceback."""
