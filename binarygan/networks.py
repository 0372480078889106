"""Keras models built from the layer lists of ``presets.py``."""
import math

import keras
import tensorflow as tf
from keras import layers

from binarygan import UserError

LEAKY_RELU_SLOPE = 0.2


# The critic's nonlinearities with TensorFlow's own gradients, written so that the
# gradient penalty's second derivative skips the forward pass: the stock gradients of
# LeakyReluGrad and MaxPoolGrad with respect to the forward activations are zeros,
# which TensorFlow would still push back through every layer below.
class LeakyReLU(layers.Layer):
    def __init__(self, negative_slope, **kwargs):
        super().__init__(**kwargs)
        self.negative_slope = negative_slope

    def call(self, x):
        @tf.custom_gradient
        def leaky_relu(x):
            y = tf.nn.leaky_relu(x, self.negative_slope)
            def grad(dy):
                # The output has the input's sign: reading it instead of the input lets
                # TensorFlow fuse the activation into the layer before.
                return tf.raw_ops.LeakyReluGrad(gradients=dy, features=tf.stop_gradient(y),
                                                alpha=self.negative_slope)
            return y, grad
        return leaky_relu(x)

    def compute_output_shape(self, input_shape):
        return input_shape


class MaxPooling2D(layers.Layer):
    def __init__(self, pool, strides, padding, **kwargs):
        super().__init__(**kwargs)
        self.window = [1, pool, pool, 1]
        self.strides = [1, strides, strides, 1]
        self.padding = padding.upper()

    def call(self, x):
        @tf.custom_gradient
        def max_pool(x):
            y = tf.nn.max_pool2d(x, self.window, self.strides, self.padding)
            def grad(dy):
                return tf.raw_ops.MaxPoolGrad(
                    orig_input=tf.stop_gradient(x), orig_output=tf.stop_gradient(y), grad=dy,
                    ksize=self.window, strides=self.strides, padding=self.padding)
            return y, grad
        return max_pool(x)

    def compute_output_shape(self, input_shape):
        size = [None if n is None else (n - self.window[i + 1]) // self.strides[i + 1] + 1
                if self.padding == 'VALID' else -(-n // self.strides[i + 1])
                for i, n in enumerate(input_shape[1:3])]
        return (input_shape[0], *size, input_shape[3])


def _kernel_initializer():
    return keras.initializers.TruncatedNormal(stddev=0.02)


def _layer_stack(spec):
    """The Keras layers of one ``(type, arguments, normalization, activation)`` entry."""
    kind, args = spec[0], spec[1]
    if kind == 'reshape':
        return [layers.Reshape(tuple(args))]
    if kind == 'maxpool':
        pool, strides, padding = args
        return [MaxPooling2D(pool, strides, padding)]
    if kind == 'dense':
        main = layers.Dense(args, kernel_initializer=_kernel_initializer())
    elif kind in ('conv', 'transconv'):
        filters, kernel, strides = args
        cls = layers.Conv2D if kind == 'conv' else layers.Conv2DTranspose
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
        stack.append(LeakyReLU(LEAKY_RELU_SLOPE))
    elif activation is not None:
        raise UserError(f"unknown activation {activation!r} in layer {spec!r}; "
                        "valid: relu, lrelu, None")
    return stack


def build_network(spec, input_shape, name):
    """A ``keras.Sequential`` for the layer list ``spec``."""
    model = keras.Sequential([keras.Input(shape=tuple(input_shape))], name=name)
    shape = tuple(input_shape)
    for entry in spec:
        for layer in _layer_stack(entry):
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
