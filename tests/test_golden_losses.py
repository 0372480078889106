"""Same-seed losses of the first iterations equal those recorded in golden_losses.json
(by make_golden_losses.py, at the commit it names), for MLP and CNN x GAN, WGAN and
WGAN-GP x deterministic and stochastic binary neurons.

Each case reruns with the recorded overrides, through main.main as it was recorded,
and compares as text: every critic step's loss as logs/step.csv writes it (6
significant digits, which alone would hide changes below 5e-6 relative), and each
generator step's critic loss, generator loss and gradient penalty as the float32 value
of the TensorBoard events, to the last bit.

Bit for bit is expected wherever the computation is unchanged. A change that reorders
floating-point sums while meaning the same (a fused op, another reduction order) may
move the last bits: such a case goes in TOLERATED, with the reason, and is then held
to 1e-6 relative (the 6-digit CSV values also to one unit in their last digit, their
rounding). Only an intended change of the losses, explained in its commit, regenerates
the file (see make_golden_losses.py).

In another environment than the golden file's (TensorFlow version, CPU, cores), other
kernels round differently: there every case is held to ELSEWHERE_TOLERANCE, which a
change of what is computed still exceeds after a few steps.
"""
import json

import numpy as np
import pytest

from conftest import write_synthetic_data
from make_golden_losses import CASES, GOLDEN_PATH, environment, file_sha1, run_case

with open(GOLDEN_PATH) as f:
    GOLDEN = json.load(f)

# Case name: why its values may differ in the last bits. Empty: all exact.
TOLERATED = {}
RELATIVE_TOLERANCE = 1e-6
ELSEWHERE_TOLERANCE = 1e-3


def agrees(new, old, relative, csv_rounded):
    """Whether the text ``new`` is ``old``, or, with ``relative`` > 0, within
    ``relative`` of it (plus one unit in the 6th significant digit if ``csv_rounded``)."""
    if new == old or not relative:
        return new == old
    new, old = float(new), float(old)
    unit = 10. ** (np.floor(np.log10(abs(old))) - 5) if csv_rounded and old else 0.
    return abs(new - old) <= relative * abs(old) + unit


def test_golden_file_has_every_case():
    assert list(GOLDEN['cases']) == list(CASES)
    assert set(TOLERATED) <= set(CASES)


@pytest.mark.parametrize('name', CASES)
def test_losses_equal_the_golden_ones(tmp_path, name):
    data_path = write_synthetic_data(tmp_path)
    assert file_sha1(data_path) == GOLDEN['training_data_sha1'], "the synthetic data changed"
    golden = GOLDEN['cases'][name]
    losses = run_case(GOLDEN['overrides'] + golden['overrides'], data_path, tmp_path / 'exp')
    assert {key: len(values) for key, values in losses.items()} == {
        key: len(golden[key]) for key in losses}
    elsewhere = {key: (value, GOLDEN['environment'][key])
                 for key, value in environment().items() if value != GOLDEN['environment'][key]}
    relative = (ELSEWHERE_TOLERANCE if elsewhere else
                RELATIVE_TOLERANCE if name in TOLERATED else 0.)
    differences = [f"{key}[{i}]: {new} (golden {old})"
                   for key in ('critic_d_loss', 'd_loss', 'g_loss', 'gradient_penalty')
                   for i, (new, old) in enumerate(zip(losses[key], golden[key]))
                   if not agrees(new, old, relative, key == 'critic_d_loss')]
    assert not differences, (
        f"{name}: {len(differences)} values differ from those of commit "
        f"{GOLDEN['commit'][:12]}: {'; '.join(differences[:6])}" + (
            f" (another environment than the golden file's, (here, there): {elsewhere})"
            if elsewhere else ''))
