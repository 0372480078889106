"""The experiment folder: one run at a time, whatever happened to the one before, and
a finished experiment left as it is."""
import shlex
import signal
import socket
import subprocess
import sys
import time

import tensorflow as tf

import main
from binarygan.lock import HOLDER_FILE
from conftest import ROOT, quick_run_args, refused, snapshot


def test_second_run_is_refused_and_a_killed_run_leaves_no_lock(capsys, tmp_path,
                                                                synthetic_data):
    exp_dir = tmp_path / 'busy'
    args = quick_run_args(synthetic_data, tmp_path, 'exp.exp_name=busy', 'train.max_steps=0',
                          'train.num_epoch=100000', 'train.checkpoint_every_steps=2')
    process = subprocess.Popen([sys.executable, 'main.py', *args], cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 300
        while not (exp_dir / 'checkpoints/checkpoint').exists():  # training under way
            assert process.poll() is None, process.stderr.read()
            assert time.time() < deadline, "no checkpoint after 300 s"
            time.sleep(0.05)
        process.send_signal(signal.SIGSTOP)  # its files hold still while they are compared
        line = refused(capsys, args, tmp_path)
        assert line.startswith(f"error: experiment {exp_dir} is in use by process {process.pid} "
                               f"on host {socket.gethostname()} (started 20"), line
        assert line.endswith("): wait for it to end or stop it, or give another exp_name=... "
                             "to start another experiment")
        process.kill()  # kill -9 while it holds the folder
        process.wait()
    finally:
        process.kill()
    assert (exp_dir / HOLDER_FILE).exists()  # left by the killed run, and no obstacle
    step = int(tf.train.latest_checkpoint(str(exp_dir / 'checkpoints')).rsplit('-', 1)[1])
    assert main.main(args + [f'train.max_steps={step + 2}']) == 0
    assert f"Done: step {step + 2}," in capsys.readouterr().out
    assert not (exp_dir / HOLDER_FILE).exists()


def test_run_refused_by_a_holder_that_does_not_say_who_it_is(capsys, tmp_path, synthetic_data):
    exp_dir = tmp_path / 'held'
    exp_dir.mkdir()
    gone = subprocess.run([sys.executable, '-c', 'import os; print(os.getpid())'],
                          capture_output=True, text=True).stdout.strip()
    (exp_dir / HOLDER_FILE).write_text(  # left by a run that was killed
        f'{{"pid": {gone}, "host": "{socket.gethostname()}", "started": "earlier"}}')
    holder = subprocess.Popen(
        [sys.executable, '-c', 'import fcntl, os, sys, time\n'
         'fcntl.flock(os.open(sys.argv[1], os.O_RDONLY), fcntl.LOCK_EX)\n'
         'print("locked", flush=True)\ntime.sleep(300)', str(exp_dir)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == 'locked\n'
        line = refused(capsys, quick_run_args(synthetic_data, tmp_path, 'exp.exp_name=held'),
                            tmp_path)
    finally:
        holder.kill()
        holder.wait()
    assert line.startswith(f"error: experiment {exp_dir} is in use by another process: "), line


def rerun_output(capsys, args, exp_root):
    """The lines ``main(args)`` prints, once it is checked to return 0 and change no file."""
    before = snapshot(exp_root)
    capsys.readouterr()
    assert main.main(args) == 0
    assert snapshot(exp_root) == before
    return capsys.readouterr().out.strip().splitlines()


def test_finished_experiment_is_left_as_it_is(capsys, tmp_path, synthetic_data):
    exp_root = tmp_path / 'my runs'  # a space in the path: the Done line quotes it
    args = quick_run_args(synthetic_data, exp_root, 'exp.exp_name=done')  # train.max_steps=3
    assert main.main(args) == 0
    assert f"tensorboard --logdir '{exp_root / 'done/logs'}')" in capsys.readouterr().out
    longer = [arg for arg in args if not arg.startswith('train.max_steps=')]
    assert rerun_output(capsys, args, exp_root) == [
        f"experiment {exp_root / 'done'} is finished (epoch 0 of 20, step 3 of 3); to train "
        f"it longer: {shlex.join(['python', 'main.py', *longer, 'train.max_steps=6'])}"]

    # Finished by its epochs (64 images, batch 16: 4 steps an epoch)
    args = longer + ['train.num_epoch=1', 'train.max_steps=0']
    assert main.main(args) == 0
    longer = [arg for arg in args if not arg.startswith('train.num_epoch=')]
    assert rerun_output(capsys, args, exp_root) == [
        f"experiment {exp_root / 'done'} is finished (epoch 1 of 1, step 4); to train it "
        f"longer: {shlex.join(['python', 'main.py', *longer, 'train.num_epoch=11'])}"]


def test_new_experiment_created_by_another_run_meanwhile(capsys, tmp_path, synthetic_data,
                                                         monkeypatch):
    from binarygan import train
    load = train.load_training_data

    def load_while_another_run_creates_the_folder(*args):
        (tmp_path / 'raced').mkdir()
        return load(*args)

    monkeypatch.setattr(train, 'load_training_data', load_while_another_run_creates_the_folder)
    capsys.readouterr()
    assert main.main(quick_run_args(synthetic_data, tmp_path, 'exp.exp_name=raced')) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        f"error: experiment {tmp_path / 'raced'} was created by another run while this one "
        "was starting: rerun the command to resume it"]
    assert snapshot(tmp_path / 'raced') == {}  # nothing of this run's in it
