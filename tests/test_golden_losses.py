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

The file keeps one recording per environment (TensorFlow version, cores, CPU's instruction
set): other kernels round differently, so each environment is held bit for bit to its own.
In an environment with no recording, the nearest one (most fields alike) is the reference,
and rounding differences grow from step to step (AVX-512 vs AVX2 kernels: at most 1.2e-4
relative up to the first generator step, 4.8e-2 by the sixth, for a WGAN loss near 0):
there the values up to and with the first generator step are held to
ELSEWHERE_TOLERANCE, the later ones to LATER_TOLERANCE, which a change of what is
computed still exceeds.
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
LATER_TOLERANCE = 1e-1
# Critic steps before the first generator step: the warm-up's (GOLDEN's overrides).
FIRST_CRITIC_STEPS = int(dict(arg.split('=') for arg in GOLDEN['overrides'])[
    'train.n_critic_warmup'])


def agrees(new, old, relative, csv_rounded):
    """Whether the text ``new`` is ``old``, or, with ``relative`` > 0, within
    ``relative`` of it (plus one unit in the 6th significant digit if ``csv_rounded``)."""
    if new == old or not relative:
        return new == old
    new, old = float(new), float(old)
    unit = 10. ** (np.floor(np.log10(abs(old))) - 5) if csv_rounded and old else 0.
    return abs(new - old) <= relative * abs(old) + unit


def reference(here):
    """The recording of environment ``here``, else the one with most fields alike; and
    the fields where ``here`` differs from it, as (here, there)."""
    recording = max(GOLDEN['recordings'], key=lambda r: sum(
        r['environment'].get(key) == value for key, value in here.items()))
    there = recording['environment']
    return recording, {key: (value, there.get(key))
                       for key, value in here.items() if value != there.get(key)}


def test_golden_file_has_every_case():
    assert list(GOLDEN['cases']) == list(CASES)
    assert all(list(r['losses']) == list(CASES) for r in GOLDEN['recordings'])
    assert set(TOLERATED) <= set(CASES)


def test_the_nearest_recording_is_the_reference():
    for recording in GOLDEN['recordings']:
        here = dict(recording['environment'])
        assert reference(here) == (recording, {})
        here['cpu_count'] = -1  # one field off: still the nearest
        assert reference(here) == (recording, {
            'cpu_count': (-1, recording['environment']['cpu_count'])})


@pytest.mark.parametrize('name', CASES)
def test_losses_equal_the_golden_ones(tmp_path, name):
    data_path = write_synthetic_data(tmp_path)
    assert file_sha1(data_path) == GOLDEN['training_data_sha1'], "the synthetic data changed"
    losses = run_case(GOLDEN['overrides'] + GOLDEN['cases'][name], data_path, tmp_path / 'exp')
    recording, elsewhere = reference(environment())
    golden = recording['losses'][name]
    assert {key: len(values) for key, values in losses.items()} == {
        key: len(golden[key]) for key in losses}

    def relative(key, i):
        if not elsewhere:
            return RELATIVE_TOLERANCE if name in TOLERATED else 0.
        first = i < (FIRST_CRITIC_STEPS if key == 'critic_d_loss' else 1)
        return ELSEWHERE_TOLERANCE if first else LATER_TOLERANCE

    differences = [f"{key}[{i}]: {new} (golden {old})"
                   for key in ('critic_d_loss', 'd_loss', 'g_loss', 'gradient_penalty')
                   for i, (new, old) in enumerate(zip(losses[key], golden[key]))
                   if not agrees(new, old, relative(key, i), key == 'critic_d_loss')]
    assert not differences, (
        f"{name}: {len(differences)} values differ from those recorded at commit "
        f"{recording['commit'][:12]}: {'; '.join(differences[:6])}" + (
            f" (no recording of this environment; the nearest differs in (here, there): "
            f"{elsewhere})" if elsewhere else ''))
