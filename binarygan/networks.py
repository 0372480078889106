"""Keras models built from the layer lists of ``presets.py``."""
import math

import keras
from keras import layers

from binarygan import UserError
from binarygan.fast import layers as fast_layers

LEAKY_RELU_SLOPE = 0.2


def _initializers(weight_init, fan_in):
    """(kernel initializer, bias initializer) of presets.WEIGHT_INITS's ``weight_init``."""
    if weight_init == 'torch_default':
        bound = fan_in ** -0.5
        return (keras.initializers.RandomUniform(-bound, bound),
                keras.initializers.RandomUniform(-bound, bound))
    return keras.initializers.TruncatedNormal(stddev=0.02), 'zeros'


def _fan_in(spec, input_shape):
    """The inputs of one output unit of a weighted layer (PyTorch's fan_in: for a
    transposed convolution, the kernel's area times its output channels)."""
    kind, args = spec[0], spec[1]
    if kind == 'dense':  # on the last axis
        return input_shape[-1]
    filters, kernel = args[0], args[1]
    return kernel * kernel * (filters if kind == 'transconv' else input_shape[-1])


def _layer_stack(spec, input_shape, fast, weight_init):
    """The Keras layers of one ``(type, arguments, normalization, activation)`` entry
    whose input has ``input_shape``; ``fast``: the critic's layers of fast/layers.py
    instead of Keras's."""
    kind, args = spec[0], spec[1]
    if kind == 'reshape':
        return [layers.Reshape(tuple(args))]
    if kind == 'pad':
        return [layers.ZeroPadding2D(args)]
    if kind == 'crop':
        return [layers.Cropping2D(args)]
    if kind == 'maxpool':
        pool, strides, padding = args
        return [(fast_layers.MaxPooling2D if fast else layers.MaxPooling2D)(
            pool, strides, padding)]
    kernel_init, bias_init = _initializers(weight_init, _fan_in(spec, input_shape))
    if kind == 'dense':
        main = layers.Dense(args, kernel_initializer=kernel_init, bias_initializer=bias_init)
    elif kind in ('conv', 'transconv'):
        filters, kernel, strides, *padding = args
        cls = (layers.Conv2DTranspose if kind == 'transconv'
               else fast_layers.Conv2D if fast else layers.Conv2D)
        main = cls(filters, kernel, strides, padding=(padding or ['valid'])[0],
                   kernel_initializer=kernel_init, bias_initializer=bias_init)
    else:
        raise UserError(f"unknown layer type {kind!r} in network {spec!r}")
    norm, activation = spec[2], spec[3]
    if activation == 'relu':
        activations = [layers.ReLU()]
    elif activation == 'lrelu':
        activations = [(fast_layers.LeakyReLU if fast else layers.LeakyReLU)(
            negative_slope=LEAKY_RELU_SLOPE)]
    elif activation is None:
        activations = []
    else:
        raise UserError(f"unknown activation {activation!r} in layer {spec!r}; "
                        "valid: relu, lrelu, None")
    if norm == 'bn':
        return [main, layers.BatchNormalization(), *activations]
    if norm == 'bn_after_act':
        return [main, *activations, layers.BatchNormalization()]
    if norm is not None:
        raise UserError(f"unknown normalization {norm!r} in layer {spec!r}; "
                        "valid: bn, bn_after_act, None")
    return [main, *activations]


def build_network(spec, input_shape, name, fast=True, weight_init='truncated_normal'):
    """A ``keras.Sequential`` for the layer list ``spec``; ``fast``: with the speed
    paths' layers (train.fast), the same values; ``weight_init``: presets.WEIGHT_INITS."""
    stacks, shape = [], tuple(input_shape)
    for entry in spec:
        stack = _layer_stack(entry, shape, fast, weight_init)
        try:
            for layer in stack:
                shape = tuple(layer.compute_output_shape((None, *shape))[1:])
        except ValueError:
            raise UserError(f"the {name}'s layer {entry!r} does not fit its input of "
                            f"shape {shape}") from None
        stacks.append(stack)
    if fast:
        fast_layers.pooling_after_activation(stacks)
    model = keras.Sequential([keras.Input(shape=tuple(input_shape))], name=name)
    for stack in stacks:
        for layer in stack:
            model.add(layer)
    return model


def build_networks(model_config, fast):
    """(generator, discriminator) of model.net_g and model.net_d, UserError unless the
    generator makes images of model.image_shape and the discriminator one score each."""
    mc = model_config
    generator = build_network(mc['net_g'], (mc['z_dim'],), 'generator', fast,
                              mc['weight_init'])
    discriminator = build_network(mc['net_d'], mc['image_shape'], 'discriminator', fast,
                                  mc['weight_init'])
    if generator.output_shape[1:] != tuple(mc['image_shape']):
        raise UserError(f"the generator (model.net_g) gives shape "
                        f"{generator.output_shape[1:]}, not the images' "
                        f"{tuple(mc['image_shape'])}")
    if discriminator.output_shape[1:] != (1,):
        raise UserError(f"the discriminator (model.net_d) gives shape "
                        f"{discriminator.output_shape[1:]}, not one score per image: "
                        "end it with ('dense', 1, None, None) after a reshape to a vector")
    return generator, discriminator


def count_params(model):
    """Number of trainable parameters."""
    return int(sum(math.prod(v.shape) for v in model.trainable_weights))


def summary(model):
    """A plain-text table of the layers, output shapes and parameter counts."""
    lines = [f"{model.name}", f"{'layer':<28}{'type':<22}{'output shape':<22}{'params':>10}"]
    for layer in model.layers:
        shape = str(tuple(layer.output.shape)).replace('None', 'batch')
        lines.append(f"{layer.name:<28}{type(layer).__name__:<22}{shape:<22}"
                     f"{layer.count_params():>10,}")
    lines.append(f"trainable parameters: {count_params(model):,}")
    return '\n'.join(lines)
