"""What a run shows and leaves behind: progress, TensorBoard events, loss plot, animation."""
import io
import subprocess
import sys

import imageio.v2 as imageio
import numpy as np
import pytest

import main
from binarygan import progress
from binarygan.progress import Eta, Progress
from binarygan.train import critic_steps_before, critic_steps_for
from conftest import ROOT, quick_run_args, read_csv, scalar_and_image_events


def test_end_of_training_artefacts_and_tensorboard_events(tmp_path, synthetic_data, capsys):
    # 64 images / batch 16: 4 steps per epoch, 8 in all; sample grids at steps 0, 2, ... 8.
    assert main.main(quick_run_args(synthetic_data, tmp_path, 'exp.exp_name=run',
                                    'train.num_epoch=2', 'train.max_steps=0')) == 0
    exp_dir = tmp_path / 'run'
    out = capsys.readouterr().out.strip().splitlines()
    assert out[-1] == (f"Done: step 8, epoch 2/2. In {exp_dir}: losses.png, samples.gif, "
                       f"samples/, logs/ (CSV; TensorBoard: tensorboard --logdir "
                       f"{exp_dir / 'logs'}) and checkpoints/")
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
        assert set(logged) == {'d_loss', 'g_loss', 'gradient_penalty', 'slope', 'g_grad_norm'}
        for tag, value in logged.items():
            assert value == pytest.approx(float(row[tag]), rel=1e-5)
    assert images == {step: {'samples/binary': (231, 231), 'samples/preactivated': (231, 231)}
                      for step in range(0, 9, 2)}


PAPER_SCHEDULE = {'n_critic': 5, 'n_critic_warmup': 100, 'warmup_steps': 25,
                  'n_critic_warmup_every': 500}
# 10 critic steps before generator steps 0, 1, 100 and 200, else 2.
SMALL_SCHEDULE = {'n_critic': 2, 'n_critic_warmup': 10, 'warmup_steps': 2,
                  'n_critic_warmup_every': 100}


@pytest.mark.parametrize('schedule', [PAPER_SCHEDULE, SMALL_SCHEDULE,
                                      {**SMALL_SCHEDULE, 'warmup_steps': 0}])
def test_critic_steps_before_a_step_sum_the_schedule(schedule):
    total = 0
    for step in range(1200):
        assert critic_steps_before(step, schedule) == total
        total += critic_steps_for(step, schedule)


def test_eta_from_seconds_per_critic_step_and_per_generator_step():
    a, b, last_step = 0.01, 0.05, 2000  # seconds per critic step, per generator step
    eta = Eta(last_step, lambda step: critic_steps_before(step, PAPER_SCHEDULE))
    assert eta.seconds_left(0) is None
    for step in range(25):  # the warm-up: 100 critic steps each
        eta.add(critic_steps_for(step, PAPER_SCHEDULE), a * 100 + b)
    # One value of n_critic seen: the generator step is taken to cost a critic step.
    critic_left = critic_steps_before(last_step, PAPER_SCHEDULE) - 2500
    assert eta.seconds_left(25) == pytest.approx((a * 100 + b) / 101 * (critic_left + 1975))
    for step in range(25, 30):
        eta.add(critic_steps_for(step, PAPER_SCHEDULE), a * 5 + b)
    exact = sum(a * critic_steps_for(step, PAPER_SCHEDULE) + b for step in range(30, last_step))
    assert eta.seconds_left(30) == pytest.approx(exact)
    assert eta.seconds_left(last_step) == 0.


class Terminal(io.StringIO):
    def isatty(self):
        return True


def small_schedule_progress(verbose, stream):
    """3 epochs of 100 steps under SMALL_SCHEDULE."""
    return Progress(verbose, 3, 100, 300, lambda step: critic_steps_before(step, SMALL_SCHEDULE),
                    stream)


def test_progress_bar_on_a_terminal(monkeypatch):
    clock = [1000.]
    monkeypatch.setattr(progress.time, 'time', lambda: clock[0])
    terminal = Terminal()
    bar = small_schedule_progress(False, terminal)
    clock[0] += 5.  # tracing and compiling: not measured
    bar.iteration(0, 10, 5., -1.5, 2.25)
    assert terminal.getvalue() == (
        "\r[....................] step 1/300 | epoch 1/3 | ETA ? | d_loss   -1.5000 | "
        "g_loss    2.2500 ")
    clock[0] += 0.875  # 1/16 s per critic step, 1/4 s per generator step
    bar.iteration(1, 10, 0.8, -1.5, 2.25)
    clock[0] += 3.  # compiling for 2 critic steps: not measured
    bar.iteration(2, 2, 3., -1.5, 2.25)
    clock[0] += 0.375
    bar.iteration(3, 2, 0.3, -1.5, 2.25)  # too soon to redraw
    assert terminal.getvalue().count('\r') == 3
    clock[0] += 0.375
    bar.iteration(4, 2, 0.3, -1.5, 2.25)
    # Steps 5 to 299: 295 generator steps and 293 * 2 + 2 * 10 critic steps.
    assert 295 / 4 + 606 / 16 == 111.625
    assert terminal.getvalue().endswith(
        "\r[....................] step 5/300 | epoch 1/3 | ETA 1:51 | d_loss   -1.5000 | "
        "g_loss    2.2500 ")
    bar.epoch(0, 100, 20., -1.5, 2.25, 1.)
    assert terminal.getvalue().endswith(
        "\r\033[K" "epoch   1/3 | step    100 |    20.0 s | d_loss    -1.5000 | "
        "g_loss     2.2500 | slope 1.0000\n")


def test_progress_without_a_terminal_a_line_a_minute(monkeypatch):
    clock = [1000.]
    monkeypatch.setattr(progress.time, 'time', lambda: clock[0])
    log = io.StringIO()
    quiet = small_schedule_progress(False, log)
    for step in range(7):
        clock[0] += 20.
        quiet.iteration(step, critic_steps_for(step, SMALL_SCHEDULE), 19., -1.5, 2.25)
    # At step 3, only step 1 measured (10 critic steps in 20 s): 20 / 11 s per critic step
    # and per generator step; 297 generator and 295 * 2 + 2 * 10 critic steps left.
    # At step 6, steps 3 to 5 too (2 critic steps in 20 s): 20 s per generator step.
    assert log.getvalue() == (
        "step 3/300 | epoch 1/3, batch 3/100 | 1:00 elapsed, ETA 27:29 | "
        "d_loss    -1.5000 | g_loss     2.2500\n"
        "step 6/300 | epoch 1/3, batch 6/100 | 2:00 elapsed, ETA 1:38:00 | "
        "d_loss    -1.5000 | g_loss     2.2500\n")


def test_progress_verbose_a_line_per_iteration_and_epochs_counted_from_one(monkeypatch):
    clock = [1000.]
    monkeypatch.setattr(progress.time, 'time', lambda: clock[0])
    log = Terminal()  # verbose: lines even on a terminal
    loud = Progress(True, 2, 2, 3, lambda step: 5 * step, log)
    for step in range(3):
        clock[0] += 12.
        loud.iteration(step, 5, 0.2, -1.5, 2.25)
        if step == 1:
            loud.epoch(0, 2, 20., -1.5, 2.25, 1.)
    assert log.getvalue().splitlines() == [
        "step 1/3 | epoch 1/2, batch 1/2 |   200.0 ms | d_loss    -1.5000 | g_loss     2.2500"
        " | ETA ?",
        "step 2/3 | epoch 1/2 |   200.0 ms | d_loss    -1.5000 | g_loss     2.2500 | ETA 0:12",
        "epoch   1/2 | step      2 |    20.0 s | d_loss    -1.5000 | g_loss     2.2500 "
        "| slope 1.0000",
        "step 3/3 | epoch 2/2, batch 1/2 |   200.0 ms | d_loss    -1.5000 | g_loss     2.2500"
        " | ETA 0:00"]
    assert loud.position(4) == 'epoch 2/2' and loud.position(0) == 'epoch 1/2, batch 0/2'


def test_tensorflow_starts_quietly_without_verbose(tmp_path, synthetic_data):
    done = subprocess.run([sys.executable, 'main.py', *quick_run_args(
        synthetic_data, tmp_path, 'exp.exp_name=quiet')], cwd=ROOT, capture_output=True,
        text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1].startswith('Done: step 3, epoch 1/20, batch 3/4. In ')
    chatter = [line for line in done.stderr.splitlines()
               if any(word in line for word in ('cuda', 'oneDNN', 'absl', 'I0000', 'E0000',
                                                'W0000'))]
    assert chatter == []
