"""Network architectures of the paper (Tables 1-4) as data.

A network is a list of layers; each layer is a tuple
``(type, arguments, normalization, activation)``:
    ('dense', units, norm, act)
    ('conv', (filters, kernel, strides), norm, act)       valid padding
    ('transconv', (filters, kernel, strides), norm, act)  valid padding
    ('maxpool', (pool, strides, padding))
    ('reshape', target_shape)
with norm in {None, 'bn'} and act in {None, 'relu', 'lrelu'}. A generator's
last layer gives the logits of its output neurons; a discriminator's gives
one logit (a critic value for the Wasserstein objectives).
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
}

LAYER_FORMS = {'dense': "('dense', units, norm, act)",
               'conv': "('conv', (filters, kernel, strides), norm, act)",
               'transconv': "('transconv', (filters, kernel, strides), norm, act)",
               'maxpool': "('maxpool', (pool, strides, 'valid' or 'same'))",
               'reshape': "('reshape', target_shape)"}


def _whole_numbers(values):
    return all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in values)


def _layer_fits_its_form(layer):
    kind, args = layer[0], layer[1] if len(layer) > 1 else None
    if kind in ('maxpool', 'reshape'):
        if len(layer) != 2 or not isinstance(args, (tuple, list)):
            return False
        if kind == 'reshape':
            return bool(args) and _whole_numbers(args)
        return len(args) == 3 and _whole_numbers(args[:2]) and args[2] in ('valid', 'same')
    if len(layer) != 4 or layer[2] not in (None, 'bn') or layer[3] not in (None, 'relu',
                                                                          'lrelu'):
        return False
    if kind == 'dense':
        return _whole_numbers([args])
    return isinstance(args, (tuple, list)) and len(args) == 3 and _whole_numbers(args)


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
            values = (" (norm None or 'bn', act None, 'relu' or 'lrelu')"
                      if layer[0] in ('dense', 'conv', 'transconv') else '')
            raise UserError(f"{key}: layer {layer!r} is not of the form "
                            f"{LAYER_FORMS[layer[0]]}{values}")
    if not any(layer[0] in ('dense', 'conv', 'transconv') for layer in network):
        raise UserError(f"{key} has no layer with weights (dense, conv or transconv): "
                        "nothing to train")
