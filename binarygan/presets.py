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
