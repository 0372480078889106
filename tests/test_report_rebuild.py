"""The committed reports are what the committed records give: figs/results.md, the
studies' results.md and the README's tables, rebuilt byte for byte."""
import os
import re
import shutil

import reproduce
from conftest import ROOT
from studies import binarized_weights, binary_activations

FIGS = os.path.join(ROOT, 'figs')


def test_the_reports_rebuild_from_the_records_byte_for_byte(tmp_path):
    figs = tmp_path / 'figs'
    shutil.copytree(os.path.join(FIGS, 'runs'), figs / 'runs')
    for study in ('binary_activations', 'binarized_weights'):
        shutil.copytree(os.path.join(FIGS, 'studies', study, 'runs'),
                        figs / 'studies' / study / 'runs')
    assert reproduce.main(['--report-only', '--figs-dir', str(figs)]) == 0
    for study in (binary_activations, binarized_weights):
        assert study.main(['--report-only', '--figs-dir', str(figs)]) == 0
    for path in ('results.md', 'studies/binary_activations/results.md',
                 'studies/binarized_weights/results.md'):
        with open(os.path.join(FIGS, path), 'rb') as f:
            assert (figs / path).read_bytes() == f.read(), path

    with open(os.path.join(ROOT, 'README.md')) as f:
        readme = f.read()
    tables = re.split(r'^## .*$', (figs / 'readme_tables.md').read_text(), flags=re.M)[1:]
    assert len(tables) == 4
    for table in tables:
        assert table.strip() in readme, table
