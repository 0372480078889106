"""The compiled training iteration: all critic steps and the generator step of one
generator update as one call."""
import tensorflow as tf

from binarygan.generator_gradients import boundary_seeking


def training_iteration(gan, sampler, most_critic_steps):
    """The compiled training iteration of the BinaryGAN ``gan`` on the batches of
    ``sampler`` (data.BatchSampler): ``(n_critic, batch_index)`` -> (the critic steps'
    losses, zeros after the first ``n_critic`` of ``most_critic_steps``, the generator's
    loss, the last gradient penalty): ``n_critic`` critic steps, then one generator step,
    on batch ``batch_index`` of the epoch's permutation; BGAN's last critic step and the
    generator step are its joint step."""
    critic_step = tf.function(gan.critic_step, jit_compile=gan.jit)
    generator_step = tf.function(gan.generator_step, jit_compile=gan.jit)
    joint = gan.objective.boundary_seeking
    joint_step = tf.function(lambda real, z: boundary_seeking(gan, real, z),
                             jit_compile=gan.jit)
    generator_logits = tf.function(lambda z: gan.generator_logits(z, True),
                                   jit_compile=gan.jit)

    def random_batch():
        """Images and generator logits for a critic step with a batch of its own."""
        real = sampler.random_batch()
        return real, generator_logits(gan.rng.normal([gan.batch_size, gan.z_dim]))

    def steps(n_critic, real, z):
        if not gan.fresh_batch_per_critic_step:
            # The generator does not change during the critic steps: its logits
            # once (stochastic neurons still draw anew at every step); none before
            # BGAN's joint step alone.
            logits = (tf.cond(n_critic > 1, lambda: generator_logits(z),
                              lambda: tf.zeros([gan.batch_size, *gan.generator.output_shape[1:]]))
                      if joint else generator_logits(z))
        # XLA compiles anew for every size of an array and every bound of a tf.range:
        # the losses' array sized by the most critic steps and a while loop instead,
        # so that it compiles once, not once for each number of critic steps.
        d_losses = tf.TensorArray(tf.float32, size=most_critic_steps)
        penalty, i = tf.constant(0.), tf.constant(0)
        while i < (n_critic - 1 if joint else n_critic):
            if gan.fresh_batch_per_critic_step:
                d_loss, penalty = critic_step(*random_batch())
            else:
                d_loss, penalty = critic_step(real, logits)
            d_losses = d_losses.write(i, d_loss)
            i += 1
        if joint:
            d_loss, g_loss = joint_step(real, z)
            d_losses = d_losses.write(n_critic - 1, d_loss)
        else:
            g_loss = generator_step(z)
        return d_losses.stack(), g_loss, penalty
    # The images stay outside XLA: it would pass all of them to every call.
    steps = tf.function(steps, jit_compile=gan.jit)

    @tf.function
    def iteration(n_critic, batch_index):
        real = sampler.batch(batch_index)
        return steps(n_critic, real, gan.rng.normal([gan.batch_size, gan.z_dim]))
    return iteration

