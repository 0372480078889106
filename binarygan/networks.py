"""Keras models built from the layer lists of ``presets.py``."""
import math

import keras
from keras import layers

from binarygan import UserError
from binarygan.fast import layers as fast_layers

LEAKY_RELU_SLOPE = 0.2


def _kernel_initializer():
    return keras.initializers.TruncatedNormal(stddev=0.02)


def _layer_stack(spec, fast):
    """The Keras layers of one ``(type, arguments, normalization, activation)`` entry;
    ``fast``: the critic's layers of fast/layers.py instead of Keras's."""
    kind, args = spec[0], spec[1]
    if kind == 'reshape':
        return [layers.Reshape(tuple(args))]
    if kind == 'maxpool':
        pool, strides, padding = args
        return [(fast_layers.MaxPooling2D if fast else layers.MaxPooling2D)(
            pool, strides, padding)]
    if kind == 'dense':
        main = layers.Dense(args, kernel_initializer=_kernel_initializer())
    elif kind in ('conv', 'transconv'):
        filters, kernel, strides = args
        cls = (layers.Conv2DTranspose if kind == 'transconv'
               else fast_layers.Conv2D if fast else layers.Conv2D)
        main = cls(filters, kernel, strides, padding='valid',
                   kernel_initializer=_kernel_initializer())
    else:
        raise UserError(f"unknown layer type {kind!r} in network {spec!r}")
    stack = [main]
    norm, activation = spec[2], spec[3]
    if norm == 'bn':
        stack.append(layers.BatchNormalization())
    elif norm is not None:
        raise UserError(f"unknown normalization {norm!r} in layer {spec!r}; valid: bn, None")
    if activation == 'relu':
        stack.append(layers.ReLU())
    elif activation == 'lrelu':
        stack.append((fast_layers.LeakyReLU if fast else layers.LeakyReLU)(
            negative_slope=LEAKY_RELU_SLOPE))
    elif activation is not None:
        raise UserError(f"unknown activation {activation!r} in layer {spec!r}; "
                        "valid: relu, lrelu, None")
    return stack


def build_network(spec, input_shape, name, fast=True):
    """A ``keras.Sequential`` for the layer list ``spec``; ``fast``: with the speed
    paths' layers (train.fast), the same values."""
    model = keras.Sequential([keras.Input(shape=tuple(input_shape))], name=name)
    shape = tuple(input_shape)
    stacks = [_layer_stack(entry, fast) for entry in spec]
    if fast:
        fast_layers.pooling_after_activation(stacks)
    for entry, stack in zip(spec, stacks):
        for layer in stack:
            try:
                model.add(layer)
            except ValueError:
                raise UserError(f"the {name}'s layer {entry!r} does not fit its input of "
                                f"shape {shape}") from None
            shape = model.output_shape[1:]
    return model


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
