"""The BinaryGAN model: the networks, their optimizers, the critic step and the
generator step (iteration.py compiles them into one training iteration)."""
import keras
import tensorflow as tf

from binarygan.configure import critic_couples_samples
from binarygan.fast.critic import FastCritic
from binarygan.fast.parts import generator_logits_in_parts
from binarygan.fast.policy import batch_parts, uses_xla
from binarygan.networks import build_networks
from binarygan.estimators import ESTIMATORS
from binarygan.generator_gradients import for_estimator
from binarygan.iteration import training_iteration
from binarygan.neurons import output_neurons
from binarygan.objectives import OBJECTIVES, gradient_penalty
from binarygan.optimizers import make_optimizer


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
    the slope of the binary neurons and the random streams of training and sampling."""

    def __init__(self, model_config, train_config, seed):
        mc = model_config
        self.objective = OBJECTIVES[mc['gan_type']]
        self.output_neurons, self.estimator = mc['output_neurons'], mc['gradient_estimator']
        self.generator_gradient = for_estimator(self.estimator)
        self.relaxation = ESTIMATORS[self.estimator].relaxation
        self.batch_size, self.z_dim = mc['batch_size'], mc['z_dim']
        self.clip_value, self.gp_coefficient = mc['clip_value'], mc['gp_coefficient']
        # The score-function ways' samples per latent, reward scale and log g(x | z) over pixels.
        self.samples_per_latent, self.normalize_rewards = (mc['samples_per_latent'],
                                                           mc['normalize_rewards'])
        self.log_likelihood_reduction = mc['log_likelihood']
        # For the logs: G's last gradient norm, BGAN's effective sample size at its last step.
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
        self.generator, self.discriminator = build_networks(mc, fast)
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
        """log g(bits | z) of ``bits`` (samples_per_latent per latent, sample-major) under
        ``logits`` (one per latent): b x - softplus(x) over the pixels, x the slope times
        the logit, the softplus once per latent rather than per sample."""
        x = tf.cast(self.slope, logits.dtype) * tf.reshape(logits, [1, tf.shape(logits)[0], -1])
        bits = tf.reshape(bits, [self.samples_per_latent, tf.shape(logits)[0], -1])
        log_p = tf.reduce_sum(bits * x, -1) - tf.reduce_sum(tf.nn.softplus(x), -1)
        if self.log_likelihood_reduction == 'mean':
            log_p /= tf.cast(tf.shape(x)[-1], log_p.dtype)
        return tf.reshape(log_p, [-1])

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

    # -- one iteration -------------------------------------------------------
    def iteration_function(self, sampler, most_critic_steps):
        """iteration.training_iteration of this model on the batches of ``sampler``."""
        return training_iteration(self, sampler, most_critic_steps)

    def weights_are_finite(self):
        return all(bool(tf.reduce_all(tf.math.is_finite(variable)))
                   for variable in self.generator.weights + self.discriminator.weights)

    # -- sampling ------------------------------------------------------------
    def sample_grids(self, z):
        """Named sample grids for noise ``z`` (moving BN statistics); ``sample`` compiles it."""
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
