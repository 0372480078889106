"""The critic's layers with hand-written gradients (train.fast): the values of Keras's
Conv2D, LeakyReLU and MaxPooling2D, and of their first and second derivatives, with less
work in the gradient penalty's double backward pass on a CPU."""
import tensorflow as tf
from keras import layers


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
            x, y = tf.stop_gradient(x), tf.stop_gradient(y)

            @tf.custom_gradient
            def max_pool_grad(dy):
                dx = tf.raw_ops.MaxPoolGrad(
                    orig_input=x, orig_output=y, grad=dy,
                    ksize=self.window, strides=self.strides, padding=self.padding)
                def grad_of_grad(ddx):  # the gradient penalty's second derivative
                    if self.window == self.strides:
                        return _at_window_maxima(x, y, ddx, self.window[1], self.padding)
                    return tf.raw_ops.MaxPoolGradGrad(
                        orig_input=x, orig_output=y, grad=ddx,
                        ksize=self.window, strides=self.strides, padding=self.padding)
                return dx, grad_of_grad
            return y, max_pool_grad
        return max_pool(x)

    def compute_output_shape(self, input_shape):
        size = [None if n is None else (n - self.window[i + 1]) // self.strides[i + 1] + 1
                if self.padding == 'VALID' else -(-n // self.strides[i + 1])
                for i, n in enumerate(input_shape[1:3])]
        return (input_shape[0], *size, input_shape[3])


# XLA fuses this into one loop over the pooling input: on a CPU several times faster than
# TensorFlow's MaxPoolGradGrad, with the same values.
@tf.function(jit_compile=True)
def _at_window_maxima(x, y, values, size, padding):
    """``values`` at the maximum of ``x`` in each non-overlapping ``size`` x ``size``
    window (the first in row-major order where several tie, as TensorFlow's max-pooling
    gradients do); ``y`` is the pooled ``x``."""
    out_h, out_w = y.shape[1], y.shape[2]
    if padding == 'SAME':
        pad_h, pad_w = out_h * size - x.shape[1], out_w * size - x.shape[2]
        paddings = [[0, 0], [pad_h // 2, pad_h - pad_h // 2],
                    [pad_w // 2, pad_w - pad_w // 2], [0, 0]]
        x = tf.pad(x, paddings, constant_values=float('-inf'))
        values = tf.pad(values, paddings)
    else:
        x, values = x[:, :out_h * size, :out_w * size], values[:, :out_h * size, :out_w * size]
    windows = [-1, out_h, size, out_w, size, x.shape[3]]
    x, values = tf.reshape(x, windows), tf.reshape(values, windows)
    result = tf.zeros_like(y)
    for i in reversed(range(size)):
        for j in reversed(range(size)):
            result = tf.where(x[:, :, i, :, j] == y, values[:, :, i, :, j], result)
    return result


class Conv2D(layers.Conv2D):
    """Keras's Conv2D; when valid, stride-1 and biased (the critic's), with hand-written
    gradients that make the CNN's training iteration faster on a CPU (in paired runs of
    bench.py; timed alone, oneDNN's kernels can look as fast): with one input channel
    the input gradient as a matrix product and an overlap-add; and the bias gradient as
    a plain sum, so that oneDNN does not fuse it with a one-channel weight gradient into
    a kernel several times slower than the two apart."""

    def call(self, inputs):
        if (self.strides != (1, 1) or self.padding != 'valid' or self.dilation_rate != (1, 1)
                or not self.use_bias):
            return super().call(inputs)
        # Tensors, not the variables: custom gradients reach a variable through its read.
        outputs = _valid_conv(inputs, tf.convert_to_tensor(self.kernel),
                              tf.convert_to_tensor(self.bias))
        return self.activation(outputs)


@tf.custom_gradient
def _valid_conv(x, kernel, bias):
    def grad(dy):
        return (_input_gradient(dy, kernel), _weight_gradient(x, dy, kernel.shape),
                tf.reduce_sum(dy, [0, 1, 2]))
    return tf.nn.bias_add(tf.nn.conv2d(x, kernel, 1, 'VALID'), bias), grad


@tf.custom_gradient
def _input_gradient(dy, kernel):
    """Conv2DBackpropInput of a valid, stride-1 convolution, and its own derivatives
    (in the gradient penalty)."""
    def grad(ddx):
        return tf.nn.conv2d(ddx, kernel, 1, 'VALID'), _weight_gradient(ddx, dy, kernel.shape)
    k_h, k_w, channels = kernel.shape[:3]
    if channels == 1:
        return _overlap_add(dy, kernel), grad
    input_sizes = tf.stack([tf.shape(dy)[0], dy.shape[1] + k_h - 1, dy.shape[2] + k_w - 1,
                            channels])
    return tf.raw_ops.Conv2DBackpropInput(input_sizes=input_sizes, filter=kernel,
                                          out_backprop=dy, strides=[1, 1, 1, 1],
                                          padding='VALID'), grad


def _weight_gradient(x, dy, kernel_shape):
    """Conv2DBackpropFilter of a valid, stride-1 convolution."""
    return tf.raw_ops.Conv2DBackpropFilter(input=x, filter_sizes=kernel_shape,
                                           out_backprop=dy, strides=[1, 1, 1, 1],
                                           padding='VALID')


# One XLA loop: faster than the same as separate TensorFlow ops.
@tf.function(jit_compile=True)
def _overlap_add(dy, kernel):
    """Input gradient of a valid, stride-1 convolution: each output pixel's gradient
    times the kernel (one matrix product), added back onto the input pixels under its
    window."""
    k_h, k_w, channels = kernel.shape[:3]
    windows = tf.matmul(tf.reshape(dy, [-1, dy.shape[3]]),
                        tf.reshape(kernel, [-1, kernel.shape[3]]), transpose_b=True)
    windows = tf.reshape(windows, [-1, dy.shape[1], dy.shape[2], k_h, k_w, channels])
    return tf.add_n([tf.pad(windows[:, :, :, i, j], [[0, 0], [i, k_h - 1 - i],
                                                      [j, k_w - 1 - j], [0, 0]])
                     for i in range(k_h) for j in range(k_w)])


def pooling_after_activation(stacks):
    """Max pooling commutes with an increasing activation: moved after the pooling, the
    activation and its derivatives touch a quarter of the values (the same results).
    ``stacks``: the layers of each network entry, changed in place."""
    for stack, following in zip(stacks, stacks[1:]):
        if isinstance(following[0], MaxPooling2D) and isinstance(stack[-1],
                                                                 (LeakyReLU, layers.ReLU)):
            following.append(stack.pop())
