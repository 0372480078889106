"""The grid on Ray (reproduce.py --ray, on_ray.py) on a two-run grid with tiny settings:
the same losses and report rows as the sequential grid, a killed worker's run retried
and resumed, nothing finished redone, failures reported and not retried, and the
one-line refusals."""
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time

import pytest
import ray

import reproduce
from experiments import grid, on_ray
from experiments.report import RUN_TABLE_HEAD
from conftest import ROOT, read_csv, write_synthetic_data
from test_reproduce import RUNS, grid_args, modification_times

EPOCHS = 2
# A checkpoint every 2 steps (an epoch is 4): a run can be killed in the middle of its
# first epoch, after a checkpoint.
EXTRA = ['train.checkpoint_every_steps=2']


def ray_grid_args(tmp_path, data, classifier_dir, runs=RUNS):
    return grid_args(tmp_path, data, classifier_dir, EPOCHS, runs) + EXTRA


def overrides_of(args):
    """The key=value arguments of reproduce.py's ``args``."""
    return [arg for arg in args if '=' in arg and not arg.startswith('--')]


def without_seconds(rows):
    return [{key: value for key, value in row.items() if key != 'seconds'} for row in rows]


def logged(exp_dir):
    return {name: without_seconds(read_csv(os.path.join(exp_dir, 'logs', f'{name}.csv')))
            for name in ('batch', 'epoch')}


def run_table_rows(figs):
    """The rows of the runs in results.md's run table, without their wall time (the one
    cell that depends on how busy the machine was)."""
    head = RUN_TABLE_HEAD[0].strip('|').split('|')
    wall_time = [cell.strip() for cell in head].index('wall time (h)')
    rows = [line.strip('|').split('|') for line in (figs / 'results.md').read_text()
            .splitlines() if line.startswith(tuple(f'| {name} | I-II |'
                                                   for name in RUNS.split(',')))]
    return [cells[:wall_time] + cells[wall_time + 1:] for cells in rows]


@pytest.fixture(scope='module')
def sequential(tmp_path_factory, classifier_dir):
    """(root, data) of the two-run grid trained and reported by the sequential runner."""
    root = tmp_path_factory.mktemp('sequential')
    data = write_synthetic_data(str(root))
    assert reproduce.main(ray_grid_args(root, data, classifier_dir)) == 0
    return root, data


@pytest.fixture(scope='module')
def local_ray():
    """A local Ray instance of 2 CPUs in this process, for the tests that call on_ray's
    functions (reproduce.py --ray starts and stops its own). Recent Rays end a lost
    worker's whole process group; not this one, so that a killed worker's main.py has to
    end by itself (gan_run.die_with_parent), as under Rays that do not."""
    # Ray's driver installs its own SIGINT and SIGTERM handlers; the tests after these
    # (and their StopSignals) expect Python's.
    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    ray.init(address='local', num_cpus=2, include_dashboard=False,
             object_store_memory=on_ray.LOCAL_OBJECT_STORE, logging_level=logging.WARNING,
             _system_config={'process_group_cleanup_enabled': False})
    yield ray
    ray.shutdown()
    for s, handler in handlers.items():
        signal.signal(s, handler)


def kill_main_py_after_its_first_checkpoint(exp_dir, killed, timeout=600):
    """Kill -9 the main.py training ``exp_dir`` (as the out-of-memory killer would) once
    it has saved a checkpoint; ``killed['pid']`` says which."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        found = pid_and_parent(exp_dir)
        if found and (exp_dir / 'checkpoints/checkpoint').exists():
            os.kill(found[0], signal.SIGKILL)
            killed['pid'] = found[0]
            return
        time.sleep(0.05)


def test_grid_on_ray_retries_a_killed_run_and_gives_the_sequential_grid_s_numbers(
        tmp_path, sequential, classifier_dir):
    """The command as a user gives it (it starts a local Ray of the machine's cores and
    stops it; its workers find the repository's modules), one run's main.py killed from
    outside after its first checkpoint: retried, it resumes to the losses of the
    sequential grid; the report states the runs' epochs and samples; the evaluation
    prints no TensorFlow start-up lines."""
    root, data = sequential
    name, killed = 'mlp_mlp_bernoulli', {}
    killer = threading.Thread(target=kill_main_py_after_its_first_checkpoint,
                              args=(tmp_path / 'exp/paper' / name, killed))
    killer.start()
    done = subprocess.run([sys.executable, os.path.join(ROOT, 'reproduce.py'), '--ray',
                           *ray_grid_args(tmp_path, data, classifier_dir)],
                          capture_output=True, text=True, cwd=tmp_path, timeout=1200)
    killer.join()
    assert done.returncode == 0, done.stderr[-3000:]
    assert 'pid' in killed
    lines = [line for line in done.stdout.splitlines() if line.startswith('ray: ')]
    assert (f'ray: [paper/{name}] retried on ' in done.stdout and '(attempt 2): main.py was '
            'killed by SIGKILL; it resumes from its latest checkpoint' in done.stdout)
    for run in RUNS.split(','):
        assert f'ray: [paper/{run}] started on ' in done.stdout
        assert any(line.startswith(f'ray: [paper/{run}] finished on ') for line in lines)
        assert logged(tmp_path / 'exp/paper' / run) == logged(root / 'exp/paper' / run)
        assert metrics_of(tmp_path, run) == metrics_of(root, run)
    assert lines[-1] == 'ray: 2 runs: 2 finished, 0 diverged, 0 failed'
    assert 'Report: ' in done.stdout
    rows = run_table_rows(tmp_path / 'figs')
    assert len(rows) == 2 and rows == run_table_rows(root / 'figs')
    assert (f"Every run trained {EPOCHS} epochs on binarized MNIST (70,000 images) and was "
            "evaluated on 300 samples") in (tmp_path / 'figs/results.md').read_text()
    for noise in ('oneDNN', 'cuInit', 'absl', 'cuda'):
        assert noise not in done.stdout + done.stderr


def metrics_of(root, name):
    return json.loads((root / 'figs/runs/paper' / f'{name}.json').read_text())['metrics']


def pid_and_parent(exp_dir):
    """(pid of the main.py training ``exp_dir``, pid of its parent), from the holder file
    that the run writes; None before."""
    try:
        with open(os.path.join(exp_dir, 'running.json')) as f:
            pid = json.load(f)['pid']
        with open(f'/proc/{pid}/cmdline', 'rb') as f:
            command = f.read().decode()
        with open(f'/proc/{pid}/stat') as f:
            parent = int(f.read().rsplit(')', 1)[1].split()[1])
    except (OSError, ValueError, KeyError):
        return None
    return (pid, parent) if str(exp_dir.parent) in command else None


def gone(pid):
    try:
        with open(f'/proc/{pid}/stat') as f:
            return f.read().rsplit(')', 1)[1].split()[0] == 'Z'
    except OSError:
        return True


def test_a_run_s_child_process_dies_with_the_process_that_started_it():
    # A parent that starts a long child as train_run starts main.py, then is killed outright.
    code = ("import subprocess, sys, time; from experiments import gan_run; "
            "child = subprocess.Popen([sys.executable, "
            "'-c', 'import time; time.sleep(300)'], preexec_fn=gan_run.die_with_parent()); "
            "print(child.pid, flush=True); time.sleep(300)")
    parent = subprocess.Popen([sys.executable, '-c', code], cwd=ROOT, stdout=subprocess.PIPE,
                              text=True)
    child = int(parent.stdout.readline())
    try:
        parent.kill()
        parent.wait()
        deadline = time.time() + 30
        while not gone(child) and time.time() < deadline:
            time.sleep(0.05)
        assert gone(child)
    finally:
        if not gone(child):  # the sleeping child of our own parent, left behind
            os.kill(child, signal.SIGKILL)


def test_a_killed_worker_is_retried_and_resumes_with_the_losses_of_an_uninterrupted_run(
        tmp_path, sequential, classifier_dir, local_ray, capfd):
    root, data = sequential
    name = 'mlp_mlp_bernoulli'  # stochastic neurons: the random state must resume too
    args = ray_grid_args(tmp_path, data, classifier_dir, runs=name)
    exp_dir = tmp_path / 'exp/paper' / name
    killed = {}

    def kill_the_worker_after_the_first_checkpoint():
        deadline = time.time() + 600
        while time.time() < deadline:
            found = pid_and_parent(exp_dir)
            if found and (exp_dir / 'checkpoints/checkpoint').exists():
                child, worker = found
                with open(f'/proc/{worker}/cmdline', 'rb') as f:
                    killed['worker_command'] = f.read().decode()
                if killed['worker_command'].startswith('ray::'):  # our run's Ray worker
                    os.kill(worker, signal.SIGKILL)
                    killed['at'] = time.time()
                    while not gone(child) and time.time() < killed['at'] + 30:
                        time.sleep(0.05)
                    killed['child_gone'] = gone(child)
                return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_the_worker_after_the_first_checkpoint)
    killer.start()
    status = on_ray.run_runs(ray, grid.GROUPS['grid'].runs('paper', [name]), 1,
                               str(tmp_path / 'exp'), str(tmp_path / 'figs'), EPOCHS, 300,
                               overrides_of(args))
    killer.join()
    out = capfd.readouterr().out
    assert status == 0
    assert 'at' in killed, killed
    # main.py died with its worker (PR_SET_PDEATHSIG) and so left its lock to the retry.
    assert killed['child_gone']
    assert f'ray: [paper/{name}] retried on ' in out and '(attempt 2)' in out
    finished = [line for line in out.splitlines()
                if line.startswith(f'ray: [paper/{name}] finished on ')]
    assert len(finished) == 1 and finished[0].endswith('(resumed in epoch 1)'), out
    assert logged(exp_dir) == logged(root / 'exp/paper' / name)
    assert metrics_of(tmp_path, name) == metrics_of(root, name)
    record = json.loads((tmp_path / 'figs/runs/paper' / f'{name}.json').read_text())
    assert record['epochs'] == EPOCHS and [row['epoch'] for row in record['along_training']] \
        == ['1', '2']


def test_finished_runs_are_not_redone(tmp_path, sequential, classifier_dir, local_ray, capfd):
    root, data = sequential
    shutil.copytree(root / 'exp', tmp_path / 'exp')  # modification times kept
    names = RUNS.split(',')
    before = {name: {folder: modification_times(tmp_path / 'exp/paper' / name / folder)
                     for folder in ('checkpoints', 'eval', 'logs')} for name in names}
    capfd.readouterr()
    status = on_ray.run_runs(ray, grid.GROUPS['grid'].runs('paper', names), 1,
                               str(tmp_path / 'exp'), str(tmp_path / 'figs'), EPOCHS, 300,
                               overrides_of(ray_grid_args(tmp_path, data, classifier_dir)))
    out = capfd.readouterr().out
    assert status == 0
    for name in names:
        assert any(line.startswith(f'ray: [paper/{name}] finished on ') and line.endswith(
            f'(already trained for {EPOCHS} epochs: skipped)') for line in out.splitlines())
        assert {folder: modification_times(tmp_path / 'exp/paper' / name / folder)
                for folder in ('checkpoints', 'eval', 'logs')} == before[name]
        assert metrics_of(tmp_path, name) == metrics_of(root, name)
    assert out.splitlines()[-1] == 'ray: 2 runs: 2 finished, 0 diverged, 0 failed'


def test_failed_and_diverged_runs_are_reported_and_not_retried(
        tmp_path, sequential, classifier_dir, local_ray, capfd):
    _, data = sequential
    runs = [('paper', 'mlp_mlp_round', ['protocol=paper', 'model.learning_rate=1e30']),
            ('paper', 'mlp_mlp_bernoulli', ['protocol=paper', 'model.no_such_setting=1'])]
    status = on_ray.run_runs(ray, runs, 1, str(tmp_path / 'exp'), str(tmp_path / 'figs'),
                               EPOCHS, 300,
                               overrides_of(ray_grid_args(tmp_path, data, classifier_dir)))
    lines = [line for line in capfd.readouterr().out.splitlines() if line.startswith('ray: ')]
    assert status == 2
    assert 'ray: [paper/mlp_mlp_round] diverged: a loss became NaN or infinite; not ' \
        'retried, its last good checkpoint is kept' in lines
    assert 'ray: [paper/mlp_mlp_bernoulli] failed: main.py stopped with status 2; run the ' \
        'same command again to go on' in lines
    assert not [line for line in lines if 'retried' in line and 'not retried' not in line]
    assert lines[-1] == 'ray: 2 runs: 0 finished, 1 diverged, 1 failed'
    assert not (tmp_path / 'figs').exists()


def test_a_request_no_node_can_meet_is_refused(local_ray):
    with pytest.raises(on_ray.Refused, match=r"a run asks for 3 CPUs and 0 GPUs, and no node "
                       r"has them \(the nodes have 2 CPUs and 0 GPUs\)"):
        on_ray.refuse_unmet(ray, {'num_cpus': 3})
    with pytest.raises(on_ray.Refused, match="a run asks for 0 CPUs and 1 GPUs"):
        on_ray.refuse_unmet(ray, {'num_gpus': 1, 'num_cpus': 0})
    on_ray.refuse_unmet(ray, {'num_cpus': 2})


def test_every_node_must_see_the_experiment_root(tmp_path, local_ray):
    on_ray.check_shared_root(ray, str(tmp_path / 'exp'))  # one node: it sees it
    assert os.listdir(tmp_path / 'exp') == []  # and the marker is gone
    marker = tmp_path / 'marker'
    marker.write_text('a token')
    unseen = on_ray.nodes_not_seeing(ray, str(marker), 'another token')
    assert len(unseen) == 1 and unseen[0].endswith(': another folder')
    unseen = on_ray.nodes_not_seeing(ray, str(tmp_path / 'missing'), 'a token')
    assert len(unseen) == 1 and unseen[0].endswith(': unreadable (No such file or directory)')


def one_error_line(capsys, argv, tmp_path):
    capsys.readouterr()
    assert reproduce.main(argv) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('error: '), captured
    assert not os.listdir(tmp_path)
    return lines[0]


def test_ray_missing_or_unreachable_is_one_line_exit_2(tmp_path, monkeypatch, capsys):
    argv = ['--runs', 'mlp_mlp_round', '--exp-root', str(tmp_path / 'exp'),
            '--figs-dir', str(tmp_path / 'figs')]
    start = time.time()
    assert one_error_line(capsys, ['--ray', '127.0.0.1:1'] + argv, tmp_path).startswith(
        'error: cannot reach a Ray cluster at 127.0.0.1:1: Connection refused; ')
    assert time.time() - start < 30
    assert one_error_line(capsys, ['--ray', 'nowhere'] + argv, tmp_path) == (
        "error: --ray nowhere: give the cluster's address as HOST:PORT, e.g. the head's "
        "HEAD:6379 (docs/ray.md)")
    # More CPUs than the machine has: Ray would wait for ever.
    assert one_error_line(capsys, ['--ray', '--cpus-per-run', '99'] + argv, tmp_path) == (
        f"error: --cpus-per-run 99: this machine has {os.cpu_count()} CPUs")
    monkeypatch.setitem(sys.modules, 'ray', None)  # as if not installed: import fails
    assert one_error_line(capsys, ['--ray'] + argv, tmp_path) == (
        "error: --ray needs the ray package: pip install -r requirements-ray.txt")


def test_the_sequential_grid_does_not_import_ray(tmp_path):
    code = ("import sys, reproduce; "
            f"assert reproduce.main(['--report-only', '--figs-dir', {str(tmp_path)!r}]) == 2; "
            "assert 'ray' not in sys.modules and 'experiments.on_ray' not in sys.modules")
    done = subprocess.run([sys.executable, '-c', code], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr


def start_grid(tmp_path, data, classifier_dir, epochs):
    """``reproduce.py --ray`` on the two-run grid in a session of its own, with Python's
    SIGINT handler (a test run in the background inherits SIGINT ignored)."""
    code = ("import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
            f"sys.argv[0] = {os.path.join(ROOT, 'reproduce.py')!r}; import reproduce; "
            "sys.exit(reproduce.main(sys.argv[1:]))")
    args = grid_args(tmp_path, data, classifier_dir, epochs) + EXTRA
    return subprocess.Popen([sys.executable, '-c', code, '--ray', *args], cwd=ROOT,
                            start_new_session=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def wait_for_checkpoints(exp, names, steps_after=0, timeout=600):
    """Until every run has a checkpoint after step ``steps_after`` (its pid then)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        found = {name: pid_and_parent(exp / name) for name in names}
        if all(found.values()) and all(checkpoint_step(exp / name) > steps_after
                                       for name in names):
            return {name: pid for name, (pid, _) in found.items()}
        time.sleep(0.1)
    raise AssertionError(f"no checkpoints after step {steps_after} in {timeout} s")


def checkpoint_step(exp_dir):
    try:
        text = (exp_dir / 'checkpoints/checkpoint').read_text()
    except OSError:
        return 0
    return int(text.split('ckpt-', 1)[1].split('"', 1)[0])


def test_ctrl_c_sigterm_and_a_killed_driver_leave_every_run_resumable(
        tmp_path, sequential, classifier_dir):
    """Ctrl-C (SIGINT to the command's process group), then SIGTERM to the command alone:
    each time every run saves a checkpoint and ends within seconds, and the command says
    so in one line (exit status 130, 143). Then the command killed outright (kill -9):
    Ray's processes it leaves behind do not disturb the next start, which resumes."""
    _, data = sequential
    names = RUNS.split(',')
    exp = tmp_path / 'exp/paper'
    after = 0
    for how, status in (('group', 130), ('command', 143)):
        grid = start_grid(tmp_path, data, classifier_dir, 100)
        pids = wait_for_checkpoints(exp, names, after)
        os.killpg(grid.pid, signal.SIGINT) if how == 'group' else grid.send_signal(
            signal.SIGTERM)
        start = time.time()
        out, err = grid.communicate(timeout=120)
        assert grid.returncode == status, err[-3000:]
        assert time.time() - start < 60
        name = 'SIGINT' if status == 130 else 'SIGTERM'
        assert err.splitlines()[-1] == (f"stopped by {name}; every run has saved a "
                                        "checkpoint: rerun the same command to resume")
        assert 'SIGTERM received' not in err  # no stack dumps of TensorFlow's processes
        assert 'ray: 2 runs: 0 finished, 0 diverged, 0 failed, 2 stopped' in out
        for name in names:
            assert gone(pids[name])
            stopped_at = len(read_csv(exp / name / 'logs/batch.csv'))
            assert checkpoint_step(exp / name) == stopped_at > after  # saved as it stopped
        after = min(checkpoint_step(exp / name) for name in names)

    grid = start_grid(tmp_path, data, classifier_dir, 100)
    wait_for_checkpoints(exp, names, after)
    grid.kill()
    grid.communicate()
    done = subprocess.run([sys.executable, os.path.join(ROOT, 'reproduce.py'), '--ray',
                           *grid_args(tmp_path, data, classifier_dir, 12)],
                          capture_output=True, text=True, cwd=tmp_path, timeout=1200)
    assert done.returncode == 0, done.stderr[-3000:]
    for name in names:
        assert f'ray: [paper/{name}] finished on ' in done.stdout
        assert len(read_csv(exp / name / 'logs/epoch.csv')) == 12
