"""Speed paths: the plain code's values (up to rounding; XLA draws other random numbers
from the same distributions), computed faster on a CPU, behind one switch (train.fast;
False runs the plain path everywhere). Each is tested equal to the plain path
(tests/test_fast.py) and measured by bench.py.

- layers.py: the critic's convolution, leaky ReLU and max pooling with hand-written
  gradients, whose gradient penalty's second derivatives skip work TensorFlow's would do;
- critic.py: real and fake images in one critic pass, and the gradient penalty from
  the critic's first dense layer;
- parts.py: a batch in independent parts, run side by side on the cores;
- policy.py: XLA compilation of the steps (train.jit_compile), how many parts
  (train.batch_parts) and TensorFlow's CPU threads.

This file loads no TensorFlow (its modules do): ``set_cpu_options`` runs before it loads.
"""
import os


def set_cpu_options():
    """oneDNN kernels for convolutions and XLA's matrix products: faster training on x86
    CPUs (bench.py), float32 as before; TensorFlow's CUDA builds leave them off. Read
    when TensorFlow is imported, so the entry points call this first; an exported
    TF_ENABLE_ONEDNN_OPTS=0 wins, to compare."""
    os.environ.setdefault('TF_ENABLE_ONEDNN_OPTS', '1')
