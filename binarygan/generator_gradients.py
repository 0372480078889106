"""How the generator's step gets its gradient through the output neurons, one function per
kind of way, chosen once from model.gradient_estimator (``for_estimator``). Each runs
inside the step's gradient tape on the model and a batch of noise and returns (the loss
to log, the loss whose gradient the generator descends). BGAN's way is not here: its
generator and discriminator take their steps together (BinaryGAN.joint_step)."""
import tensorflow as tf

from binarygan.estimators import ESTIMATORS, reinforce_surrogate


def through_the_outputs(gan, z):
    """The straight-through estimators, the Gumbel relaxations and the real-valued
    outputs: the critic's gradient reaches the logits through the (relaxed) outputs."""
    fake, _ = gan.generate(z, True, gan.rng)
    loss = gan.objective.generator_loss(gan.critic(fake))
    return loss, loss


def score_function(gan, z):
    """REINFORCE: model.samples_per_latent samples of each latent, scored by the critic;
    no gradient passes through the bits, the surrogate's does (estimators.py)."""
    logits = gan.samples_of_each(gan.generator_logits(z, True))
    fake, _ = gan.output_layer(logits, gan.rng)
    losses = gan.objective.generator_losses(gan.critic(fake))
    # Leave-one-out among each latent's samples, or with one each, among the batch's.
    groups = [gan.samples_per_latent, -1] if gan.samples_per_latent > 1 else [-1, 1]
    return tf.reduce_mean(losses), reinforce_surrogate(
        tf.reshape(losses, groups), tf.reshape(gan.log_likelihood(fake, logits), groups),
        gan.normalize_rewards)


def for_estimator(name):
    """The way of ESTIMATORS[``name``]."""
    return score_function if ESTIMATORS[name].score_function else through_the_outputs
