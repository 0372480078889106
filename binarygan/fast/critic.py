"""The critic's scores and gradient penalty with the values of gan.Critic, faster.

- Without batch statistics coupling the images, real and fake ones share one pass (a
  larger, faster matrix product).
- With ``parts`` > 1 each part of a batch goes through it on its own (parts.py).
- A critic that begins with a dense layer (after a reshape) takes the gradient penalty
  from that layer's outputs for the real and fake images, which saves passing the
  interpolates through it (~4 % of an MLP iteration); not after a first convolution,
  whose outputs are larger than the images.
"""
import keras
import tensorflow as tf

from binarygan.fast.parts import by_parts


def gradient_penalty(critic, real, fake, epsilon, input_gradient=None, parts=1):
    """objectives.gradient_penalty, taken in ``parts`` parts; ``real`` and ``fake`` may
    instead be the outputs of the critic's affine first layer for the images,
    ``critic`` then being the layers after it: the first layer's outputs at the
    interpolates are the same interpolation of them, and ``input_gradient`` maps a
    gradient with respect to them to the one with respect to the images."""
    norms = []
    for interpolates in tf.split(epsilon * real + (1. - epsilon) * fake, parts):
        with tf.GradientTape() as tape:
            tape.watch(interpolates)
            scores = critic(interpolates)
        gradients = tape.gradient(scores, interpolates)
        if input_gradient is not None:
            gradients = input_gradient(gradients)
        norms.append(tf.sqrt(1e-8 + tf.reduce_sum(tf.square(gradients),
                                                  axis=list(range(1, gradients.shape.rank)))))
    return tf.reduce_mean(tf.square(tf.concat(norms, 0) - 1.))


class FastCritic:
    """gan.Critic's interface and values: ``network`` with batch statistics in training
    when ``batch_norm_in_training``; ``couples_samples``: whether they make an image's
    score depend on the others of its batch (configure.critic_couples_samples)."""

    def __init__(self, network, batch_norm_in_training, couples_samples, parts):
        self.network, self.training = network, batch_norm_in_training
        self.couples_samples, self.parts = couples_samples, parts
        layers = network.layers
        first = int(isinstance(layers[0], keras.layers.Reshape))  # first weighted layer
        self.first_dense = (layers[first] if isinstance(layers[first], keras.layers.Dense)
                            and not couples_samples else None)
        self.head, self.tail = layers[:first + 1], layers[first + 1:]

    def whole(self, images):
        return self.network(images, training=self.training)

    def __call__(self, images):
        return by_parts(self.parts, self.whole, images)

    def layers(self, layers, x):
        for layer in layers:
            x = layer(x, training=self.training)
        return x

    def scores(self, real, fake):
        """(scores of the real images, scores of the fake ones)."""
        if self.couples_samples:  # batch statistics of each batch on its own
            return self.whole(real), self.whole(fake)
        return by_parts(self.parts, lambda real, fake: tuple(tf.split(
            self.whole(tf.concat([real, fake], 0)), [tf.shape(real)[0], -1])),
            real, fake)

    def scores_and_penalty(self, real, fake, epsilon):
        """((real scores, fake scores), the gradient penalty at ``epsilon``)."""
        if self.first_dense is None:
            return (self.scores(real, fake),
                    gradient_penalty(self.whole, real, fake, epsilon, parts=self.parts))
        features = self.layers(self.head, tf.concat([real, fake], 0))
        scores = tuple(tf.split(self.layers(self.tail, features), 2))
        kernel = self.first_dense.kernel
        penalty = gradient_penalty(
            lambda x: self.layers(self.tail, x), *tf.split(features, 2),
            tf.reshape(epsilon, [-1, 1]),
            input_gradient=lambda gradients: tf.matmul(gradients, kernel, transpose_b=True),
            parts=self.parts)
        return scores, penalty
