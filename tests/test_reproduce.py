"""The grid runner on a two-run grid with tiny settings."""
import json
import os

import reproduce
from conftest import mnist_mirror, read_csv

RUNS = 'mlp_mlp_round,mlp_mlp_bernoulli'


def grid_args(tmp_path, synthetic_data, classifier_dir, epochs, runs=RUNS):
    # 64 images in batches of 16: 4 generator steps an epoch.
    return ['--runs', runs, '--epochs', str(epochs), '--num-samples', '300',
            '--exp-root', str(tmp_path / 'exp'), '--figs-dir', str(tmp_path / 'figs'),
            f'data.training_data={synthetic_data}', 'model.batch_size=16',
            'train.warmup_steps=1', 'train.n_critic_warmup=3', 'train.n_critic=2',
            'train.sample_every_steps=2', f'train.classifier_dir={classifier_dir}',
            f'train.eval_mnist_dir={mnist_mirror()}', 'train.eval_num_samples=200']


def modification_times(folder):
    return {name: os.stat(os.path.join(folder, name)).st_mtime_ns
            for name in sorted(os.listdir(folder))}


def test_grid_resumes_a_short_run_skips_finished_ones_and_rebuilds_the_report(
        tmp_path, synthetic_data, classifier_dir, capfd):
    exp = tmp_path / 'exp'
    # A run one epoch long, as left by an interrupted grid.
    assert reproduce.main(grid_args(tmp_path, synthetic_data, classifier_dir, 1,
                                    runs='mlp_mlp_bernoulli')) == 0
    assert [row['step'] for row in read_csv(exp / 'mlp_mlp_bernoulli/logs/epoch.csv')] == ['4']

    capfd.readouterr()
    assert reproduce.main(grid_args(tmp_path, synthetic_data, classifier_dir, 2)) == 0
    out = capfd.readouterr().out
    assert '[mlp_mlp_round] training (2 epochs)' in out
    assert '[mlp_mlp_bernoulli] resuming at epoch 2' in out
    for name in RUNS.split(','):
        assert [row['step'] for row in read_csv(exp / name / 'logs/epoch.csv')] == ['4', '8']
        metrics = json.loads((exp / name / 'eval/metrics.json').read_text())
        assert metrics['step'] == 8 and metrics['num_samples'] == 300
        assert [row['epoch'] for row in read_csv(exp / name / 'eval/metrics.csv')] == ['1', '2']
        assert json.loads((exp / name / reproduce.RUN_INFO).read_text())['machine']

    checkpoints = {name: modification_times(exp / name / 'checkpoints')
                   for name in RUNS.split(',')}
    assert reproduce.main(grid_args(tmp_path, synthetic_data, classifier_dir, 2)) == 0
    out = capfd.readouterr().out
    for name in RUNS.split(','):
        assert f'[{name}] trained for 2 epochs: skipped' in out
        assert f'[{name}] evaluated at step 8: skipped' in out
        assert modification_times(exp / name / 'checkpoints') == checkpoints[name]

    figs = tmp_path / 'figs'
    for path in figs.iterdir():
        path.unlink()
    assert reproduce.main(grid_args(tmp_path, synthetic_data, classifier_dir, 2)
                          + ['--report-only']) == 0
    assert 'evaluating' not in capfd.readouterr().out
    assert {path.name for path in figs.iterdir()} == {
        'train.png', 'mlp_mlp_round.png', 'mlp_mlp_round_preactivated.png',
        'mlp_mlp_bernoulli.png', 'mlp_mlp_bernoulli_preactivated.png',
        'mlp_preactivation_histograms.png', 'metrics_exp_I-II.png', 'results.md'}
    table = (figs / 'results.md').read_text()
    fid = json.loads((exp / 'mlp_mlp_round/eval/metrics.json').read_text())
    assert f"| mlp_mlp_round | I-II | mlp_round | mlp | wgan-gp | binary | " \
           f"{fid['variants']['binary']['fid']:.2f} |" in table
    assert '| cnn_cnn_real | IV | cnn_real | cnn | wgan-gp | — | not evaluated yet (0 epochs' \
        in table
    claims = [line for line in table.splitlines() if line.startswith('| DBNs and SBNs')]
    assert len(claims) == 1 and 'unclear' not in claims[0] and 'mlp_mlp_bernoulli: ' in claims[0]
    assert table.count('unclear') == 4  # the other claims need runs not in this grid


def test_unknown_run_is_refused_in_one_line(tmp_path, capsys):
    assert reproduce.main(['--runs', 'mlp_mlp_ternary', '--exp-root', str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: unknown run 'mlp_mlp_ternary'; valid: {', '.join(reproduce.RUNS)}"]
    assert not os.listdir(tmp_path)
