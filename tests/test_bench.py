import json
import sys

import pytest

import bench

REFERENCE = """import json, sys
with open({log!r}, 'a') as f:
    f.write(' '.join(sys.argv[1:]) + '\\n')
print('a line before the result')
print(json.dumps({{'impl': 'fake', 'ms_per_iteration_median': 1000.0}}))
"""


def run_bench(monkeypatch, capsys, *args):
    monkeypatch.setattr(sys, 'argv', ['bench.py', *args])
    bench.main()
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_reference_runs_in_turns_and_each_round_gives_a_ratio(tmp_path, monkeypatch, capsys):
    log = tmp_path / 'calls.txt'
    script = tmp_path / 'reference.py'
    script.write_text(REFERENCE.format(log=str(log)))
    lines = run_bench(monkeypatch, capsys, '--arch', 'mlp', '--gan', 'gan', '--iters', '1',
                      '--repeats', '2', '--rounds', '3', '--reference', sys.executable,
                      '--reference-script', str(script), '--reference-arg=--fake-once')
    result = lines[-1]
    assert log.read_text().splitlines() == [
        '--arch mlp --gan gan --n-critic 5 --iters 1 --repeats 2 --fake-once'] * 3
    assert result['reference_ms_per_iteration_median'] == 1000.0
    assert len(result['ratio_per_round']) == 3
    # Ours over the reference's 1000 ms, round by round; the median of the rounds.
    assert result['ratio_median'] == pytest.approx(result['ms_per_iteration_median'] / 1000,
                                                   abs=1e-3)
    assert sorted(result['ratio_per_round'])[1] == result['ratio_median']


def test_seed_003s_bgan_step_is_timed_in_turns_with_its_reference(tmp_path, monkeypatch,
                                                                 capsys):
    log = tmp_path / 'calls.txt'
    script = tmp_path / 'bgan_reference.py'
    script.write_text(REFERENCE.format(log=str(log)).replace('ms_per_iteration_median',
                                                             'ms_per_step_median'))
    result = run_bench(monkeypatch, capsys, '--arch', 'dcgan', '--gan', 'bgan', '--iters', '1',
                       '--repeats', '1', '--rounds', '2', '--reference', sys.executable,
                       '--bgan-reference-script', str(script), '--reference-arg=--threads=1',
                       'train.batch_parts=1')[-1]
    assert log.read_text().splitlines() == ['--iters 1 --repeats 1 --threads=1'] * 2
    assert (result['arch'], result['n_critic'], result['samples_per_latent']) == ('dcgan', 1, 20)
    assert result['reference_ms_per_iteration_median'] == 1000.0
    assert result['ratio_median'] == pytest.approx(result['ms_per_iteration_median'] / 1000,
                                                   abs=1e-3)


def test_a_missing_or_failing_reference_is_a_one_line_error(tmp_path, monkeypatch, capsys):
    with pytest.raises(SystemExit) as missing:
        run_bench(monkeypatch, capsys, '--reference', sys.executable,
                  '--reference-script', str(tmp_path / 'none.py'))
    assert missing.value.code == 2
    assert 'no reference script at' in capsys.readouterr().err.splitlines()[-1]

    failing = tmp_path / 'failing.py'
    failing.write_text("raise SystemExit('no torch here')\n")
    with pytest.raises(SystemExit) as failed:
        run_bench(monkeypatch, capsys, '--arch', 'mlp', '--gan', 'gan', '--iters', '1',
                  '--repeats', '1', '--rounds', '1', '--reference', sys.executable,
                  '--reference-script', str(failing))
    assert str(failed.value).startswith('bench.py: the reference failed')
    assert str(failed.value).endswith('no torch here')


def test_flop_count_of_the_presets_by_hand():
    from binarygan.presets import DISCRIMINATOR_PRESETS, GENERATOR_PRESETS
    cnn_d = 26 * 26 * 9 * 32 + 11 * 11 * 9 * 32 * 64 + 2304 * 128 + 128
    cnn_g = 4 * 128 * 128 + 2 * 2 * 16 * 128 * 64 + 6 * 6 * 9 * 64 * 32 + 13 * 13 * 16 * 32
    assert bench.forward_macs(DISCRIMINATOR_PRESETS['cnn'], (28, 28, 1)) == cnn_d
    assert bench.first_layer_macs(DISCRIMINATOR_PRESETS['cnn'], (28, 28, 1)) == 26 * 26 * 9 * 32
    assert bench.forward_macs(GENERATOR_PRESETS['cnn_round']['network'], (128,)) == cnn_g
    d, d1 = 784 * 512 + 512 * 256 + 256, 784 * 512
    g, g1 = 128 * 1024 + 1024 * 784, 128 * 1024
    # MLP WGAN-GP: 5 critic steps of 10 D - 3 D1 (the interpolates skip the dense D1).
    assert bench.iteration_flops('mlp', 'wgan-gp', 5) == 2 * 64 * (
        g + 5 * (10 * d - 3 * d1) + 3 * g - g1 + 2 * d)
    assert bench.iteration_flops('cnn', 'gan', 5) == 2 * 64 * (
        cnn_g + 5 * (6 * cnn_d - 2 * 26 * 26 * 9 * 32) + 3 * cnn_g - 4 * 128 * 128 + 2 * cnn_d)
    # The score-function ways: D forward only in the generator step, on the M samples of
    # each latent; BGAN's one discriminator step on the real batch and 20 samples per
    # latent is its generator step too (no second pass through D).
    assert bench.iteration_flops('mlp', 'wgan-gp', 5, estimator='reinforce') == 2 * 64 * (
        g + 5 * (10 * d - 3 * d1) + 3 * g - g1 + d)
    assert bench.iteration_flops('mlp', 'wgan-gp', 5, estimator='reinforce',
                                 samples_per_latent=20) == 2 * 64 * (
        g + 5 * (10 * d - 3 * d1) + 3 * g - g1 + 20 * d)
    assert bench.iteration_flops('mlp', 'bgan', 1, samples_per_latent=20) == 2 * 64 * (
        g + 21 * (3 * d - d1) + 3 * g - g1)
    # Seed 003's networks: 'same' padding, 32x32 by padding and cropping, z 64.
    dcgan_g = (64 * 16 * 128 + 4 * 4 * 16 * 128 * 64 + 8 * 8 * 16 * 64 * 32
               + 16 * 16 * 16 * 32 * 16 + 32 * 32 * 16)
    dcgan_d = (16 * 16 * 16 * 16 + 8 * 8 * 16 * 16 * 32 + 4 * 4 * 16 * 32 * 64
               + 2 * 2 * 16 * 64 * 128 + 512)
    assert bench.forward_macs(GENERATOR_PRESETS['dcgan_round']['network'], (64,)) == dcgan_g
    assert bench.forward_macs(DISCRIMINATOR_PRESETS['dcgan'], (28, 28, 1)) == dcgan_d


def test_the_reference_is_refused_for_the_cases_it_does_not_have(tmp_path, monkeypatch,
                                                                  capsys):
    script = tmp_path / 'reference.py'
    script.write_text('')
    for case in (['--gan', 'bgan'], ['--estimator', 'reinforce'], ['--arch', 'dcgan'],
                 ['--arch', 'dcgan', '--gan', 'bgan', '--gan', 'gan']):
        with pytest.raises(SystemExit) as refused:
            run_bench(monkeypatch, capsys, '--reference', sys.executable,
                      '--reference-script', str(script), '--bgan-reference-script',
                      str(script), *case)
        assert refused.value.code == 2
        assert ("the references run the paper's cases (--arch mlp or cnn, --gan wgan-gp or "
                "gan, the sigmoid_adjusted estimator) and seed 003's BGAN (--arch dcgan --gan "
                "bgan) only") in capsys.readouterr().err
