"""The networks' optimizers: Adam, or RMSProp as Keras or TensorFlow 1 starts it."""
import keras
import tensorflow as tf


class RMSprop(keras.optimizers.RMSprop):
    """Keras's RMSprop (the update of TensorFlow 1's RMSPropOptimizer) with its running
    means of squared gradients starting at ``initial_accumulator``: 0 in Keras, 1 in
    TensorFlow 1, whose first steps are therefore smaller."""

    def __init__(self, *args, initial_accumulator=0., **kwargs):
        super().__init__(*args, **kwargs)
        self.initial_accumulator = initial_accumulator

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        for velocity in self._velocities:
            velocity.assign(tf.fill(velocity.shape, self.initial_accumulator))


def make_optimizer(model_config, learning_rate):
    if model_config['optimizer'] == 'adam':
        return keras.optimizers.Adam(
            learning_rate, beta_1=model_config['beta1'],
            beta_2=model_config['beta2'], epsilon=model_config['epsilon'])
    return RMSprop(
        learning_rate, rho=model_config['rmsprop_decay'],
        momentum=model_config['rmsprop_momentum'], epsilon=model_config['epsilon'],
        initial_accumulator=model_config['rmsprop_initial_accumulator'])
