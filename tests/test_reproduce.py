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


def constructed_records(tmp_path, fids, notched=('mlp_mlp_round',)):
    """Records of every run with the given FIDs; histograms with a notch where named."""
    records = {}
    for name in reproduce.RUNS:
        exp_dir = tmp_path / name
        (exp_dir / 'eval').mkdir(parents=True)
        edges = [i / 50 for i in range(51)]
        counts = [0 if name in notched and 22 <= i < 28 else 10 for i in range(50)]
        (exp_dir / 'eval' / 'preactivation_histogram.json').write_text(
            json.dumps({'bin_edges': edges, 'counts': counts}))
        real = name.endswith('_real')
        variants = {variant: {'fid': fids[name] * factor, 'class_entropy': 0.99,
                              'min_class_share': 0.09}
                    for variant, factor in ((('raw', 1.), ('threshold', 1.), ('bernoulli', 1.2))
                                            if real else (('binary', 1.),))}
        if name.startswith('gan_'):
            for values in variants.values():
                values.update(class_entropy=0.8, min_class_share=0.01)
        mid = {'round': 0.1, 'bernoulli': 0.05, 'real': 0.02}[name.split('_')[-1]]
        ends = {'round': 0.5, 'bernoulli': 0.7, 'real': 0.9}[name.split('_')[-1]]
        records[name] = {'exp_dir': str(exp_dir), 'metrics': {
            'variants': variants,
            'preactivated': {'share_0.4_to_0.6': mid, 'share_below_0.1_or_above_0.9': ends}}}
    return records


def test_claims_get_verdicts_from_the_numbers(tmp_path):
    fids = {name: 20. for name in reproduce.RUNS}
    fids.update(mlp_mlp_real=30., cnn_cnn_round=10., cnn_cnn_bernoulli=11., cnn_cnn_real=15.)
    claims = reproduce.verdicts(constructed_records(tmp_path / 'a', fids))
    assert [verdict for _, verdict, _ in claims] == ['agrees'] * 5

    fids.update(mlp_mlp_bernoulli=45., wgan_mlp_mlp_round=60., cnn_cnn_round=25.,
                cnn_cnn_bernoulli=50.)
    claims = reproduce.verdicts(constructed_records(tmp_path / 'b', fids, notched=()))
    verdicts = [verdict for _, verdict, _ in claims]
    assert verdicts[0] == 'partly agrees'  # one of four DBN/SBN pairs is within 1.5x
    assert verdicts[1] == 'partly agrees (3 of 4 hold)'  # no notch for the DBNs
    assert verdicts[2] == 'partly agrees'  # cnn_cnn_bernoulli 50 vs real threshold 15
    assert verdicts[3] == 'partly agrees'  # WGAN far from WGAN-GP with DBNs only
    assert verdicts[4] == 'partly agrees'  # the CNN beats the MLP with real values only
    assert 'mlp_mlp_round: FID 20.00 vs mlp_mlp_bernoulli: 45.00' in claims[0][2]

    # An FID lower by less than 5 % is no win: the real-valued CNN at 29 against 30.
    fids.update(cnn_cnn_real=29.)
    claims = reproduce.verdicts(constructed_records(tmp_path / 'c', fids))
    assert claims[4][1] == 'does not agree'
    assert 'cnn_cnn_real: best FID 29.00 vs mlp_mlp_real: 30.00' in claims[4][2]
