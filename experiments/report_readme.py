"""The README's tables of results, built from the records as results.md is (a test checks
that the README shows them as built): figs/readme_tables.md."""
from binarygan.configure import PROTOCOLS
from binarygan.metrics import notch_ratio
from experiments.grid import ABLATION_CELLS, RUNS
from experiments.report_race import race_summary

ABLATION_WORDS = {('batch', 'annealed'): ('batch (`paper`)', '×1.1 per epoch (`paper`)'),
                  ('batch', 'fixed'): ('batch', 'fixed at 1'),
                  ('affine', 'annealed'): ('affine', '×1.1 per epoch'),
                  ('affine', 'fixed'): ('affine (`original_code`)', 'fixed at 1 (`original_code`)')}


def cell(value, form):
    return '—' if value is None else format(value, form)


def results_table(records):
    """The paper's grid under both protocols: FID, class entropy, isolated on-pixels."""
    runs = {protocol: records.get(protocol, {}) for protocol in PROTOCOLS}
    test_pixels = next((record['metrics']['data_isolated_pixels']
                        for folder in records.values() for record in folder.values()
                        if 'data_isolated_pixels' in record['metrics']), None)
    both = ' / '.join(f'`{p}`' for p in PROTOCOLS)
    lines = [f"| run | {' | '.join(f'FID `{p}`' for p in PROTOCOLS)} | class entropy {both} | "
             f"isolated on-pixels per image {both} (test images {cell(test_pixels, '.3f')}) |",
             "|---|---|---|---|---|"]
    for name in RUNS:
        found = [runs[protocol].get(name) for protocol in PROTOCOLS]
        if not all(found):
            continue
        for variant in found[0]['metrics']['variants']:
            metrics = [record['metrics']['variants'][variant] for record in found]
            label = name if variant == 'binary' else f"{name} ({variant})"
            fids = [f"{m['fid']:.2f}" + (' †' if record.get('note') else '')
                    for m, record in zip(metrics, found)]
            lines.append(f"| {label} | {' | '.join(fids)} | "
                         + ' / '.join(f"{m['class_entropy']:.3f}" for m in metrics) + " | "
                         + ' / '.join(cell(m.get('isolated_pixels'), '.2f') for m in metrics)
                         + " |")
    return lines


def ablation_table(records, name='mlp_mlp_round'):
    """Batch normalization x slope for one run, seed 0."""
    lines = ["| batch normalization | slope | FID | isolated on-pixels / image | components / "
             "image | preact. in [0.4, 0.6] | in [0, 0.1] ∪ [0.9, 1] | notch at 0.5 |",
             "|---|---|---|---|---|---|---|---|"]
    for key, (folder, _) in ABLATION_CELLS.items():
        record = records.get(folder, {}).get(name)
        if record is None:
            continue
        m, shares = record['metrics']['variants']['binary'], record['metrics']['preactivated']
        lines.append(f"| {' | '.join(ABLATION_WORDS[key])} | {m['fid']:.2f} | "
                     f"{m['isolated_pixels']:.2f} | {m['components']:.2f} | "
                     f"{shares['share_0.4_to_0.6']:.1%} | "
                     f"{shares['share_below_0.1_or_above_0.9']:.1%} | "
                     f"{notch_ratio(record['histogram']):.2f} |".replace('%', ' %'))
    return lines


def readme_tables(records):
    """figs/readme_tables.md: each table the README shows, as built from the records."""
    tables = [("The paper's grid", results_table(records)),
              ("The ablation (MLP, DBNs, WGAN-GP, seed 0)", ablation_table(records)),
              ("The race on the MLP", race_summary(records, 'mlp')),
              ("The race on the CNN", race_summary(records, 'cnn'))]
    return '\n'.join(line for title, table in tables
                     for line in [f"## {title}", "", *table, ""])
