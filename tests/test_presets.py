import keras
import numpy as np
import pytest

from binarygan.networks import build_network, count_params
from binarygan.presets import DISCRIMINATOR_PRESETS, GENERATOR_PRESETS

# Derived by hand from Tables 1-4 (weights + biases, BN scale + shift):
# MLP G: 128*1024+1024 + 2*1024 + 1024*784+784 + 2*784
# CNN G: 4*128*128+128 + 256 + 16*128*64+64 + 128 + 9*64*32+32 + 64 + 16*32+1 + 2
# MLP D: 784*512+512 + 512*256+256 + 256+1       (mlp_bn: + 2*512 + 2*256)
# CNN D: 9*32+32 + 9*32*64+64 + 2304*128+128 + 128+1  (cnn_bn: + 2*32 + 2*64 + 2*128)
# DCGAN G (seed 003's, z 128): 16*128*128+128 + 256 + 16*128*64+64 + 128 + 16*64*32+32 + 64
#                             + 16*32*16+16 + 32 + 16+1
# DCGAN D: 16*16+16 + 16*16*32+32 + 16*32*64+64 + 16*64*128+128 + 512+1
GENERATOR_PARAMS = {'mlp': 939_312, 'cnn': 216_227, 'dcgan': 434_913}
DISCRIMINATOR_PARAMS = {'mlp': 533_505, 'mlp_bn': 535_041, 'cnn': 313_985, 'cnn_bn': 314_433,
                        'dcgan': 173_041}


@pytest.mark.parametrize('preset', sorted(GENERATOR_PRESETS))
def test_generator_parameter_counts(preset):
    network = build_network(GENERATOR_PRESETS[preset]['network'], (128,), 'g')
    assert network.output_shape == (None, 28, 28, 1)
    assert count_params(network) == GENERATOR_PARAMS[preset.split('_')[0]]


@pytest.mark.parametrize('preset', sorted(DISCRIMINATOR_PRESETS))
def test_discriminator_parameter_counts(preset):
    network = build_network(DISCRIMINATOR_PRESETS[preset], (28, 28, 1), 'd')
    assert network.output_shape == (None, 1)
    assert count_params(network) == DISCRIMINATOR_PARAMS[preset]


@pytest.mark.parametrize('family, total', [('mlp', 1_472_817), ('cnn', 530_212)])
def test_model_totals_match_the_paper(family, total):
    # Tables give MLP ~1.47M and CNN ~0.53M (the paper's sentence swaps them).
    generator = build_network(GENERATOR_PRESETS[f'{family}_round']['network'], (128,), 'g')
    discriminator = build_network(DISCRIMINATOR_PRESETS[family], (28, 28, 1), 'd')
    counted = count_params(generator) + count_params(discriminator)
    assert counted == total
    assert round(counted / 1e6, 2) == {'mlp': 1.47, 'cnn': 0.53}[family]


def test_cnn_generator_upsamples_1_2_6_13_28():
    network = build_network(GENERATOR_PRESETS['cnn_round']['network'], (128,), 'g')
    sizes = [layer.output.shape[1] for layer in network.layers
             if type(layer).__name__ == 'Conv2DTranspose']
    assert sizes == [2, 6, 13, 28]


def test_dcgan_networks_work_at_32x32_on_28x28_images():
    """Seed 003's generator upsamples 1-4-8-16-32 and is cropped to 28x28; its
    discriminator pads the 28x28 images to 32x32 and downsamples 16-8-4-2."""
    generator = build_network(GENERATOR_PRESETS['dcgan_round']['network'], (64,), 'g')
    assert [layer.output.shape[1] for layer in generator.layers
            if type(layer).__name__ == 'Conv2DTranspose'] == [4, 8, 16, 32]
    # Batch normalization after each activation, none on the logits.
    names = [type(layer).__name__ for layer in generator.layers]
    assert names[1:4] == ['Conv2DTranspose', 'LeakyReLU', 'BatchNormalization']
    assert names[-2:] == ['Conv2D', 'Cropping2D']
    discriminator = build_network(DISCRIMINATOR_PRESETS['dcgan'], (28, 28, 1), 'd')
    assert [layer.output.shape[1] for layer in discriminator.layers
            if 'Conv2D' in type(layer).__name__] == [16, 8, 4, 2]


def test_torch_default_initialization_is_uniform_within_one_over_root_fan_in():
    keras.utils.set_random_seed(0)
    network = build_network([('reshape', (1, 1, -1)), ('transconv', (32, 4, 1), None, None),
                             ('reshape', (-1,)), ('dense', 500, None, None)], (64,), 'g',
                            weight_init='torch_default')
    transconv, dense = (layer for layer in network.layers if layer.weights)
    # PyTorch's fan_in of a transposed convolution: kernel area times output channels.
    for layer, fan_in in ((transconv, 16 * 32), (dense, 16 * 32)):
        for variable in layer.weights:
            values = variable.numpy().ravel()
            bound = fan_in ** -0.5
            assert np.abs(values).max() <= bound
            if values.size >= 1000:  # a uniform's spread, where there are enough values
                assert values.std() == pytest.approx(bound / np.sqrt(3), rel=0.05)
