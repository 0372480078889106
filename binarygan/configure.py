"""Turn config.py plus command-line overrides into one checked configuration."""
import copy
import math
import os

from binarygan import UserError
from binarygan.overrides import FROM_SETUP, apply_overrides, default_config
from binarygan.estimators import ESTIMATORS
from binarygan.objectives import OBJECTIVES
from binarygan.presets import (DISCRIMINATOR_PRESETS, GENERATOR_PRESETS, OUTPUT_NEURONS,
                               WEIGHT_INITS, check_network, without_output_bn)

OPTIMIZERS = ('adam', 'rmsprop')
LOCATIONS = ('hd', 'sa')
BN_MODES = ('batch', 'affine')
JIT_MODES = ('auto', 'on', 'off')
LOG_LIKELIHOODS = ('sum', 'mean')
# The two readings of the paper (SETUP['protocol']): the values they give to the settings
# left None. 'original_code' is what salu133445/binarygan (6a068a2), which made the
# paper's figures, computed: bgan/mnist/components.py builds the generator's NeuralNet
# without the slope tensor, so bgan/utils/ops.py uses a constant 1.0 (the slope variable
# it anneals reaches no neuron); bgan/utils/neuralnet.py calls batch normalization
# without `training`, i.e. in inference mode on moving statistics that are never
# updated; TensorFlow 1's RMSPropOptimizer starts its accumulators at 1.
PROTOCOLS = {
    'paper': {('model', 'initial_slope'): 1.0, ('train', 'slope_annealing_rate'): 1.1,
              ('model', 'bn_mode'): 'batch', ('model', 'rmsprop_initial_accumulator'): 0.0},
    'original_code': {('model', 'initial_slope'): 1.0, ('train', 'slope_annealing_rate'): 1.0,
                      ('model', 'bn_mode'): 'affine',
                      ('model', 'rmsprop_initial_accumulator'): 1.0},
}
# The Gumbel estimators' settings and their values when left None.
TEMPERATURE = {('model', 'initial_temperature'): 1.0, ('train', 'temperature_decay'): 3e-5,
               ('train', 'min_temperature'): 0.5, ('train', 'temperature_every_steps'): 1000}
INT32_MAX = 2 ** 31 - 1  # batch_size, z_dim and the critic steps are int32 tensors
SEED_MAX = 2 ** 32 - 1   # numpy's RandomState takes seeds from 0 to this
FLOAT32_MAX = 3.4028234663852886e38  # the float settings become float32 tensors
# Values that may change when an experiment is resumed: they do not change
# what has been trained so far.
RESUMABLE_CHANGES = {
    ('setup', 'pretrained_dir'), ('exp', 'pretrained_dir'),
    ('setup', 'verbose'), ('train', 'verbose'),
    ('setup', 'sample_along_training'), ('train', 'sample_along_training'),
    ('setup', 'evaluate_along_training'), ('train', 'evaluate_along_training'),
    ('train', 'num_epoch'), ('train', 'max_steps'), ('train', 'checkpoints_to_keep'),
    ('train', 'checkpoint_every_steps'),
    ('train', 'fast'), ('train', 'jit_compile'), ('train', 'batch_parts'),
    ('train', 'eval_every'), ('train', 'eval_num_samples'), ('train', 'eval_mnist_dir'),
    ('train', 'classifier_dir'),
    # Absolute paths resolved from the values above; the raw values are compared.
    ('exp', 'exp_root'), ('exp', 'exp_dir'), ('data', 'training_data'),
}


def project_root():
    """The folder of config.py, against which relative paths are resolved."""
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _path(value):
    """A path setting as an absolute path: ~ expanded, relative to the project folder."""
    return os.path.join(project_root(), os.path.expanduser(str(value)))


def _choice(value, valid, key):
    if value not in valid:
        raise UserError(f"unknown {key} {value!r}; valid: {', '.join(valid)}")


def _positive(config, section, names, minimum=0, strict=True):
    for name in names:
        value = config[section][name]
        if isinstance(value, float) and not math.isfinite(value):
            raise UserError(f"{section}.{name} must be a finite number, not {value!r}")
        if isinstance(value, float) and abs(value) > FLOAT32_MAX:
            raise UserError(f"{section}.{name} must be at most {FLOAT32_MAX:.4g} (TensorFlow "
                            f"float32), not {value!r}")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (
                value <= minimum if strict else value < minimum):
            relation = 'greater than' if strict else 'at least'
            raise UserError(f"{section}.{name} must be a number {relation} {minimum}, "
                            f"not {value!r}")


def critic_couples_samples(model_config):
    """Whether batch normalization in the critic makes an image's score depend on the
    other images of its batch."""
    return model_config['bn_mode'] == 'batch' and any(
        len(layer) > 2 and layer[2] == 'bn' for layer in model_config['net_d'])


def resolve(config):
    """Fill the None values from SETUP and the protocol, derive the experiment name and
    check everything."""
    config = copy.deepcopy(config)
    _fill_from_setup(config)
    _check_choices(config)
    _check_numbers(config)
    _check_batch_parts(config)
    _name_and_paths(config)
    return config


def _fill_from_setup(config):
    setup = config['setup']
    for section, names in FROM_SETUP.items():
        for name in names:
            if config[section][name] is None:
                config[section][name] = setup[name]
    _choice(setup['protocol'], tuple(PROTOCOLS), 'protocol')
    for (section, name), value in PROTOCOLS[setup['protocol']].items():
        if config[section][name] is None:
            config[section][name] = value


def _check_choices(config):
    """The named choices and the networks."""
    data, model, train = config['data'], config['model'], config['train']
    _choice(model['gan_type'], tuple(OBJECTIVES), 'gan_type')
    _choice(model['optimizer'], OPTIMIZERS, 'optimizer')
    _choice(data['training_data_location'], LOCATIONS, 'training_data_location')
    _choice(model['bn_mode'], BN_MODES, 'model.bn_mode')
    _choice(train['jit_compile'], JIT_MODES, 'train.jit_compile')
    _choice(model['weight_init'], WEIGHT_INITS, 'model.weight_init')
    _choice(model['log_likelihood'], LOG_LIKELIHOODS, 'model.log_likelihood')
    for section, name in (('train', 'fast'), ('model', 'output_bn'),
                          ('model', 'normalize_rewards')):
        if not isinstance(config[section][name], bool):
            raise UserError(f"{section}.{name} must be true or false, not "
                            f"{config[section][name]!r}")
    if model['net_g'] is None:
        _choice(model['preset_g'], tuple(GENERATOR_PRESETS), 'preset_g')
        model['net_g'] = GENERATOR_PRESETS[model['preset_g']]['network']
    if model['output_neurons'] is None:
        if model['preset_g'] not in GENERATOR_PRESETS:
            raise UserError("model.output_neurons must be given with a custom model.net_g")
        model['output_neurons'] = GENERATOR_PRESETS[model['preset_g']]['output']
    _choice(model['output_neurons'], OUTPUT_NEURONS, 'model.output_neurons')
    _check_estimator(config)
    if model['net_d'] is None:
        _choice(model['preset_d'], tuple(DISCRIMINATOR_PRESETS), 'preset_d')
        model['net_d'] = DISCRIMINATOR_PRESETS[model['preset_d']]
    check_network(model['net_g'], 'model.net_g')
    check_network(model['net_d'], 'model.net_d')
    if not model['output_bn']:
        model['net_g'] = without_output_bn(model['net_g'])


def _check_estimator(config):
    """The estimator fits the output neurons and the objective; the temperature is the
    Gumbel estimators', the samples per latent BGAN's."""
    model = config['model']
    bgan = OBJECTIVES[model['gan_type']].boundary_seeking
    if model['gradient_estimator'] is None:
        model['gradient_estimator'] = 'reinforce' if bgan else 'sigmoid_adjusted'
    name = model['gradient_estimator']
    _choice(name, tuple(ESTIMATORS), 'model.gradient_estimator')
    if bgan and name != 'reinforce':
        raise UserError(f"gan_type=bgan trains its generator by the score function "
                        f"(model.gradient_estimator=reinforce or none), not {name}")
    if bgan and model['output_neurons'] != 'bernoulli':
        raise UserError("gan_type=bgan draws samples from stochastic binary neurons "
                        "(model.output_neurons='bernoulli', e.g. preset_g=mlp_bernoulli), "
                        f"not {model['output_neurons']!r}")
    _check_samples_per_latent(config, bgan)
    estimator, neurons = ESTIMATORS[name], model['output_neurons']
    if neurons == 'real' and not estimator.backward:
        raise UserError(f"model.gradient_estimator={name} trains binary neurons; the "
                        "real-valued outputs (model.output_neurons='real') need none")
    if neurons != 'real' and neurons not in estimator.neurons:
        raise UserError(f"model.gradient_estimator={name} trains stochastic binary neurons "
                        f"(model.output_neurons='bernoulli', e.g. preset_g=mlp_bernoulli), "
                        f"not {neurons!r}")
    for (section, key), default in TEMPERATURE.items():
        if not estimator.relaxation:
            if config[section][key] is not None:
                raise UserError(f"{section}.{key} is the Gumbel estimators' setting "
                                f"(gumbel_sigmoid, straight_through_gumbel), not {name}'s")
        elif config[section][key] is None:
            config[section][key] = default
    if estimator.relaxation:
        _positive(config, 'model', ('initial_temperature',))
        _positive(config, 'train', ('min_temperature',))
        _positive(config, 'train', ('temperature_decay',), strict=False)
        _positive(config, 'train', ('temperature_every_steps',), minimum=1, strict=False)
        if not isinstance(config['train']['temperature_every_steps'], int):
            raise UserError("train.temperature_every_steps must be an integer, not "
                            f"{config['train']['temperature_every_steps']!r}")


def _check_samples_per_latent(config, bgan):
    """M samples of each latent for the score-function ways (BGAN: at least 2, the
    weights being normalized among them); normalized rewards for REINFORCE only."""
    model = config['model']
    score_function = ESTIMATORS[model['gradient_estimator']].score_function
    samples = model['samples_per_latent']
    if samples is not None and not score_function:
        raise UserError(f"model.samples_per_latent is the score-function ways' setting "
                        f"(model.gradient_estimator=reinforce, gan_type=bgan), not "
                        f"{model['gradient_estimator']}'s")
    if model['normalize_rewards'] and (bgan or not score_function):
        raise UserError("model.normalize_rewards is REINFORCE's setting "
                        "(model.gradient_estimator=reinforce with gan_type gan, wgan or "
                        "wgan-gp)")
    if samples is None:
        model['samples_per_latent'] = samples = 20 if bgan else 1
    if isinstance(samples, bool) or not isinstance(samples, int):
        raise UserError(f"model.samples_per_latent must be an integer, not {samples!r}")
    minimum = 2 if bgan else 1
    if not minimum <= samples <= INT32_MAX:
        raise UserError(f"model.samples_per_latent must be at least {minimum}"
                        + (" with gan_type=bgan (its weights are normalized among the "
                           "samples of each latent)" if bgan else "") + f", not {samples}")


def _check_numbers(config):
    """Ranges, integers and shapes."""
    exp, model = config['exp'], config['model']
    if model['generator_learning_rate'] is None:
        model['generator_learning_rate'] = model['learning_rate']
    _positive(config, 'model', ('batch_size', 'z_dim', 'learning_rate',
                                'generator_learning_rate', 'clip_value', 'initial_slope',
                                'epsilon'))
    _positive(config, 'model', ('gp_coefficient', 'beta1', 'beta2', 'rmsprop_decay',
                                'rmsprop_momentum', 'rmsprop_initial_accumulator'),
              strict=False)
    _positive(config, 'train', ('slope_annealing_rate', 'sample_every_steps',
                                'sample_early_every_steps', 'checkpoints_to_keep'))
    for name in ('beta1', 'beta2', 'rmsprop_decay', 'rmsprop_momentum'):
        if not model[name] < 1:  # Adam divides by 1 - beta ** step; a momentum of 1 never decays
            raise UserError(f"model.{name} must be below 1, not {model[name]!r}")
    _positive(config, 'train', ('num_epoch',), minimum=1, strict=False)
    _positive(config, 'train', ('max_steps', 'warmup_steps',
                                'sample_early_until_step', 'checkpoint_every_steps'),
              strict=False)
    _positive(config, 'train', ('n_critic', 'n_critic_warmup', 'n_critic_warmup_every',
                                'eval_every'), minimum=1, strict=False)
    _positive(config, 'train', ('eval_num_samples',), minimum=2, strict=False)
    for section, name in (('model', 'batch_size'), ('model', 'z_dim'),
                          ('train', 'num_epoch'), ('train', 'max_steps'),
                          ('train', 'n_critic'), ('train', 'n_critic_warmup'),
                          ('train', 'checkpoint_every_steps'),
                          ('train', 'eval_every'), ('train', 'eval_num_samples'),
                          ('exp', 'seed')):
        if not isinstance(config[section][name], int) or isinstance(config[section][name], bool):
            raise UserError(f"{section}.{name} must be an integer, not {config[section][name]!r}")
    for section, name in (('model', 'batch_size'), ('model', 'z_dim'),
                          ('train', 'n_critic'), ('train', 'n_critic_warmup')):
        if config[section][name] > INT32_MAX:
            raise UserError(f"{section}.{name} must be at most {INT32_MAX}, "
                            f"not {config[section][name]}")
    if not 0 <= exp['seed'] <= SEED_MAX:
        raise UserError(f"seed must be an integer from 0 to {SEED_MAX}, not {exp['seed']}")
    for name in ('sample_grid', 'image_shape'):
        section = 'train' if name == 'sample_grid' else 'model'
        value, length = config[section][name], 2 if name == 'sample_grid' else 3
        if len(value) != length or not all(
                isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in value):
            raise UserError(f"{section}.{name} must be {length} whole numbers greater than 0, "
                            f"not {tuple(value)!r}")


def _check_batch_parts(config):
    model, train = config['model'], config['train']
    parts = train['batch_parts']
    if not isinstance(parts, int) or isinstance(parts, bool) or parts < 0 or (
            parts and model['batch_size'] % parts):
        raise UserError(f"train.batch_parts must be 0 (automatic) or a whole number that "
                        f"divides model.batch_size ({model['batch_size']}), not {parts!r}")
    if parts > 1 and critic_couples_samples(model):
        raise UserError(f"train.batch_parts={parts} needs a critic that scores each image "
                        "on its own; this one normalizes with batch statistics "
                        "(model.bn_mode='batch'): use 1 or 0")


def _name_and_paths(config):
    """The experiment's name and folder; the paths made absolute and checked."""
    setup, exp, data, model, train = (config[s] for s in ('setup', 'exp', 'data', 'model',
                                                           'train'))
    if exp['exp_name'] is None:
        exp['exp_name'] = '_'.join(str(part) for part in (
            setup['prefix'], model['gan_type'], 'g', model['preset_g'], 'd', model['preset_d'])
            if part)
    name = exp['exp_name'] = str(exp['exp_name'])
    if (not name.strip() or os.sep in name or name in ('.', '..') or not name.isprintable()
            or len(name.encode()) > 255):
        raise UserError(f"experiment name {name!r} must be a plain folder name")
    exp['exp_root'] = _path(exp['exp_root'])
    exp['exp_dir'] = os.path.join(exp['exp_root'], exp['exp_name'])
    for what, path in (('exp.exp_root', exp['exp_root']), ('experiment', exp['exp_dir'])):
        if os.path.exists(path) and not os.path.isdir(path):
            raise UserError(f"{what} {path} is a file, not a folder")
    if exp['pretrained_dir'] is not None:
        exp['pretrained_dir'] = _path(exp['pretrained_dir'])
    if data['training_data_location'] == 'hd':
        data['training_data'] = _path(data['training_data'])
    for name in ('eval_mnist_dir', 'classifier_dir'):
        train[name] = _path(train[name])
    if train['evaluate_along_training']:
        if not os.path.exists(train['eval_mnist_dir']):
            raise UserError(f"train.eval_mnist_dir {train['eval_mnist_dir']} does not exist: "
                            "evaluation needs the MNIST files with labels")
        for name in ('eval_mnist_dir', 'classifier_dir'):
            if os.path.exists(train[name]) and not os.path.isdir(train[name]):
                raise UserError(f"train.{name} {train[name]} is a file, not a folder")


def load(overrides=()):
    """The checked configuration: config.py, then ``overrides``."""
    return resolve(apply_overrides(default_config(), overrides))


def differences(saved, requested):
    """``section.key`` names whose values differ and matter for resuming (a key only
    the saved configuration has is no longer read, so it cannot matter)."""
    changed = []
    for section in requested:
        for key in requested[section]:
            if (section, key) in RESUMABLE_CHANGES:
                continue
            if saved.get(section, {}).get(key) != requested[section].get(key):
                changed.append(f"{section}.{key}")
    return sorted(changed)
