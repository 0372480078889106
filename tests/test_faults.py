"""Stopped, killed, crashed and diverging runs: what is kept, and that the resumed run
gives the losses of an uninterrupted one, without gaps or duplicates in its logs."""
import os
import re
import shlex
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import tensorflow as tf

import main
from binarygan.gan import BinaryGAN
from binarygan.stop_signals import STOPPING, StopSignals
from binarygan.logs import CsvLog
from conftest import (ROOT, quick_run_args, read_csv, scalar_and_image_events,
                      write_synthetic_data)

REFERENCE_STEPS = 60
STEPS_PER_EPOCH = 4  # 64 images, batch 16


def run_args(data, exp_root, name, *extra):
    # Small networks for quick checkpoints; stochastic neurons, so that the random state
    # matters; a slope that changes every epoch; enough epochs to be stopped first.
    return quick_run_args(
        data, exp_root, 'preset_g=mlp_bernoulli', 'model.z_dim=16',
        "model.net_g=[('dense', 64, 'bn', 'relu'), ('dense', 784, 'bn', None), "
        "('reshape', (28, 28, 1))]",
        "model.net_d=[('reshape', (784,)), ('dense', 64, None, 'lrelu'), "
        "('dense', 1, None, None)]",
        'train.slope_annealing_rate=1.5', 'train.num_epoch=100000',
        'train.checkpoint_every_steps=2', f'exp.exp_name={name}', *extra)


def logged(exp_dir):
    """The three logs without their timings."""
    return {name: [{k: v for k, v in row.items() if k != 'seconds'}
                   for row in read_csv(exp_dir / f'logs/{name}.csv')]
            for name in ('step', 'batch', 'epoch')}


@pytest.fixture(scope='module')
def reference(tmp_path_factory):
    """(data, logs) of an uninterrupted run of REFERENCE_STEPS steps."""
    root = tmp_path_factory.mktemp('reference')
    data = write_synthetic_data(root)
    assert main.main(run_args(data, root, 'reference',
                              f'train.max_steps={REFERENCE_STEPS}')) == 0
    return data, logged(root / 'reference')


def assert_same_as_reference(exp_dir, reference_logs, steps):
    logs = logged(exp_dir)
    assert [int(row['step']) for row in logs['batch']] == list(range(steps))
    assert logs['batch'] == reference_logs['batch'][:steps]
    assert logs['step'] == [row for row in reference_logs['step'] if int(row['step']) < steps]
    assert logs['epoch'] == reference_logs['epoch'][:steps // STEPS_PER_EPOCH]
    scalars, _ = scalar_and_image_events(exp_dir / 'logs')  # fails on a step written twice
    assert sorted(scalars) == list(range(steps))


def latest_checkpoint(exp_dir):
    return tf.train.latest_checkpoint(str(exp_dir / 'checkpoints'))


def latest_step(exp_dir):
    path = latest_checkpoint(exp_dir)
    return int(path.rsplit('-', 1)[1]) if path else 0


@pytest.mark.parametrize('signum, status', [
    (signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGKILL, -signal.SIGKILL)])
def test_stopped_run_resumes_with_the_same_losses(tmp_path, reference, signum, status):
    data, reference_logs = reference
    exp_dir = tmp_path / 'stopped'
    args = run_args(data, tmp_path, 'stopped', 'train.max_steps=0')
    process = subprocess.Popen([sys.executable, 'main.py', *args], cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 300
        while latest_step(exp_dir) < 4:  # training under way, past a checkpoint
            assert process.poll() is None, process.stderr.read()
            assert time.time() < deadline, "no checkpoint after 300 s"
            time.sleep(0.05)
        process.send_signal(signum)
        _, stderr = process.communicate(timeout=300)
    finally:
        process.kill()
    assert process.returncode == status
    stopped_at = latest_step(exp_dir)
    if signum != signal.SIGKILL:  # the iteration under way was finished and saved
        assert len(read_csv(exp_dir / 'logs/batch.csv')) == stopped_at
        assert stderr.strip().splitlines()[-2] == STOPPING  # said when the signal came
        assert stderr.strip().splitlines()[-1] == (
            f"{signum.name} after step {stopped_at - 1}: training stopped, checkpoint "
            f"{latest_checkpoint(exp_dir)} saved; resume with: "
            f"{shlex.join(['python', 'main.py', *args])}")

    steps = stopped_at + 3
    assert steps <= REFERENCE_STEPS, "stopped too late to compare"
    assert main.main(run_args(data, tmp_path, 'stopped', f'train.max_steps={steps}')) == 0
    assert_same_as_reference(exp_dir, reference_logs, steps)


@pytest.mark.parametrize('signum', [signal.SIGINT, signal.SIGTERM])
def test_first_stop_signal_is_recorded_and_said_at_once_the_second_acts(signum, capfd):
    # To this thread: os.kill may hand the signal to another thread (TensorFlow's), after
    # which Python runs the handler later, not before the next line.
    def send():
        signal.pthread_kill(threading.get_ident(), signum)

    # Python's own SIGINT handler, as in a terminal: a shell starting pytest in the
    # background (`cmd &` without job control) leaves SIGINT ignored, and Python keeps that.
    started_with = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with StopSignals() as stop:
            send()
            assert stop.received == signum
            assert capfd.readouterr().err == STOPPING + '\n'
            if signum == signal.SIGINT:  # Python's own handler again: KeyboardInterrupt
                with pytest.raises(KeyboardInterrupt):
                    send()
        assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, started_with)


def test_log_drops_the_rows_after_the_checkpoint_and_a_row_cut_short(tmp_path):
    path = tmp_path / 'batch.csv'
    # Checkpoint at step 2; the run went on to step 12 and was killed writing its row.
    path.write_text('epoch,step,d_loss\n0,0,1.5\n0,1,2.5\n0,2,3.5\n1,1')
    log = CsvLog(str(path), ('epoch', 'step', 'd_loss'), lambda row: int(row['step']) < 2)
    # On disk at once, before any flush: a run killed now keeps its earlier rows.
    assert path.read_text() == 'epoch,step,d_loss\n0,0,1.5\n0,1,2.5\n'
    log.write(0, 2, 4.5)
    log.close()
    assert path.read_text() == 'epoch,step,d_loss\n0,0,1.5\n0,1,2.5\n0,2,4.5\n'


class CrashWhileSaving(Exception):
    pass


@pytest.mark.parametrize('stage', ['data files', 'index'])
def test_checkpoint_cut_short_leaves_the_previous_one(tmp_path, reference, monkeypatch, stage):
    # tf.train.CheckpointManager writes a checkpoint's data files in ckpt-N_temp/, moves
    # them to ckpt-N.* (MergeV2Checkpoints) and only then replaces the 'checkpoint'
    # index, which names the latest, by writing a temporary file and renaming it.
    from tensorflow.python.checkpoint import checkpoint_management
    from tensorflow.python.ops import gen_io_ops
    module, name = ((gen_io_ops, 'merge_v2_checkpoints') if stage == 'data files' else
                    (checkpoint_management, 'update_checkpoint_state_internal'))
    original = getattr(module, name)

    def crash_at_step_4(*args, **kwargs):
        if 'ckpt-4' in repr(args) + repr(kwargs):
            raise CrashWhileSaving
        return original(*args, **kwargs)

    data, reference_logs = reference
    exp_dir = tmp_path / 'crashed'
    args = run_args(data, tmp_path, 'crashed', 'train.max_steps=6')
    monkeypatch.setattr(module, name, crash_at_step_4)
    with pytest.raises(CrashWhileSaving):
        main.main(args)
    monkeypatch.undo()
    written = os.listdir(exp_dir / 'checkpoints')
    assert ('ckpt-4_temp' in written) == (stage == 'data files')
    assert ('ckpt-4.index' in written) == (stage == 'index')
    assert latest_step(exp_dir) == 2
    assert main.main(args) == 0
    assert_same_as_reference(exp_dir, reference_logs, 6)


def test_nan_loss_stops_training_and_names_the_step(tmp_path, synthetic_data, capsys):
    # Adam moves every weight by about the learning rate: the critic overflows at once.
    assert main.main(quick_run_args(synthetic_data, tmp_path, 'exp.exp_name=nan',
                                    'model.learning_rate=1e30')) == 3
    last = read_csv(tmp_path / 'nan/logs/batch.csv')[-1]
    assert not (np.isfinite(float(last['d_loss'])) and np.isfinite(float(last['g_loss'])))
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert re.fullmatch(
        rf"error: (critic|generator) loss (nan|inf|-inf)( \(critic step \d\))? at step "
        rf"{last['step']} \(epoch 1, batch {last['batch']}\): training stopped before any "
        r"checkpoint; try a lower learning rate: exp_name=<new name> "
        r"model.learning_rate=<lower>", line), line
    assert latest_checkpoint(tmp_path / 'nan') is None


def test_weights_that_overflow_are_never_checkpointed(tmp_path, synthetic_data, capsys):
    # Clipped critic weights keep the losses finite while the generator's overflow.
    assert main.main(quick_run_args(
        synthetic_data, tmp_path, 'exp.exp_name=overflow', 'model.learning_rate=1e30',
        'gan_type=wgan', 'optimizer=rmsprop', 'train.checkpoint_every_steps=1')) == 3
    assert capsys.readouterr().err.strip().splitlines()[-1].startswith('error: ')
    folder = tmp_path / 'overflow/checkpoints'
    for path in tf.train.get_checkpoint_state(str(folder)).all_model_checkpoint_paths:
        reader = tf.train.load_checkpoint(os.path.join(folder, path))
        for key, dtype in reader.get_variable_to_dtype_map().items():
            if dtype.is_floating:
                assert np.isfinite(reader.get_tensor(key)).all(), (path, key)


def test_nan_keeps_the_last_good_checkpoint_to_resume_from(tmp_path, reference, monkeypatch,
                                                           capsys):
    class NanAtStep5(BinaryGAN):
        def iteration_function(self, sampler, most_critic_steps):
            iteration, calls = super().iteration_function(sampler, most_critic_steps), []

            def poisoned(n_critic, batch):
                d_losses, g_loss, penalty = iteration(n_critic, batch)
                calls.append(batch)
                return d_losses, tf.constant(np.nan) if len(calls) == 6 else g_loss, penalty
            return poisoned

    data, reference_logs = reference
    exp_dir = tmp_path / 'nan'
    args = run_args(data, tmp_path, 'nan', 'train.max_steps=8')
    monkeypatch.setattr('binarygan.gan.BinaryGAN', NanAtStep5)
    assert main.main(args) == 3
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        f"error: generator loss nan at step 5 (epoch 2, batch 1): training stopped; the last "
        f"good checkpoint, {exp_dir / 'checkpoints/ckpt-4'}, is kept; to go on from it with a "
        f"lower learning rate: exp_name=<new name> pretrained_dir={exp_dir} "
        "model.learning_rate=<lower>")
    assert latest_step(exp_dir) == 4
    monkeypatch.undo()
    assert main.main(args) == 0
    assert_same_as_reference(exp_dir, reference_logs, 8)
