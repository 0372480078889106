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
from binarygan.estimators import ESTIMATORS, bernoulli_log_prob
from binarygan.generator_gradients import for_estimator
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


def make_optimizer(model_config, learning_rate):
    if model_config['optimizer'] == 'adam':
        return keras.optimizers.Adam(
            learning_rate, beta_1=model_config['beta1'],
            beta_2=model_config['beta2'], epsilon=model_config['epsilon'])
    return RMSprop(
        learning_rate, rho=model_config['rmsprop_decay'],
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
        self.generator_gradient = for_estimator(self.estimator)
        self.relaxation = ESTIMATORS[self.estimator].relaxation
        self.batch_size, self.z_dim = mc['batch_size'], mc['z_dim']
        self.clip_value, self.gp_coefficient = mc['clip_value'], mc['gp_coefficient']
        # The score-function ways: samples of each latent, how log g(x | z) sums over the
        # pixels, REINFORCE's reward scale.
        self.samples_per_latent, self.normalize_rewards = (mc['samples_per_latent'],
                                                           mc['normalize_rewards'])
        self.log_likelihood_reduction = mc['log_likelihood']
        # For the logs: the norm of the generator's last gradient, and BGAN's effective
        # sample size at its last step.
        self.g_grad_norm = tf.Variable(0., trainable=False)
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
        self.generator = build_network(mc['net_g'], (self.z_dim,), 'generator', fast,
                                       mc['weight_init'])
        self.discriminator = build_network(mc['net_d'], mc['image_shape'], 'discriminator',
                                           fast, mc['weight_init'])
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
        self.g_optimizer = make_optimizer(mc, mc['generator_learning_rate'])
        self.d_optimizer = make_optimizer(mc, mc['learning_rate'])
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

    def log_likelihood(self, bits, logits):
        """log g(bits | z) of each sample of the output neurons' ``logits``."""
        return bernoulli_log_prob(bits, tf.cast(self.slope, logits.dtype) * logits,
                                  self.log_likelihood_reduction)

    # -- the steps of an iteration -------------------------------------------
    def samples_of_each(self, logits):
        """``logits`` repeated for model.samples_per_latent samples of each latent:
        sample-major, (samples_per_latent * batch, ...)."""
        if self.samples_per_latent == 1:
            return logits
        return tf.tile(logits, [self.samples_per_latent] + [1] * (logits.shape.rank - 1))

    def critic_step(self, real, fake_logits):
        """One step of the critic on ``real`` images and the fake ones of the generator's
        ``fake_logits`` (stochastic neurons draw anew; BGAN's discriminator sees all the
        samples of each latent); returns (loss, gradient penalty)."""
        if self.objective.boundary_seeking:
            fake_logits = self.samples_of_each(fake_logits)
        fake, _ = self.output_layer(fake_logits, self.rng)
        with tf.GradientTape() as tape:
            if self.objective.penalizes_gradients:
                epsilon = self.rng.uniform([self.batch_size, 1, 1, 1])
                scores, penalty = self.critic.scores_and_penalty(real, fake, epsilon)
                loss = self.objective.critic_loss(*scores) + self.gp_coefficient * penalty
            else:
                loss = self.objective.critic_loss(*self.critic.scores(real, fake))
                penalty = tf.constant(0.)
        self.apply_critic_gradients(tape.gradient(loss, self.discriminator.trainable_variables))
        return loss, penalty

    def apply_critic_gradients(self, gradients):
        variables = self.discriminator.trainable_variables
        self.d_optimizer.apply_gradients(zip(gradients, variables))
        if self.objective.clips_weights:
            for variable in variables:
                variable.assign(tf.clip_by_value(variable, -self.clip_value, self.clip_value))

    def apply_generator_gradients(self, gradients):
        self.g_grad_norm.assign(tf.linalg.global_norm(gradients))
        self.g_optimizer.apply_gradients(zip(gradients, self.generator.trainable_variables))

    def generator_step(self, z):
        """One step of the generator on noise ``z``; returns its loss."""
        with tf.GradientTape() as tape:
            loss, descended = self.generator_gradient(self, z)
        self.apply_generator_gradients(tape.gradient(descended,
                                                     self.generator.trainable_variables))
        return loss

    def joint_step(self, real, z):
        """BGAN's discriminator and generator steps from the same samples, as both of its
        references take them: the generator's logits once, then one pass of the
        discriminator over the real images and the M samples of each latent; the
        generator descends the samples' log-likelihoods weighed by their normalized
        importance weights. Returns (the discriminator's loss, the generator's)."""
        with tf.GradientTape(persistent=True) as tape:
            logits = self.samples_of_each(self.generator_logits(z, True))
            fake, _ = self.output_layer(logits, self.rng)
            real_scores, fake_scores = self.critic.scores(real, fake)
            d_loss = self.objective.critic_loss(real_scores, fake_scores)
            shape = [self.samples_per_latent, self.batch_size]
            g_loss, effective_sample_size = self.objective.generator_loss(
                tf.reshape(fake_scores, shape),
                tf.reshape(self.log_likelihood(fake, logits), shape))
        self.apply_critic_gradients(tape.gradient(d_loss,
                                                  self.discriminator.trainable_variables))
        self.apply_generator_gradients(tape.gradient(g_loss,
                                                     self.generator.trainable_variables))
        self.effective_sample_size.assign(effective_sample_size)
        return d_loss, g_loss

    # -- one iteration -------------------------------------------------------
    def iteration_function(self, sampler):
        """The compiled training iteration on the batches of ``sampler``
        (data.BatchSampler): ``(n_critic, batch_index)`` -> (the critic steps' losses,
        the generator's loss, the last gradient penalty): ``n_critic`` critic steps, then
        one generator step, on batch ``batch_index`` of the epoch's permutation; BGAN's
        last critic step and the generator step are its joint step."""
        critic_step = tf.function(self.critic_step, jit_compile=self.jit)
        generator_step = tf.function(self.generator_step, jit_compile=self.jit)
        joint_step = tf.function(self.joint_step, jit_compile=self.jit)
        joint = self.objective.boundary_seeking
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
            for i in tf.range(n_critic - 1 if joint else n_critic):
                if self.fresh_batch_per_critic_step:
                    d_loss, penalty = critic_step(*random_batch())
                else:
                    d_loss, penalty = critic_step(real, logits)
                d_losses = d_losses.write(i, d_loss)
            if joint:
                d_loss, g_loss = joint_step(real, z)
                d_losses = d_losses.write(n_critic - 1, d_loss)
            else:
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
