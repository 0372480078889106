"""The grid runner on a two-run grid with tiny settings."""
import json
import os
import shutil

import reproduce
from experiments import grid
from experiments.claims import verdicts
from experiments.grid import RUNS as GRID_RUNS
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
    exp = tmp_path / 'exp' / 'paper'
    # A run one epoch long, as left by an interrupted grid.
    assert reproduce.main(grid_args(tmp_path, synthetic_data, classifier_dir, 1,
                                    runs='mlp_mlp_bernoulli')) == 0
    assert [row['step'] for row in read_csv(exp / 'mlp_mlp_bernoulli/logs/epoch.csv')] == ['4']

    capfd.readouterr()
    assert reproduce.main(grid_args(tmp_path, synthetic_data, classifier_dir, 2)) == 0
    out = capfd.readouterr().out
    assert '[paper/mlp_mlp_round] training (2 epochs)' in out
    assert '[paper/mlp_mlp_bernoulli] resuming at epoch 2' in out
    figs = tmp_path / 'figs'
    for name in RUNS.split(','):
        assert [row['step'] for row in read_csv(exp / name / 'logs/epoch.csv')] == ['4', '8']
        metrics = json.loads((exp / name / 'eval/metrics.json').read_text())
        assert metrics['step'] == 8 and metrics['num_samples'] == 300
        assert [row['epoch'] for row in read_csv(exp / name / 'eval/metrics.csv')] == ['1', '2']
        record = json.loads((figs / 'runs' / 'paper' / f'{name}.json').read_text())
        assert record['protocol'] == 'paper' and record['seed'] == 0
        assert record['bn_mode'] == 'batch' and record['slope_annealing_rate'] == 1.1
        assert record['epochs'] == 2 and record['machine']
        assert record['metrics']['variants'] == metrics['variants']
        assert sum(record['histogram']['counts']) == 300 * 784
        assert [row['epoch'] for row in record['along_training']] == ['1', '2']

    checkpoints = {name: modification_times(exp / name / 'checkpoints')
                   for name in RUNS.split(',')}
    assert reproduce.main(grid_args(tmp_path, synthetic_data, classifier_dir, 2)) == 0
    out = capfd.readouterr().out
    for name in RUNS.split(','):
        assert f'[paper/{name}] trained for 2 epochs: skipped' in out
        assert f'[paper/{name}] evaluated at step 8: skipped' in out
        assert modification_times(exp / name / 'checkpoints') == checkpoints[name]

    # The report needs the records only: without the runs it rebuilds the same figures.
    shutil.rmtree(tmp_path / 'exp')
    for path in figs.rglob('*.png'):
        path.unlink()
    (figs / 'results.md').unlink()
    assert reproduce.main(grid_args(tmp_path, synthetic_data, classifier_dir, 2)
                          + ['--report-only']) == 0
    assert 'evaluating' not in capfd.readouterr().out
    # No ablation figure: of its cells only the paper protocol's runs are in.
    assert {str(path.relative_to(figs)) for path in figs.rglob('*.png')} == {
        'paper/mlp_preactivation_histograms.png', 'paper/metrics_exp_I-II.png'}
    table = (figs / 'results.md').read_text()
    fid = json.loads((figs / 'runs/paper/mlp_mlp_round.json').read_text())['metrics']
    assert f"| mlp_mlp_round | I-II | mlp_round | mlp | wgan-gp | binary | " \
           f"{fid['variants']['binary']['fid']:.2f} |" in table
    assert 'Not run yet: mlp_mlp_real, gan_mlp_mlp_round' in table
    assert '## Protocol `original_code`\n\nNo run evaluated yet.' in table
    claims = [line for line in table.splitlines() if line.startswith('| DBNs and SBNs')]
    assert len(claims) == 1 and claims[0].split(' | ')[1] != 'unclear (no DBN/SBN pair ' \
        'evaluated)'


def test_report_without_records_refuses_and_leaves_figs_as_they_are(tmp_path, capsys):
    figs = tmp_path / 'figs'
    figs.mkdir()
    (figs / 'results.md').write_text('the committed results\n')
    assert reproduce.main(['--report-only', '--figs-dir', str(figs)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: no run records in {figs / 'runs'}: train and evaluate runs first "
                   "(python reproduce.py)"]
    assert [path.name for path in figs.iterdir()] == ['results.md']
    assert (figs / 'results.md').read_text() == 'the committed results\n'


def test_unknown_run_is_refused_in_one_line(tmp_path, capsys):
    assert reproduce.main(['--runs', 'mlp_mlp_ternary', '--exp-root', str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: unknown run 'mlp_mlp_ternary' of group grid; valid: "
                   f"{', '.join(GRID_RUNS)}"]
    assert reproduce.main(['--group', 'ways', '--runs', 'mlp_mlp_round',
                           '--exp-root', str(tmp_path)]) == 2
    assert capsys.readouterr().err.startswith(
        "error: unknown run 'mlp_mlp_round' of group ways; valid: straight_through, reinforce")
    assert not os.listdir(tmp_path)


def test_the_ways_group_trains_a_way_with_its_settings_and_reports_it(
        tmp_path, synthetic_data, classifier_dir):
    assert reproduce.main(['--group', 'ways'] + grid_args(tmp_path, synthetic_data,
                                                          classifier_dir, 1, runs='bgan')) == 0
    config = json.loads((tmp_path / 'exp/ways/bgan/config.json').read_text())
    assert config['model']['gan_type'] == 'bgan' and config['model']['beta2'] == 0.999
    assert config['train']['slope_annealing_rate'] == 1.0
    record = json.loads((tmp_path / 'figs/runs/ways/bgan.json').read_text())
    assert record['gan_type'] == 'bgan' and record['gradient_estimator'] == 'reinforce'
    figs = tmp_path / 'figs'
    assert (figs / 'ways/metrics_ways.png').is_file() and (figs / 'ways/bgan.png').is_file()
    fid = record['metrics']['variants']['binary']['fid']
    table = (figs / 'results.md').read_text()
    assert (f"| Boundary-Seeking GAN, 20 samples per latent | bgan | bgan | binary | {fid:.2f} |"
            in table)
    assert "| REINFORCE, leave-one-out baseline | reinforce | not run yet |" in table


def test_a_new_group_runs_and_shows_in_the_report(tmp_path, synthetic_data, classifier_dir,
                                                 monkeypatch):
    """docs/contributing.md's example: a group is an entry of grid.GROUPS; without a
    section of its own, the report lists its runs."""
    def runs(protocol, names):
        return [('example/lr1e-3', name, [*grid.preset_settings('mlp_bernoulli', 'mlp',
                                                                 'wgan-gp', 'adam'),
                                           'model.generator_learning_rate=1e-3'])
                for name in names or ['sbn']]
    monkeypatch.setitem(grid.GROUPS, 'example', grid.Group(
        "SBNs with a faster generator", runs, ['sbn'], epochs=1))
    assert reproduce.main(['--group', 'example'] + grid_args(
        tmp_path, synthetic_data, classifier_dir, 1, runs='sbn')) == 0
    record = json.loads((tmp_path / 'figs/runs/example/lr1e-3/sbn.json').read_text())
    assert record['generator_learning_rate'] == 1e-3 and record['steps'] == 4
    report = (tmp_path / 'figs/results.md').read_text()
    assert "## Group `example`: SBNs with a faster generator" in report
    fid = record['metrics']['variants']['binary']['fid']
    assert f"| example/lr1e-3 | sbn | binary | {fid:.2f} |" in report


def test_a_run_cut_short_by_max_steps_is_recorded_and_reported_as_such(
        tmp_path, synthetic_data, classifier_dir):
    """train.max_steps=2 stops a run in its first epoch (4 steps): its record says so,
    and the report is built (the ways table's minutes per epoch: none yet)."""
    args = grid_args(tmp_path, synthetic_data, classifier_dir, 1, runs='mlp_mlp_round')
    assert reproduce.main(args + ['train.max_steps=2']) == 0
    record = json.loads((tmp_path / 'figs/runs/paper/mlp_mlp_round.json').read_text())
    assert (record['epochs'], record['steps'], record['partial_epoch']) == (0, 2, True)
    assert record['metrics']['step'] == 2
    report = (tmp_path / 'figs/results.md').read_text()
    assert "The runs trained 0 epochs (1 with a part of an epoch more)" in report
    assert "evaluated on 300 samples" in report
    fid = record['metrics']['variants']['binary']['fid']
    assert (f"| sigmoid-adjusted straight-through, DBNs (paper) | mlp_mlp_round | wgan-gp | "
            f"binary | {fid:.2f} |") in report
    row = next(line for line in report.splitlines()
               if line.startswith('| sigmoid-adjusted straight-through, DBNs (paper) |'))
    assert row.split('|')[-3].strip() == '—'  # minutes per epoch


def constructed_runs(fids, notched=('mlp_mlp_round',), seeds=None):
    """with_seeds()-like runs of every run with the given FIDs (``seeds``: {run: FIDs of
    more seeds}); 0.005-wide histograms with the bins at 0.5 empty where named."""
    runs = {}
    for name in GRID_RUNS:
        counts = [0 if name in notched and i in (99, 100) else 10 for i in range(200)]
        histogram = {'bin_edges': [i / 200 for i in range(201)], 'counts': counts}
        real = name.endswith('_real')
        mid = {'round': 0.1, 'bernoulli': 0.05, 'real': 0.02}[name.split('_')[-1]]
        ends = {'round': 0.5, 'bernoulli': 0.7, 'real': 0.9}[name.split('_')[-1]]
        runs[name] = []
        for seed, value in enumerate([fids[name], *(seeds or {}).get(name, [])]):
            variants = {variant: {'fid': value * factor, 'class_entropy': 0.99,
                                  'min_class_share': 0.09}
                        for variant, factor in ((('raw', 1.), ('threshold', 1.),
                                                 ('bernoulli', 1.2))
                                                if real else (('binary', 1.),))}
            if name.startswith('gan_'):
                for values in variants.values():
                    values.update(class_entropy=0.8, min_class_share=0.01)
            runs[name].append({'seed': seed, 'histogram': histogram, 'metrics': {
                'variants': variants,
                'preactivated': {'share_0.4_to_0.6': mid, 'share_below_0.1_or_above_0.9': ends}}})
    return runs


def test_claims_get_verdicts_from_the_numbers():
    fids = {name: 20. for name in GRID_RUNS}
    fids.update(mlp_mlp_real=30., cnn_cnn_round=10., cnn_cnn_bernoulli=11., cnn_cnn_real=15.)
    claims = verdicts(constructed_runs(fids))
    assert [verdict for _, verdict, _ in claims] == ['agrees'] * 5
    assert 'mlp_mlp_round 0.00, mlp_mlp_bernoulli 1.00' in claims[1][2]  # the notch ratios

    fids.update(mlp_mlp_bernoulli=45., wgan_mlp_mlp_round=60., cnn_cnn_round=25.,
                cnn_cnn_bernoulli=50.)
    claims = verdicts(constructed_runs(fids, notched=()))
    found = [verdict for _, verdict, _ in claims]
    assert found[0] == 'partly agrees'  # one of four DBN/SBN pairs is within 1.5x
    assert found[1] == 'partly agrees (3 of 4 hold)'  # no notch for the DBNs
    assert found[2] == 'partly agrees'  # cnn_cnn_bernoulli 50 vs real threshold 15
    assert found[3] == 'partly agrees'  # WGAN far from WGAN-GP with DBNs only
    assert found[4] == 'partly agrees'  # the CNN beats the MLP with real values only
    assert 'mlp_mlp_round: FID 20.00 vs mlp_mlp_bernoulli: 45.00' in claims[0][2]

    # An FID lower by less than 5 % is no win: the real-valued CNN at 29 against 30.
    fids.update(cnn_cnn_real=29.)
    claims = verdicts(constructed_runs(fids))
    assert claims[4][1] == 'does not agree'
    assert 'cnn_cnn_real: best FID 29.00 vs mlp_mlp_real: 30.00' in claims[4][2]


def test_verdicts_count_a_difference_only_beyond_the_seed_spread():
    fids = {name: 20. for name in GRID_RUNS}
    fids.update(mlp_mlp_real=30., cnn_cnn_round=17., cnn_cnn_bernoulli=17., cnn_cnn_real=30.)
    # One seed each: the CNNs' 17 is 15 % below the MLPs' 20, a win.
    assert verdicts(constructed_runs(fids))[4][1] == 'partly agrees'
    # Seeds 14, 17, 20 against 19, 20, 21: means 17 and 20, standard deviations 3 and 1,
    # a difference of 3 within the spreads (4): no win, for DBNs and SBNs alike.
    seeds = {'cnn_cnn_round': [14., 20.], 'cnn_cnn_bernoulli': [14., 20.],
             'mlp_mlp_round': [19., 21.], 'mlp_mlp_bernoulli': [19., 21.]}
    claim = verdicts(constructed_runs(fids, seeds=seeds))[4]
    assert claim[1] == 'does not agree'
    assert 'cnn_cnn_round: best FID 17.00 ± 3.00 (3 seeds) vs mlp_mlp_round: 20.00 ± 1.00 ' \
        '(3 seeds)' in claim[2]
    # Claim 1: DBNs at 20 and SBNs at 40 are 2x apart, but with spreads of 12 each
    # (seeds 8, 20, 32 and 28, 40, 52) the difference does not count.
    fids.update(mlp_mlp_bernoulli=40.)
    seeds = {'mlp_mlp_round': [8., 32.], 'mlp_mlp_bernoulli': [28., 52.]}
    assert verdicts(constructed_runs(fids))[0][1] == 'partly agrees'
    assert verdicts(constructed_runs(fids, seeds=seeds))[0][1] == 'agrees'
