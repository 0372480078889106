"""The GAN objectives by name (model.gan_type): what the critic and the generator
minimize, and how the critic is kept in check. TensorFlow is imported when a loss is
built, not here: configure reads the names before TensorFlow starts."""
import dataclasses
from typing import Callable, Optional


def gan_critic_loss(real_scores, fake_scores):
    """-log D(x) - log(1 - D(G(z))), D the sigmoid of the scores (Goodfellow et al. 2014)."""
    import tensorflow as tf
    xent = tf.nn.sigmoid_cross_entropy_with_logits
    return (tf.reduce_mean(xent(labels=tf.ones_like(real_scores), logits=real_scores))
            + tf.reduce_mean(xent(labels=tf.zeros_like(fake_scores), logits=fake_scores)))


def gan_generator_loss(fake_scores):
    """The non-saturating -log D(G(z))."""
    import tensorflow as tf
    return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(
        labels=tf.ones_like(fake_scores), logits=fake_scores))


def gan_generator_losses(fake_scores):
    """-log D(G(z)) of each sample."""
    import tensorflow as tf
    scores = tf.reshape(fake_scores, [-1])
    return tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.ones_like(scores), logits=scores)


def wasserstein_critic_loss(real_scores, fake_scores):
    """E[critic(G(z))] - E[critic(x)] (Arjovsky et al. 2017)."""
    import tensorflow as tf
    return tf.reduce_mean(fake_scores) - tf.reduce_mean(real_scores)


def wasserstein_generator_loss(fake_scores):
    """-E[critic(G(z))]."""
    import tensorflow as tf
    return -tf.reduce_mean(fake_scores)


def wasserstein_generator_losses(fake_scores):
    """-critic(G(z)) of each sample."""
    import tensorflow as tf
    return -tf.reshape(fake_scores, [-1])


def gradient_penalty(critic, real, fake, epsilon):
    """E[(||grad critic(x_hat)|| - 1)^2] at x_hat = epsilon * real + (1 - epsilon) * fake
    (Gulrajani et al. 2017)."""
    import tensorflow as tf
    interpolates = epsilon * real + (1. - epsilon) * fake
    with tf.GradientTape() as tape:
        tape.watch(interpolates)
        scores = critic(interpolates)
    gradients = tape.gradient(scores, interpolates)
    norms = tf.sqrt(1e-8 + tf.reduce_sum(tf.square(gradients),
                                         axis=list(range(1, gradients.shape.rank))))
    return tf.reduce_mean(tf.square(norms - 1.))


def boundary_seeking_generator_loss(fake_scores, log_probs):
    """The Boundary-Seeking GAN's generator loss for binary data (Hjelm et al. 2018, the
    authors' ``binary_BGAN``), for M samples x_m of each latent z: ``fake_scores`` the
    discriminator's logits log w(x_m) and ``log_probs`` log g(x_m | z), both (M, batch).
    The normalized importance weights w~ = softmax over m of log w, held constant, weigh
    the samples' log-likelihoods: -mean_z sum_m w~_m log g(x_m | z). Returns (the loss,
    the effective sample size 1 / sum_m w~_m^2 averaged over z)."""
    import tensorflow as tf
    weights = tf.stop_gradient(tf.nn.softmax(fake_scores, axis=0))
    loss = -tf.reduce_mean(tf.reduce_sum(weights * log_probs, axis=0))
    return loss, tf.reduce_mean(1. / tf.reduce_sum(tf.square(weights), axis=0))


@dataclasses.dataclass(frozen=True)
class Objective:
    critic_loss: Callable        # (real scores, fake scores) -> the critic's loss
    generator_loss: Callable     # fake scores -> the generator's loss; BGAN: (fake
    #                              scores, log-likelihoods) -> (loss, effective sample size)
    generator_losses: Optional[Callable]  # fake scores -> each sample's (REINFORCE
    #                                       weighs them)
    clips_weights: bool = False  # the critic's weights clipped to +-model.clip_value
    #                              after each of its steps
    penalizes_gradients: bool = False  # the critic's loss plus model.gp_coefficient
    #                                    times the gradient penalty
    boundary_seeking: bool = False  # BGAN: model.samples_per_latent samples of each
    #                                 latent, the critic trained on all of them, its
    #                                 last step taken with the generator's


OBJECTIVES = {
    'gan': Objective(gan_critic_loss, gan_generator_loss, gan_generator_losses),
    'wgan': Objective(wasserstein_critic_loss, wasserstein_generator_loss,
                      wasserstein_generator_losses, clips_weights=True),
    'wgan-gp': Objective(wasserstein_critic_loss, wasserstein_generator_loss,
                         wasserstein_generator_losses, penalizes_gradients=True),
    # The discriminator's loss is the GAN's, on the real images and all the samples.
    'bgan': Objective(gan_critic_loss, boundary_seeking_generator_loss, None,
                      boundary_seeking=True),
}
