"""The race's table: FID over seeds, the pace, the equal-time FID and the conclusion the
spreads allow, from constructed records."""
from experiments.report_race import fid_band, race_figures, race_section, race_summary


def record(seed, final_fid, fids_along, epoch_seconds):
    return {'seed': seed, 'epochs': len(epoch_seconds), 'steps': 1093 * len(epoch_seconds),
            'generator_learning_rate': 3e-4, 'epoch_seconds': epoch_seconds,
            'metrics': {'variants': {'binary': {'fid': final_fid, 'class_entropy': 0.99,
                                                'isolated_pixels': 0.5}}},
            'along_training': [{'epoch': str(epoch), 'variant': 'binary', 'fid': str(fid)}
                               for epoch, fid in enumerate(fids_along, 1)],
            'training_by_epoch': [
                {'epoch': epoch, 'd_loss': -1. / epoch, 'g_grad_norm': 2. * epoch}
                for epoch in range(1, len(epoch_seconds) + 1)]}


def test_the_race_table_gives_spreads_the_pace_and_the_fid_when_the_quickest_way_ended():
    # DBNs: 60 s per epoch at best (a disturbed epoch of 200 s is not its pace; seed 2:
    # 61 s), 3 epochs in 3 min (3.05 for seed 2: the time when all its runs ended). BGAN:
    # 120 s per epoch, so by then it has one epoch behind it.
    records = {f'race/mlp/seed{seed}': {
        'sigmoid_adjusted_dbn': record(seed, 20. + seed, [50., 30., 20. + seed],
                                       [60. + (seed == 2), 200., 60. + (seed == 2)]),
        'bgan': record(seed, 40. + 2 * seed, [90. + seed, 60., 40.], [120., 120., 130.])}
        for seed in (0, 1, 2)}
    lines = race_section(records, 'mlp')
    header = next(line for line in lines if line.startswith('| way'))
    assert 'FID at 3 min' in header
    row = lambda start: next(line for line in lines if line.startswith('| ' + start))
    dbn, bgan = row('sigmoid-adjusted straight-through, DBNs'), row('Boundary-Seeking GAN')
    cells = lambda line: [cell.strip() for cell in line.split('|')[1:-1]]
    # seeds, FID (mean ± sd of 20, 21, 22), min / epoch, FID at 3 min
    assert cells(dbn)[3:5] == ['0, 1, 2', '21.00 ± 1.00 (3 seeds)']
    assert cells(dbn)[8:10] == ['1.0', '21.00 ± 1.00 (3 seeds)']
    assert cells(bgan)[4] == '42.00 ± 2.00 (3 seeds)'
    assert cells(bgan)[8:10] == ['2.0', '91.00 ± 1.00 (3 seeds)']
    conclusion = next(line for line in lines if line.startswith('Lowest mean FID'))
    assert conclusion.startswith('Lowest mean FID: sigmoid-adjusted straight-through, DBNs')
    assert 'Behind it beyond the spreads: Boundary-Seeking GAN' in conclusion
    # The evidence of the first seed: FID after epochs 1, 5, 10, 20 where it has them, the
    # batch log's epoch means from the first to the last epoch.
    assert lines[-1] == ('| Boundary-Seeking GAN, 20 samples per latent | 0 | '
                         '90.0, —, —, — | -1.000 → -0.333 | 2 → 6 | — |')


def test_ways_within_the_spreads_are_level_with_the_best():
    records = {f'race/mlp/seed{seed}': {
        'sigmoid_adjusted_dbn': record(seed, 20. + 3 * seed, [20.], [60.]),
        'real_valued': record(seed, 22. + 3 * seed, [22.], [60.])} for seed in (0, 1, 2)}
    lines = race_section(records, 'mlp')
    conclusion = next(line for line in lines if line.startswith('Lowest mean FID'))
    assert conclusion == ("Lowest mean FID: sigmoid-adjusted straight-through, DBNs "
                          "(23.00 ± 3.00 (3 seeds)). Level with it within the spreads: "
                          "real-valued, binarized at test time.")


def test_the_conclusion_is_provisional_until_every_way_has_its_seeds():
    # Two seeds of DBNs and BGAN, one of the real-valued way: it has no spread yet and
    # is compared with none. The README's summary says the same.
    records = {f'race/mlp/seed{seed}': {
        'sigmoid_adjusted_dbn': record(seed, 20. + 2 * seed, [20. + 2 * seed], [60.]),
        'bgan': record(seed, 40. + 2 * seed, [40.], [60.])} for seed in (0, 1)}
    records['race/mlp/seed0']['real_valued'] = record(0, 25., [25.], [60.])
    expected = ("Provisional, not every way has its 3 seeds yet. Lowest mean FID: "
                "sigmoid-adjusted straight-through, DBNs (21.00 ± 1.41 (2 seeds)). Behind it "
                "beyond the spreads: Boundary-Seeking GAN, 20 samples per latent. Not "
                "compared yet, one seed so far: real-valued, binarized at test time.")
    lines = race_section(records, 'mlp')
    assert next(line for line in lines if 'Lowest mean FID' in line) == expected
    summary = race_summary(records, 'mlp')
    assert summary[-1] == expected
    assert summary[2] == ('| sigmoid-adjusted straight-through, DBNs | 2 | 21.00 ± 1.41 | '
                          '0.990 ± 0.000 | 0.50 ± 0.00 | 1.0 | 21.00 ± 1.41 |')


def test_the_equal_time_figure_draws_each_way_s_mean_between_its_seeds(tmp_path):
    # Seed 0 evaluated after 3 epochs, seed 1 after 2 (cut short): the band ends at 2,
    # at the seeds' mean minutes (pace 1 and 2 min per epoch).
    found = [record(0, 20., [50., 30., 20.], [60., 60., 60.]),
             record(1, 24., [70., 40.], [120., 120.])]
    assert fid_band(found) == ([1.5, 3.], [60., 35.], [50., 30.], [70., 40.])
    records = {f'race/mlp/seed{seed}': {'sigmoid_adjusted_dbn': found[seed]}
               for seed in (0, 1)}
    assert race_figures(records, str(tmp_path)) == ['race/mlp_fid_against_minutes.png']
    assert (tmp_path / 'race' / 'mlp_fid_against_minutes.png').stat().st_size > 10000
