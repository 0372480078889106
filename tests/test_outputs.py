"""What a run shows and leaves behind: progress, TensorBoard events, loss plot, animation."""
import io
import subprocess
import sys

import imageio.v2 as imageio
import numpy as np
import pytest

import main
from binarygan import progress
from binarygan.progress import Progress
from conftest import ROOT, quick_run_args, read_csv, scalar_and_image_events


def test_end_of_training_artefacts_and_tensorboard_events(tmp_path, synthetic_data, capsys):
    # 64 images / batch 16: 4 steps per epoch, 8 in all; sample grids at steps 0, 2, ... 8.
    assert main.main(quick_run_args(synthetic_data, tmp_path, 'exp.exp_name=run',
                                    'train.num_epoch=2', 'train.max_steps=0')) == 0
    exp_dir = tmp_path / 'run'
    out = capsys.readouterr().out.strip().splitlines()
    assert out[-1] == (f"Done: step 8, epoch 2. In {exp_dir}: losses.png, samples.gif, samples/, "
                       f"logs/ (CSV; TensorBoard: tensorboard --logdir {exp_dir / 'logs'}) "
                       "and checkpoints/")
    assert len([line for line in out if line.startswith('epoch ')]) == 2  # not a terminal

    plot = imageio.imread(exp_dir / 'losses.png')
    assert plot.shape[:2] == (600, 800) and plot.std() > 0

    frames = imageio.mimread(exp_dir / 'samples.gif')
    grids = [imageio.imread(exp_dir / f'samples/step_{s:06d}_binary.png') for s in range(0, 9, 2)]
    # Consecutive equal grids become one frame; the last one is held longer.
    distinct = 1 + sum(not np.array_equal(a, b) for a, b in zip(grids, grids[1:]))
    assert len(frames) == distinct
    np.testing.assert_array_equal(frames[0][..., 0], grids[0])
    np.testing.assert_array_equal(frames[-1][..., 0], grids[-1])

    scalars, images = scalar_and_image_events(exp_dir / 'logs')
    assert sorted(scalars) == list(range(8))
    for row in read_csv(exp_dir / 'logs/batch.csv'):
        logged = scalars[int(row['step'])]
        assert set(logged) == {'d_loss', 'g_loss', 'gradient_penalty', 'slope'}
        for tag, value in logged.items():
            assert value == pytest.approx(float(row[tag]), rel=1e-5)
    assert images == {step: {'samples/binary': (231, 231), 'samples/preactivated': (231, 231)}
                      for step in range(0, 9, 2)}


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_on_a_terminal(monkeypatch):
    clock = [1000.]
    monkeypatch.setattr(progress.time, 'time', lambda: clock[0])
    terminal = Terminal()
    bar = Progress(False, 3, 100, terminal)
    bar.start_epoch(0)
    clock[0] += 10.
    bar.iteration(0, 49, 49, 0.2, -1.5, 2.25)
    assert terminal.getvalue() == (
        "\repoch 1/3 [##########..........] 50/100 |   5.0 it/s | ETA 0:10 | "
        "d_loss   -1.5000 | g_loss    2.2500 ")
    clock[0] += 0.1  # too soon to redraw
    bar.iteration(0, 50, 50, 0.2, -1.5, 2.25)
    assert terminal.getvalue().count('\r') == 1
    bar.epoch(0, 100, 20., -1.5, 2.25, 1.)
    assert terminal.getvalue().endswith(
        "\r\033[K" "epoch   1/3 | step    100 |    20.0 s | d_loss    -1.5000 | "
        "g_loss     2.2500 | slope 1.0000\n")


@pytest.mark.parametrize('verbose, lines', [(False, 1), (True, 3)])
def test_progress_without_a_terminal(verbose, lines):
    log = io.StringIO()
    quiet = Progress(verbose, 3, 2, log)
    quiet.start_epoch(0)
    quiet.iteration(0, 0, 0, 0.2, -1.5, 2.25)
    quiet.iteration(0, 1, 1, 0.2, -1.5, 2.25)
    quiet.epoch(0, 2, 20., -1.5, 2.25, 1.)
    assert len(log.getvalue().splitlines()) == lines and '\r' not in log.getvalue()


def test_tensorflow_starts_quietly_without_verbose(tmp_path, synthetic_data):
    done = subprocess.run([sys.executable, 'main.py', *quick_run_args(
        synthetic_data, tmp_path, 'exp.exp_name=quiet')], cwd=ROOT, capture_output=True,
        text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1].startswith('Done: step 3')
    chatter = [line for line in done.stderr.splitlines()
               if any(word in line for word in ('cuda', 'oneDNN', 'absl', 'I0000', 'E0000',
                                                'W0000'))]
    assert chatter == []
