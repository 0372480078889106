"""How the training steps run on this machine: XLA, batch parts and CPU threads."""
import os

import tensorflow as tf

from binarygan.configure import critic_couples_samples
from binarygan.objectives import OBJECTIVES


def uses_xla(model_config, train_config):
    """Whether the training steps are compiled with XLA (train.jit_compile; never on
    the plain path). XLA draws other random numbers than TensorFlow's kernels from the
    same generator state, from the same distributions: stochastic neurons and the
    penalty's interpolates differ from the plain path's draw by draw."""
    mode = train_config['jit_compile']
    return train_config['fast'] and (mode == 'on' or (mode == 'auto' and not any(
        layer[0] in ('conv', 'transconv')
        for layer in model_config['net_g'] + model_config['net_d'])))


def batch_parts(model_config, train_config):
    """In how many independent parts the training steps take a batch (train.batch_parts;
    always 1 on the plain path; 0: two on a CPU of two or more cores, for an even batch,
    a critic that scores each image on its own and steps without XLA, which runs a
    compiled cluster's ops one at a time)."""
    if not train_config['fast']:
        return 1
    parts = train_config['batch_parts']
    if parts == 0:
        # Not for BGAN: its joint step's pass of (1 + M) x batch images is large enough
        # to keep every core busy in one part.
        parts = 2 if ((os.cpu_count() or 1) >= 2 and model_config['batch_size'] % 2 == 0
                      and not OBJECTIVES[model_config['gan_type']].boundary_seeking
                      and not critic_couples_samples(model_config)
                      and not uses_xla(model_config, train_config)
                      and not tf.config.list_physical_devices('GPU')) else 1
    return parts


def set_cpu_threads(parts):
    """With ``parts`` > 1 on a CPU, one thread per operation (the cores shared among the
    parts, which run side by side) unless TF_NUM_INTRAOP_THREADS says otherwise. Only
    before TensorFlow starts its work: its thread pools are fixed then."""
    if parts > 1 and 'TF_NUM_INTRAOP_THREADS' not in os.environ \
            and not tf.config.list_physical_devices('GPU'):
        tf.config.threading.set_intra_op_parallelism_threads(
            max(1, (os.cpu_count() or 1) // parts))
