"""A batch through the networks in independent parts (train.batch_parts): work that runs
side by side on a CPU's cores, with the values of the whole batch."""
import keras
import tensorflow as tf


def by_parts(parts, function, *batches):
    """``function`` of the batches, applied to each of ``parts`` parts of them on its
    own, the outputs joined."""
    if parts == 1:
        return function(*batches)
    outputs = [function(*part) for part in zip(*(tf.split(batch, parts) for batch in batches))]
    return tf.nest.map_structure(lambda *pieces: tf.concat(pieces, 0), *outputs)


def generator_logits_in_parts(generator, z, parts):
    """The generator's logits in training, each part through the layers on its own and
    batch normalization over the whole batch."""
    pieces = tf.split(z, parts)
    for layer in generator.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            pieces = tf.split(layer(tf.concat(pieces, 0), training=True), parts)
        else:
            pieces = [layer(piece) for piece in pieces]
    return tf.concat(pieces, 0)
