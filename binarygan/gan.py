"""The BinaryGAN model: the networks, their optimizers, the critic step and the
generator step, and the compiled training iteration."""
import keras
import tensorflow as tf

from binarygan import UserError
from binarygan.configure import critic_couples_samples
from binarygan.fast.critic import FastCritic
from binarygan.fast.parts import generator_logits_in_parts
from binarygan.fast.policy import batch_parts, uses_xla
from binarygan.networks import build_network
from binarygan.estimators import ESTIMATORS, bernoulli_log_prob, reinforce_surrogate
from binarygan.neurons import output_neurons
from binarygan.objectives import OBJECTIVES, gradient_penalty


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


class Critic:
    """The critic network's scores, with batch statistics in training when
    ``batch_norm_in_training``: the plain path (fast/critic.py has the fast one)."""

    def __init__(self, network, batch_norm_in_training):
        self.network, self.training = network, batch_norm_in_training

    def __call__(self, images):
        return self.network(images, training=self.training)

    def scores(self, real, fake):
        """(scores of the real images, scores of the fake ones)."""
        return self(real), self(fake)

    def scores_and_penalty(self, real, fake, epsilon):
        """((real scores, fake scores), the gradient penalty at ``epsilon``)."""
        return self.scores(real, fake), gradient_penalty(self, real, fake, epsilon)


class BinaryGAN:
    """A generator with binary (or sigmoid) output neurons, a critic, their optimizers,
    the slope of the binary neurons and the random streams of training and sampling.

    ``iteration_function`` compiles one training iteration: all critic steps and the
    generator step as one call.
    """

    def __init__(self, model_config, train_config, seed):
        mc = model_config
        self.objective = OBJECTIVES[mc['gan_type']]
        self.output_neurons, self.estimator = mc['output_neurons'], mc['gradient_estimator']
        self.score_function = ESTIMATORS[self.estimator].score_function
        self.relaxation = ESTIMATORS[self.estimator].relaxation
        self.batch_size, self.z_dim = mc['batch_size'], mc['z_dim']
        self.clip_value, self.gp_coefficient = mc['clip_value'], mc['gp_coefficient']
        # BGAN: the samples drawn from each latent, and their effective sample size at the
        # last generator step (for the logs).
        self.bgan_samples = mc['bgan_samples'] if self.objective.boundary_seeking else 1
        self.effective_sample_size = (tf.Variable(0., trainable=False)
                                      if self.objective.boundary_seeking else None)
        # model.bn_mode 'affine': batch normalization in inference mode throughout, a
        # learned scale and shift (what the original code computed).
        self.batch_norm_in_training = mc['bn_mode'] == 'batch'
        self.fresh_batch_per_critic_step = train_config['fresh_batch_per_critic_step']
        fast = train_config['fast']
        self.parts = batch_parts(mc, train_config)
        self.jit = uses_xla(mc, train_config)

        keras.utils.set_random_seed(seed)  # weight initialization
        self.generator = build_network(mc['net_g'], (self.z_dim,), 'generator', fast)
        self.discriminator = build_network(mc['net_d'], mc['image_shape'], 'discriminator',
                                           fast)
        if self.generator.output_shape[1:] != tuple(mc['image_shape']):
            raise UserError(f"the generator (model.net_g) gives shape "
                            f"{self.generator.output_shape[1:]}, not the images' "
                            f"{tuple(mc['image_shape'])}")
        if self.discriminator.output_shape[1:] != (1,):
            raise UserError(f"the discriminator (model.net_d) gives shape "
                            f"{self.discriminator.output_shape[1:]}, not one score per image: "
                            "end it with ('dense', 1, None, None) after a reshape to a vector")
        self.critic = (FastCritic(self.discriminator, self.batch_norm_in_training,
                                  critic_couples_samples(mc), self.parts) if fast
                       else Critic(self.discriminator, self.batch_norm_in_training))
        self.g_optimizer, self.d_optimizer = make_optimizer(mc), make_optimizer(mc)
        self.g_optimizer.build(self.generator.trainable_variables)
        self.d_optimizer.build(self.discriminator.trainable_variables)

        self.slope = tf.Variable(float(mc['initial_slope']), trainable=False, name='slope')
        # The Gumbel estimators' temperature (the training loop anneals it), else None.
        self.temperature = (tf.Variable(float(mc['initial_temperature']), trainable=False,
                                        name='temperature') if self.relaxation else None)
        # Separate streams so that sampling never changes the training run.
        self.rng = tf.random.Generator.from_seed(seed)
        self.sample_rng = tf.random.Generator.from_seed(seed + 1)
        self.sample = tf.function(self.sample_grids)

    def state(self):
        """The model's part of a training checkpoint, by checkpoint name."""
        state = {'generator': self.generator, 'discriminator': self.discriminator,
                 'g_optimizer': self.g_optimizer, 'd_optimizer': self.d_optimizer,
                 'slope': self.slope, 'rng': self.rng, 'sample_rng': self.sample_rng}
        if self.temperature is not None:
            state['temperature'] = self.temperature
        return state

    # -- the generator ------------------------------------------------------
    def generator_logits(self, z, training):
        training = training and self.batch_norm_in_training
        if self.parts > 1 and training:
            return generator_logits_in_parts(self.generator, z, self.parts)
        return self.generator(z, training=training)

    def output_layer(self, logits, rng):
        """(outputs, preactivated) of the output neurons for ``logits``."""
        return output_neurons(self.output_neurons, logits, self.slope, self.estimator, rng,
                              self.temperature)

    def generate(self, z, training, rng):
        """(outputs, preactivated): the generator's binary (or real) outputs."""
        return self.output_layer(self.generator_logits(z, training), rng)

    # -- the two steps of an iteration --------------------------------------
    def samples_of_each(self, logits):
        """``logits`` repeated for the BGAN's samples of each latent: sample-major,
        (bgan_samples * batch, ...); unchanged for the other objectives."""
        if self.bgan_samples == 1:
            return logits
        return tf.tile(logits, [self.bgan_samples] + [1] * (logits.shape.rank - 1))

    def critic_step(self, real, fake_logits):
        """One step of the critic on ``real`` images and the fake ones of the generator's
        ``fake_logits`` (stochastic neurons draw anew); returns (loss, gradient penalty)."""
        fake, _ = self.output_layer(self.samples_of_each(fake_logits), self.rng)
        with tf.GradientTape() as tape:
            if self.objective.penalizes_gradients:
                epsilon = self.rng.uniform([self.batch_size, 1, 1, 1])
                scores, penalty = self.critic.scores_and_penalty(real, fake, epsilon)
                loss = self.objective.critic_loss(*scores) + self.gp_coefficient * penalty
            else:
                loss = self.objective.critic_loss(*self.critic.scores(real, fake))
                penalty = tf.constant(0.)
        variables = self.discriminator.trainable_variables
        self.d_optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        if self.objective.clips_weights:
            for variable in variables:
                variable.assign(tf.clip_by_value(variable, -self.clip_value, self.clip_value))
        return loss, penalty

    def generator_step(self, z):
        """One step of the generator on noise ``z``; returns its loss."""
        with tf.GradientTape() as tape:
            if self.objective.boundary_seeking:  # BGAN: the samples' weighted likelihood
                logits = self.samples_of_each(self.generator_logits(z, True))
                fake, _ = self.output_layer(logits, self.rng)
                shape = [self.bgan_samples, self.batch_size]
                log_probs = bernoulli_log_prob(fake, tf.cast(self.slope, logits.dtype) * logits)
                loss, effective_sample_size = self.objective.generator_loss(
                    tf.reshape(self.critic(fake), shape), tf.reshape(log_probs, shape))
                self.effective_sample_size.assign(effective_sample_size)
                descended = loss
            elif self.score_function:  # REINFORCE: no gradient through the bits
                logits = self.generator_logits(z, True)
                fake, _ = self.output_layer(logits, self.rng)
                losses = self.objective.generator_losses(self.critic(fake))
                loss = tf.reduce_mean(losses)
                descended = reinforce_surrogate(
                    losses, bernoulli_log_prob(fake, tf.cast(self.slope, logits.dtype) * logits))
            else:
                fake, _ = self.generate(z, True, self.rng)
                loss = descended = self.objective.generator_loss(self.critic(fake))
        variables = self.generator.trainable_variables
        self.g_optimizer.apply_gradients(zip(tape.gradient(descended, variables), variables))
        return loss

    # -- one iteration -------------------------------------------------------
    def iteration_function(self, sampler):
        """The compiled training iteration on the batches of ``sampler``
        (data.BatchSampler): ``(n_critic, batch_index)`` -> (the critic steps' losses,
        the generator's loss, the last gradient penalty): ``n_critic`` critic steps, then
        one generator step, on batch ``batch_index`` of the epoch's permutation."""
        critic_step = tf.function(self.critic_step, jit_compile=self.jit)
        generator_step = tf.function(self.generator_step, jit_compile=self.jit)
        generator_logits = tf.function(lambda z: self.generator_logits(z, True),
                                       jit_compile=self.jit)

        def random_batch():
            """Images and generator logits for a critic step with a batch of its own."""
            real = sampler.random_batch()
            return real, generator_logits(self.rng.normal([self.batch_size, self.z_dim]))

        def steps(n_critic, real, z):
            if not self.fresh_batch_per_critic_step:
                # The generator does not change during the critic steps: its logits
                # once (stochastic neurons still draw anew at every step).
                logits = generator_logits(z)
            d_losses = tf.TensorArray(tf.float32, size=n_critic)
            penalty = tf.constant(0.)
            for i in tf.range(n_critic):
                if self.fresh_batch_per_critic_step:
                    d_loss, penalty = critic_step(*random_batch())
                else:
                    d_loss, penalty = critic_step(real, logits)
                d_losses = d_losses.write(i, d_loss)
            g_loss = generator_step(z)
            return d_losses.stack(), g_loss, penalty
        # The images stay outside XLA: it would pass all of them to every call.
        steps = tf.function(steps, jit_compile=self.jit)

        @tf.function
        def iteration(n_critic, batch_index):
            real = sampler.batch(batch_index)
            return steps(n_critic, real, self.rng.normal([self.batch_size, self.z_dim]))
        return iteration

    def weights_are_finite(self):
        return all(bool(tf.reduce_all(tf.math.is_finite(variable)))
                   for variable in self.generator.weights + self.discriminator.weights)

    # -- sampling ------------------------------------------------------------
    def sample_grids(self, z):
        """Named sample grids' contents for noise ``z`` (moving BN statistics); ``sample``
        is its compiled form."""
        if self.output_neurons != 'real' and self.relaxation != 'soft':
            outputs, preactivated = self.generate(z, False, self.sample_rng)
            return {'binary': outputs, 'preactivated': preactivated}
        # Real-valued in training (the sigmoid, or Gumbel-sigmoid's relaxed samples):
        # binarized when sampled, by threshold and by Bernoulli.
        probabilities = tf.sigmoid(self.generator_logits(z, False))
        return {'raw': probabilities,
                'threshold': tf.cast(probabilities > 0.5, tf.float32),
                'bernoulli': tf.cast(self.sample_rng.uniform(tf.shape(probabilities))
                                     < probabilities, tf.float32)}
