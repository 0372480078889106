"""Network architectures of the paper (Tables 1-4) as data.

A network is a list of layers; each layer is a tuple
``(type, arguments, normalization, activation)``:
    ('dense', units, norm, act)
    ('conv', (filters, kernel, strides[, padding]), norm, act)
    ('transconv', (filters, kernel, strides[, padding]), norm, act)
    ('maxpool', (pool, strides, padding))
    ('reshape', target_shape)
    ('pad', pixels)     zeros added on every side of an image
    ('crop', pixels)    pixels cut from every side of an image
with padding 'valid' (the default) or 'same', norm in {None, 'bn', 'bn_after_act'}
(batch normalization before the activation, or after it) and act in {None, 'relu',
'lrelu'}. A generator's last layer gives the logits of its output neurons; a
discriminator's gives one logit (a critic value for the Wasserstein objectives).
"""
from binarygan import UserError

MLP_GENERATOR = [
    ('dense', 1024, 'bn', 'relu'),
    ('dense', 784, 'bn', None),
    ('reshape', (28, 28, 1)),
]

CNN_GENERATOR = [
    ('reshape', (1, 1, 128)),                      # z_dim 128 -> 1x1
    ('transconv', (128, 2, 1), 'bn', 'relu'),      # 2x2
    ('transconv', (64, 4, 2), 'bn', 'relu'),       # 6x6
    ('transconv', (32, 3, 2), 'bn', 'relu'),       # 13x13
    ('transconv', (1, 4, 2), 'bn', None),          # 28x28
]

# Seed 003's DCGAN-like networks (kklemon/bgan-pytorch, the BGAN reference
# ../shared/bench/bgan_reference.py times): 32x32 images, here MNIST's 28x28 zero-padded
# by the discriminator and the generator's 32x32 cropped back, so that the data and the
# scores are the project's. Batch normalization after the activation, seed 003's tip.
DCGAN_GENERATOR = [
    ('reshape', (1, 1, -1)),                                  # z -> 1x1
    ('transconv', (128, 4, 1), 'bn_after_act', 'lrelu'),     # 4x4
    ('transconv', (64, 4, 2, 'same'), 'bn_after_act', 'lrelu'),   # 8x8
    ('transconv', (32, 4, 2, 'same'), 'bn_after_act', 'lrelu'),   # 16x16
    ('transconv', (16, 4, 2, 'same'), 'bn_after_act', 'lrelu'),   # 32x32
    ('conv', (1, 1, 1), None, None),                          # logits, not normalized
    ('crop', 2),                                              # 28x28
]

# The output neurons of each generator preset: 'round' = deterministic binary
# neurons, 'bernoulli' = stochastic binary neurons, 'real' = sigmoid (the
# real-valued model, binarized only at test time).
GENERATOR_PRESETS = {
    'mlp_round': {'network': MLP_GENERATOR, 'output': 'round'},
    'mlp_bernoulli': {'network': MLP_GENERATOR, 'output': 'bernoulli'},
    'mlp_real': {'network': MLP_GENERATOR, 'output': 'real'},
    'cnn_round': {'network': CNN_GENERATOR, 'output': 'round'},
    'cnn_bernoulli': {'network': CNN_GENERATOR, 'output': 'bernoulli'},
    'cnn_real': {'network': CNN_GENERATOR, 'output': 'real'},
    'dcgan_round': {'network': DCGAN_GENERATOR, 'output': 'round'},
    'dcgan_bernoulli': {'network': DCGAN_GENERATOR, 'output': 'bernoulli'},
}
OUTPUT_NEURONS = ('round', 'bernoulli', 'real')

DISCRIMINATOR_PRESETS = {
    'mlp': [
        ('reshape', (784,)),
        ('dense', 512, None, 'lrelu'),
        ('dense', 256, None, 'lrelu'),
        ('dense', 1, None, None),
    ],
    'mlp_bn': [
        ('reshape', (784,)),
        ('dense', 512, 'bn', 'lrelu'),
        ('dense', 256, 'bn', 'lrelu'),
        ('dense', 1, None, None),
    ],
    'cnn': [
        ('conv', (32, 3, 1), None, 'lrelu'),       # 26x26
        ('maxpool', (2, 2, 'valid')),              # 13x13
        ('conv', (64, 3, 1), None, 'lrelu'),       # 11x11
        ('maxpool', (2, 2, 'same')),               # 6x6
        ('reshape', (64 * 6 * 6,)),
        ('dense', 128, None, 'lrelu'),
        ('dense', 1, None, None),
    ],
    'cnn_bn': [
        ('conv', (32, 3, 1), 'bn', 'lrelu'),
        ('maxpool', (2, 2, 'valid')),
        ('conv', (64, 3, 1), 'bn', 'lrelu'),
        ('maxpool', (2, 2, 'same')),
        ('reshape', (64 * 6 * 6,)),
        ('dense', 128, 'bn', 'lrelu'),
        ('dense', 1, None, None),
    ],
    'dcgan': [
        ('pad', 2),                                       # 32x32
        ('conv', (16, 4, 2, 'same'), None, 'lrelu'),      # 16x16
        ('conv', (32, 4, 2, 'same'), None, 'lrelu'),      # 8x8
        ('conv', (64, 4, 2, 'same'), None, 'lrelu'),      # 4x4
        ('conv', (128, 4, 2, 'same'), None, 'lrelu'),     # 2x2
        ('reshape', (128 * 2 * 2,)),
        ('dense', 1, None, None),
    ],
}

# model.weight_init: the paper's truncated normal (stddev 0.02) for the weights and zero
# biases; or PyTorch's default for its layers, which seed 003 trains with (its
# init_weights is applied to the whole model, not to its layers, so it changes nothing):
# weights and biases uniform in +-1/sqrt(fan_in).
WEIGHT_INITS = ('truncated_normal', 'torch_default')

LAYER_FORMS = {'dense': "('dense', units, norm, act)",
               'conv': "('conv', (filters, kernel, strides[, 'valid' or 'same']), norm, act)",
               'transconv': "('transconv', (filters, kernel, strides[, 'valid' or 'same']), "
                            "norm, act)",
               'maxpool': "('maxpool', (pool, strides, 'valid' or 'same'))",
               'reshape': "('reshape', target_shape)",
               'pad': "('pad', pixels)",
               'crop': "('crop', pixels)"}
NORMALIZATIONS = (None, 'bn', 'bn_after_act')
ACTIVATIONS = (None, 'relu', 'lrelu')


def _whole_numbers(values):
    return all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in values)


def _layer_fits_its_form(layer):
    kind, args = layer[0], layer[1] if len(layer) > 1 else None
    if kind in ('pad', 'crop'):
        return len(layer) == 2 and _whole_numbers([args])
    if kind in ('maxpool', 'reshape'):
        if len(layer) != 2 or not isinstance(args, (tuple, list)):
            return False
        if kind == 'reshape':  # -1: the size that takes the rest, as in numpy
            return bool(args) and _whole_numbers([n for n in args if n != -1]) \
                and list(args).count(-1) <= 1
        return len(args) == 3 and _whole_numbers(args[:2]) and args[2] in ('valid', 'same')
    if len(layer) != 4 or layer[2] not in NORMALIZATIONS or layer[3] not in ACTIVATIONS:
        return False
    if kind == 'dense':
        return _whole_numbers([args])
    return (isinstance(args, (tuple, list)) and len(args) in (3, 4) and _whole_numbers(args[:3])
            and args[3:] in ((), ('valid',), ('same',)))


def without_output_bn(network):
    """``network`` with no normalization on its last weighted layer (the generator's
    output logits)."""
    network = [tuple(layer) for layer in network]
    last = max(i for i, layer in enumerate(network)
               if layer[0] in ('dense', 'conv', 'transconv'))
    network[last] = (*network[last][:2], None, network[last][3])
    return network


def check_network(network, key):
    """Raise UserError unless ``network`` is a non-empty list of layers of the forms
    above (whether their shapes fit is found when the network is built)."""
    if not isinstance(network, (list, tuple)) or not network:
        raise UserError(f"{key} must be a non-empty list of layers as in "
                        f"binarygan/presets.py, not {network!r}")
    for layer in network:
        if not (isinstance(layer, (tuple, list)) and layer and layer[0] in LAYER_FORMS):
            raise UserError(f"{key}: {layer!r} is not a layer: a tuple starting with "
                            f"{', '.join(LAYER_FORMS)}")
        if not _layer_fits_its_form(layer):
            values = (" (norm None, 'bn' or 'bn_after_act', act None, 'relu' or 'lrelu')"
                      if layer[0] in ('dense', 'conv', 'transconv') else '')
            raise UserError(f"{key}: layer {layer!r} is not of the form "
                            f"{LAYER_FORMS[layer[0]]}{values}")
    if not any(layer[0] in ('dense', 'conv', 'transconv') for layer in network):
        raise UserError(f"{key} has no layer with weights (dense, conv or transconv): "
                        "nothing to train")
