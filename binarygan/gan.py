"""The BinaryGAN model: networks, objectives and one compiled training iteration."""
import os

import keras
import tensorflow as tf

from binarygan import UserError
from binarygan.configure import critic_couples_samples
from binarygan.networks import build_network
from binarygan.ops import deterministic_binary_neuron, stochastic_binary_neuron


def discriminator_loss(gan_type, real_logits, fake_logits):
    """The loss the discriminator minimizes (without the gradient penalty)."""
    if gan_type == 'gan':
        xent = tf.nn.sigmoid_cross_entropy_with_logits
        return (tf.reduce_mean(xent(labels=tf.ones_like(real_logits), logits=real_logits))
                + tf.reduce_mean(xent(labels=tf.zeros_like(fake_logits), logits=fake_logits)))
    return tf.reduce_mean(fake_logits) - tf.reduce_mean(real_logits)


def generator_loss(gan_type, fake_logits):
    """The generator's loss: non-saturating -log D(G(z)) or -critic(G(z))."""
    if gan_type == 'gan':
        return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(
            labels=tf.ones_like(fake_logits), logits=fake_logits))
    return -tf.reduce_mean(fake_logits)


def gradient_penalty(critic, real, fake, epsilon, input_gradient=None, parts=1):
    """E[(||grad critic(x_hat)|| - 1)^2] at x_hat = eps * real + (1 - eps) * fake.

    ``real`` and ``fake`` may instead be the outputs of the critic's affine first layer
    for the images, ``critic`` then being the layers after it: the first layer's outputs
    at the interpolates are the same interpolation of them, and ``input_gradient`` maps
    a gradient with respect to them to the one with respect to the images. With
    ``parts`` > 1 the gradients of that many parts of the batch are taken apart (the
    same values, computed side by side).
    """
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


def uses_xla(model_config, train_config):
    """Whether the training steps are compiled with XLA (train.jit_compile)."""
    mode = train_config['jit_compile']
    return mode == 'on' or (mode == 'auto' and not any(
        layer[0] in ('conv', 'transconv')
        for layer in model_config['net_g'] + model_config['net_d']))


def batch_parts(model_config, train_config):
    """In how many independent parts the training steps take a batch (train.batch_parts;
    0: two on a CPU of two or more cores, for an even batch, a critic that scores each
    image on its own and steps without XLA, which runs a compiled cluster's ops one at a
    time)."""
    parts = train_config['batch_parts']
    if parts == 0:
        parts = 2 if ((os.cpu_count() or 1) >= 2 and model_config['batch_size'] % 2 == 0
                      and not critic_couples_samples(model_config)
                      and not uses_xla(model_config, train_config)
                      and not tf.config.list_physical_devices('GPU')) else 1
    return parts


def set_cpu_threads(parts):
    """With ``parts`` > 1 on a CPU, one thread per operation (the cores shared among the
    parts, which run side by side) unless TF_NUM_INTRAOP_THREADS says otherwise. Only
    before TensorFlow starts: its thread pools are fixed then."""
    if parts > 1 and 'TF_NUM_INTRAOP_THREADS' not in os.environ \
            and not tf.config.list_physical_devices('GPU'):
        tf.config.threading.set_intra_op_parallelism_threads(
            max(1, (os.cpu_count() or 1) // parts))


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


def make_optimizer(model_config):
    if model_config['optimizer'] == 'adam':
        return keras.optimizers.Adam(
            model_config['learning_rate'], beta_1=model_config['beta1'],
            beta_2=model_config['beta2'], epsilon=model_config['epsilon'])
    return RMSprop(
        model_config['learning_rate'], rho=model_config['rmsprop_decay'],
        momentum=model_config['rmsprop_momentum'], epsilon=model_config['epsilon'],
        initial_accumulator=model_config['rmsprop_initial_accumulator'])


class BinaryGAN:
    """Generator with binary (or sigmoid) output neurons, discriminator, optimizers.

    ``train_iteration`` runs all critic steps and the generator step of one
    iteration as one compiled call; batches are gathered inside the graph from
    the training images kept in memory.
    """

    def __init__(self, model_config, train_config, images, seed):
        mc = model_config
        self.gan_type = mc['gan_type']
        self.output_neurons = mc['output_neurons']
        self.estimator = mc['gradient_estimator']
        self.batch_size, self.z_dim = mc['batch_size'], mc['z_dim']
        self.clip_value, self.gp_coefficient = mc['clip_value'], mc['gp_coefficient']
        self.batch_norm_in_training = mc['bn_mode'] == 'batch'
        # Without batch normalization the critic scores every image on its own, so real
        # and fake images can share one pass (a larger, faster matrix product), and the
        # parts of a batch can go through the networks side by side (configure refuses
        # more than one part for a critic that couples them).
        self.critic_couples_samples = critic_couples_samples(mc)
        self.parts = batch_parts(mc, train_config)
        self.fresh_batch_per_critic_step = train_config['fresh_batch_per_critic_step']

        keras.utils.set_random_seed(seed)  # weight initialization
        self.generator = build_network(mc['net_g'], (self.z_dim,), 'generator')
        self.discriminator = build_network(mc['net_d'], mc['image_shape'], 'discriminator')
        if self.generator.output_shape[1:] != tuple(mc['image_shape']):
            raise UserError(f"the generator (model.net_g) gives shape "
                            f"{self.generator.output_shape[1:]}, not the images' "
                            f"{tuple(mc['image_shape'])}")
        if self.discriminator.output_shape[1:] != (1,):
            raise UserError(f"the discriminator (model.net_d) gives shape "
                            f"{self.discriminator.output_shape[1:]}, not one score per image: "
                            "end it with ('dense', 1, None, None) after a reshape to a vector")
        # A critic that begins with a dense layer (after a reshape) takes the gradient
        # penalty from that layer's outputs for the real and fake images, which saves
        # passing the interpolates through it (~4 % of an MLP iteration). Not after a
        # first convolution: its outputs are larger than the images.
        d_layers = self.discriminator.layers
        first = int(isinstance(d_layers[0], keras.layers.Reshape))  # first weighted layer
        self.critic_first_dense = (d_layers[first]
                                   if isinstance(d_layers[first], keras.layers.Dense)
                                   and not self.critic_couples_samples else None)
        self.critic_head, self.critic_tail = d_layers[:first + 1], d_layers[first + 1:]
        self.g_optimizer, self.d_optimizer = make_optimizer(mc), make_optimizer(mc)
        self.g_optimizer.build(self.generator.trainable_variables)
        self.d_optimizer.build(self.discriminator.trainable_variables)

        self.slope = tf.Variable(float(mc['initial_slope']), trainable=False, name='slope')
        # Separate streams so that sampling never changes the training run.
        self.rng = tf.random.Generator.from_seed(seed)
        self.sample_rng = tf.random.Generator.from_seed(seed + 1)
        self.images = tf.Variable(tf.cast(images, tf.float32), trainable=False, name='images')
        self.num_images = int(images.shape[0])
        self.permutation = tf.Variable(tf.range(self.num_images), trainable=False)
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name='step')
        self.epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name='epoch')
        # The current epoch's loss sums, iterations and seconds, so that an epoch
        # resumed from a checkpoint reports the same means.
        self.epoch_totals = tf.Variable(tf.zeros(4, tf.float64), trainable=False,
                                        name='epoch_totals')
        # The training images are not saved: they are input, not state.
        self.checkpoint = tf.train.Checkpoint(
            generator=self.generator, discriminator=self.discriminator,
            g_optimizer=self.g_optimizer, d_optimizer=self.d_optimizer,
            slope=self.slope, rng=self.rng, sample_rng=self.sample_rng,
            permutation=self.permutation, step=self.step, epoch=self.epoch,
            epoch_totals=self.epoch_totals)

        jit = uses_xla(mc, train_config)
        self._critic_step = tf.function(self.critic_step, jit_compile=jit)
        self._generator_step = tf.function(self.generator_step, jit_compile=jit)
        self._generator_logits = tf.function(lambda z: self.generator_logits(z, True),
                                             jit_compile=jit)
        # The images stay outside XLA: it would pass all of them to every call.
        self._critic_and_generator_steps = tf.function(self.critic_and_generator_steps,
                                                       jit_compile=jit)
        self.train_iteration = tf.function(self._train_iteration)
        self.sample = tf.function(self._sample)

    # -- networks ----------------------------------------------------------
    def generator_logits(self, z, training):
        training = training and self.batch_norm_in_training
        if self.parts == 1 or not training:
            return self.generator(z, training=training)
        # Each part through the layers on its own, batch normalization over the batch.
        parts = tf.split(z, self.parts)
        for layer in self.generator.layers:
            if isinstance(layer, keras.layers.BatchNormalization):
                parts = tf.split(layer(tf.concat(parts, 0), training=True), self.parts)
            else:
                parts = [layer(part) for part in parts]
        return tf.concat(parts, 0)

    def output_layer(self, logits, rng):
        """(outputs, preactivated) of the output neurons for ``logits``."""
        if self.output_neurons == 'round':
            return deterministic_binary_neuron(logits, self.slope, self.estimator)
        if self.output_neurons == 'bernoulli':
            return stochastic_binary_neuron(logits, self.slope, self.estimator, rng)
        probabilities = tf.sigmoid(logits)
        return probabilities, probabilities

    def generate(self, z, training, rng):
        """(outputs, preactivated): the generator's binary (or real) outputs."""
        return self.output_layer(self.generator_logits(z, training), rng)

    def critic(self, images):
        return self.discriminator(images, training=self.batch_norm_in_training)

    def critic_layers(self, layers, x):
        for layer in layers:
            x = layer(x, training=self.batch_norm_in_training)
        return x

    def by_parts(self, function, *batches):
        """``function`` of the batches, applied to each of ``self.parts`` parts of them on
        its own (independent work that runs side by side), the outputs joined."""
        if self.parts == 1:
            return function(*batches)
        outputs = [function(*part)
                   for part in zip(*(tf.split(batch, self.parts) for batch in batches))]
        return tf.nest.map_structure(lambda *parts: tf.concat(parts, 0), *outputs)

    def critic_real_and_fake(self, real, fake):
        """(scores of the real images, scores of the fake ones)."""
        if self.critic_couples_samples:  # batch statistics of each batch on its own
            return self.critic(real), self.critic(fake)
        return self.by_parts(lambda real, fake: tuple(tf.split(
            self.critic(tf.concat([real, fake], 0)), 2)), real, fake)

    # -- one iteration -----------------------------------------------------
    def critic_step(self, real, fake_logits):
        fake, _ = self.output_layer(fake_logits, self.rng)
        with tf.GradientTape() as tape:
            if self.gan_type == 'wgan-gp':
                loss, penalty = self.wgan_gp_critic_loss(real, fake)
            else:
                loss = discriminator_loss(self.gan_type, *self.critic_real_and_fake(real, fake))
                penalty = tf.constant(0.)
        variables = self.discriminator.trainable_variables
        self.d_optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        if self.gan_type == 'wgan':
            for variable in variables:
                variable.assign(tf.clip_by_value(variable, -self.clip_value, self.clip_value))
        return loss, penalty

    def wgan_gp_critic_loss(self, real, fake):
        """(the critic's loss with the gradient penalty, the penalty)."""
        epsilon = self.rng.uniform([self.batch_size, 1, 1, 1])
        if self.critic_first_dense is None:
            scores = self.critic_real_and_fake(real, fake)
            penalty = gradient_penalty(self.critic, real, fake, epsilon, parts=self.parts)
        else:
            features = self.critic_layers(self.critic_head, tf.concat([real, fake], 0))
            scores = tf.split(self.critic_layers(self.critic_tail, features), 2)
            kernel = self.critic_first_dense.kernel
            penalty = gradient_penalty(
                lambda x: self.critic_layers(self.critic_tail, x),
                *tf.split(features, 2), tf.reshape(epsilon, [-1, 1]),
                input_gradient=lambda gradients: tf.matmul(gradients, kernel, transpose_b=True),
                parts=self.parts)
        loss = discriminator_loss(self.gan_type, *scores) + self.gp_coefficient * penalty
        return loss, penalty

    def generator_step(self, z):
        with tf.GradientTape() as tape:
            fake, _ = self.generate(z, True, self.rng)
            loss = generator_loss(self.gan_type, self.by_parts(self.critic, fake))
        variables = self.generator.trainable_variables
        self.g_optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss

    def _batch(self, indices):
        return tf.gather(self.images, indices)

    def _random_batch(self):
        """Images and generator logits for a critic step with a batch of its own."""
        indices = self.rng.uniform([self.batch_size], 0, self.num_images, dtype=tf.int32)
        z = self.rng.normal([self.batch_size, self.z_dim])
        return self._batch(indices), self._generator_logits(z)

    def _train_iteration(self, n_critic, batch_index):
        """``n_critic`` critic steps then one generator step on batch ``batch_index``
        of the epoch's permutation. Returns (critic losses, generator loss, last
        gradient penalty)."""
        start = batch_index * self.batch_size
        real = self._batch(self.permutation[start:start + self.batch_size])
        z = self.rng.normal([self.batch_size, self.z_dim])
        return self._critic_and_generator_steps(n_critic, real, z)

    def critic_and_generator_steps(self, n_critic, real, z):
        if not self.fresh_batch_per_critic_step:
            # The generator does not change during the critic steps: compute its
            # logits once (stochastic neurons still draw anew at every step).
            logits = self._generator_logits(z)
        d_losses = tf.TensorArray(tf.float32, size=n_critic)
        penalty = tf.constant(0.)
        for i in tf.range(n_critic):
            if self.fresh_batch_per_critic_step:
                d_loss, penalty = self._critic_step(*self._random_batch())
            else:
                d_loss, penalty = self._critic_step(real, logits)
            d_losses = d_losses.write(i, d_loss)
        g_loss = self._generator_step(z)
        return d_losses.stack(), g_loss, penalty

    def weights_are_finite(self):
        return all(bool(tf.reduce_all(tf.math.is_finite(variable)))
                   for variable in self.generator.weights + self.discriminator.weights)

    def shuffle(self):
        """A new permutation of the training images, for a new epoch."""
        self.permutation.assign(tf.argsort(self.rng.uniform([self.num_images])))

    # -- sampling ----------------------------------------------------------
    def _sample(self, z):
        """Named sample grids' contents for noise ``z`` (moving BN statistics)."""
        outputs, preactivated = self.generate(z, False, self.sample_rng)
        if self.output_neurons != 'real':
            return {'binary': outputs, 'preactivated': preactivated}
        return {'raw': outputs,
                'threshold': tf.cast(outputs > 0.5, tf.float32),
                'bernoulli': tf.cast(self.sample_rng.uniform(tf.shape(outputs)) < outputs,
                                     tf.float32)}
