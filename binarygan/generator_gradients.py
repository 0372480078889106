"""How the generator's step gets its gradient through the output neurons, one function per
kind of way, chosen once from model.gradient_estimator (``for_estimator``). Each runs
inside the step's gradient tape on the model and a batch of noise and returns (the loss
to log, the loss whose gradient the generator descends). BGAN's discriminator and
generator take their steps together (``boundary_seeking``), in place of the last critic
step and the generator step."""
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
    logits = gan.generator_logits(z, True)
    fake, _ = gan.output_layer(gan.samples_of_each(logits), gan.rng)
    losses = gan.objective.generator_losses(gan.critic(fake))
    # Leave-one-out among each latent's samples, or with one each, among the batch's.
    groups = [gan.samples_per_latent, -1] if gan.samples_per_latent > 1 else [-1, 1]
    return tf.reduce_mean(losses), reinforce_surrogate(
        tf.reshape(losses, groups), tf.reshape(gan.log_likelihood(fake, logits), groups),
        gan.normalize_rewards)


def boundary_seeking(gan, real, z):
    """BGAN: its discriminator's and generator's steps from the same samples, as both of
    its references take them: the generator's logits once, then one pass of the
    discriminator over the real images and the M samples of each latent; the
    generator descends the samples' log-likelihoods weighed by their normalized
    importance weights. Returns (the discriminator's loss, the generator's)."""
    with tf.GradientTape(persistent=True) as tape:
        logits = gan.generator_logits(z, True)
        fake, _ = gan.output_layer(gan.samples_of_each(logits), gan.rng)
        real_scores, fake_scores = gan.critic.scores(real, fake)
        d_loss = gan.objective.critic_loss(real_scores, fake_scores)
        shape = [gan.samples_per_latent, gan.batch_size]
        g_loss, effective_sample_size = gan.objective.generator_loss(
            tf.reshape(fake_scores, shape),
            tf.reshape(gan.log_likelihood(fake, logits), shape))
    gan.apply_critic_gradients(tape.gradient(d_loss,
                                              gan.discriminator.trainable_variables))
    gan.apply_generator_gradients(tape.gradient(g_loss,
                                                 gan.generator.trainable_variables))
    gan.effective_sample_size.assign(effective_sample_size)
    return d_loss, g_loss


def for_estimator(name):
    """The way of ESTIMATORS[``name``]."""
    return score_function if ESTIMATORS[name].score_function else through_the_outputs
