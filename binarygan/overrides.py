"""config.py's dictionaries and the ``key=value`` overrides of the command line, each
read as its setting's type (configure.py checks the values)."""
import ast
import copy

from binarygan import UserError

SECTIONS = {'setup': 'SETUP', 'exp': 'EXP_CONFIG', 'data': 'DATA_CONFIG',
            'model': 'MODEL_CONFIG', 'train': 'TRAIN_CONFIG'}
# Values filled in from SETUP when None in their own section.
FROM_SETUP = {
    'exp': ('exp_name', 'pretrained_dir', 'seed'),
    'data': ('training_data', 'training_data_location'),
    'model': ('gan_type', 'optimizer', 'preset_g', 'preset_d'),
    'train': ('sample_along_training', 'evaluate_along_training', 'verbose'),
}
# The types of the settings that are None in config.py and in SETUP, for reading them
# from the command line (the others take their default's type): exp_name=1e3 is '1e3'.
NONE_DEFAULT_TYPES = {
    'exp_name': str, 'pretrained_dir': str, 'training_data': str, 'bn_mode': str,
    'output_neurons': str, 'initial_slope': float, 'rmsprop_initial_accumulator': float,
    'slope_annealing_rate': float, 'net_g': list, 'net_d': list,
    'initial_temperature': float, 'temperature_decay': float, 'min_temperature': float,
    'temperature_every_steps': int, 'gradient_estimator': str, 'samples_per_latent': int,
    'generator_learning_rate': float,
}
NONE_WORDS = ('None', 'none', 'null')


def default_config():
    """The five dictionaries of config.py, deep-copied, keyed by section."""
    import config
    return {section: copy.deepcopy(getattr(config, name))
            for section, name in SECTIONS.items()}


def _setting_type(config, section, name):
    """The type a setting is read as: its default's, for a None default its SETUP
    counterpart's or NONE_DEFAULT_TYPES's."""
    default = config[section][name]
    if default is None and name in FROM_SETUP.get(section, ()):
        default = config['setup'][name]
    return NONE_DEFAULT_TYPES[name] if default is None else type(default)


def _parse_value(text, kind, default, key):
    if default is None and text in NONE_WORDS:  # back to "filled in when it starts"
        return None
    if kind is bool:
        lowered = text.lower()
        if lowered in ('true', '1', 'yes'):
            return True
        if lowered in ('false', '0', 'no'):
            return False
        raise UserError(f"{key} takes true or false, not {text!r}")
    if kind is int:
        try:
            return int(text)
        except ValueError:
            raise UserError(f"{key} takes an integer, not {text!r}") from None
    if kind is float:
        try:
            return float(text)
        except ValueError:
            raise UserError(f"{key} takes a number, not {text!r}") from None
    if kind in (tuple, list):
        try:
            value = ast.literal_eval(text)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            value = None
        if not isinstance(value, (tuple, list)):
            example = (f"a tuple such as {tuple(default)!r}" if default is not None
                       else "a list of layers as in binarygan/presets.py")
            raise UserError(f"{key} takes {example}, not {text!r}")
        return kind(value)
    return text


def apply_overrides(config, overrides):
    """Apply ``key=value`` strings (``--key=value`` also accepted) in place."""
    defaults = copy.deepcopy(config)
    for item in overrides:
        arg = item[2:] if item.startswith('--') else item
        if '=' not in arg:
            raise UserError(f"argument {item!r} is not key=value "
                            "(e.g. gan_type=wgan or train.num_epoch=2)")
        key, text = arg.split('=', 1)
        section, _, name = key.rpartition('.')
        section = section or 'setup'
        if section not in config:
            raise UserError(f"unknown section {section!r} in {item!r}; valid: "
                            "a SETUP key, or exp., data., model., train. before it")
        if name not in config[section]:
            prefix = '' if section == 'setup' else section + '.'
            raise UserError(f"unknown key {key!r}; valid: "
                            + ', '.join(prefix + k for k in config[section]))
        config[section][name] = _parse_value(text, _setting_type(defaults, section, name),
                                             defaults[section][name], key)
    return config
