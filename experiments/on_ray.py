"""Running the GAN grid's runs side by side on Ray: ``python reproduce.py --ray [ADDRESS]``
(docs/ray.md).

Each run of the group is a Ray task that trains it with gan_run.train_run (main.py in a
child process, resuming from its latest checkpoint; a run trained long enough is skipped)
and evaluates it with gan_run.evaluate_run; the driver then writes its record with
gan_run.archive_run, so the records and the report are the same files as in_order's. A
run asks for one GPU where the cluster has GPUs, else --cpus-per-run CPUs.

Faults (docs/ray.md): a worker killed or a node lost is a system failure, and Ray runs the
task again (MAX_RETRIES times); a main.py killed from outside is started again by its
task; either resumes the run from its latest checkpoint. A run that stops for another
reason (bad input, an error: gan_run.GridError, or a diverged run) is reported and not
retried. Ctrl-C or SIGTERM has every run save a checkpoint and end (Progress).

Ray is an optional dependency (requirements-ray.txt): this module imports it only inside
its functions, and reproduce.py imports this module only for --ray.
"""
import logging
import os
import secrets
import signal
import socket
import sys
import time

from experiments.gan_run import FAILED, MAX_RETRIES, Stop

INSTALL = "pip install -r requirements-ray.txt"
CONNECT_TIMEOUT_S = 5  # to reach a cluster's address before ray.init
CHECK_TIMEOUT_S = 300  # for every node to read the shared folder's marker
LOCAL_OBJECT_STORE = 200 * 2 ** 20  # the tasks pass a few small dicts only
MARKER = '.ray-shared-check-'
TERMINATED = []  # SIGTERM received by the driver (stop_on_sigterm)


class Refused(Exception):
    """Ray cannot run the grid (no package, no cluster, a folder not shared): one line,
    exit status 2; no run was started."""


def import_ray():
    # The runs' own output comes to this terminal, each line after its run's name: every
    # line (Ray merges lines that differ in their numbers only), and in colour on a terminal.
    os.environ.setdefault('RAY_DEDUP_LOGS', '0')
    if not sys.stdout.isatty():
        os.environ.setdefault('RAY_COLOR_PREFIX', '0')
    try:
        import ray
    except ImportError:
        raise Refused(f"--ray needs the ray package: {INSTALL}") from None
    return ray


# -- on the workers ---------------------------------------------------------------
class Progress:
    """A Ray actor that the tasks tell when they start or start a run's process again:
    the driver prints the events, and a second start of a task is a retry. The driver
    asks the tasks to stop through it."""

    def __init__(self):
        self.events, self.attempts, self.stopping = [], {}, False

    def started(self, label, host):
        self.attempts[label] = self.attempts.get(label, 0) + 1
        why = '' if self.attempts[label] == 1 else 'its worker was lost'
        self.events.append((label, self.attempts[label], host, why))
        return self.attempts[label]

    def restarted(self, label, host, why):
        """The task started the run's process again (it was killed from outside)."""
        self.attempts[label] = self.attempts.get(label, 0) + 1
        self.events.append((label, self.attempts[label], host, why))

    def drain(self):
        events, self.events = self.events, []
        return events

    def request_stop(self):
        self.stopping = True

    def stop_requested(self):
        return self.stopping


def run_task(folder, name, exp_root, epochs, num_samples, overrides, progress):
    """A Ray task: train (or resume) and evaluate one run; a dict of what happened. The
    run's processes see the environment as main.py does without Ray (TensorFlow's thread
    pools as on the machine: setting them for the CPUs Ray gave changes the numbers)."""
    import ray
    from experiments import gan_run

    label, host = f'{folder}/{name}', socket.gethostname()
    ray.get(progress.started.remote(label, host))
    exp_dir = os.path.join(exp_root, folder, name)
    done = len(gan_run.read_rows(os.path.join(exp_dir, 'logs', 'epoch.csv')))
    start = time.time()
    result = {'host': host, 'epochs_before': done,
              'checkpoint_before': os.path.exists(os.path.join(exp_dir, 'checkpoints',
                                                               'checkpoint'))}

    def stop_requested():
        return ray.get(progress.stop_requested.remote())

    def on_retry(attempt, why):
        ray.get(progress.restarted.remote(label, host, why))
    try:
        if not gan_run.train_run(folder, name, exp_root, epochs, overrides, stop_requested,
                                 on_retry):
            return dict(result, status='diverged', seconds=time.time() - start)
        gan_run.evaluate_run(exp_dir, num_samples, label, stop_requested)
    except gan_run.Stop:  # the grid was stopped: the run saved a checkpoint
        return dict(result, status='stopped')
    except gan_run.GridError as e:  # bad input, a stopped main.py: reported, not retried
        return dict(result, status='failed', message=str(e), exit=e.status)
    return dict(result, status='finished', seconds=time.time() - start)


def read_marker(path):
    """A Ray task pinned to one node: (its host name, the marker's content or why not)."""
    try:
        with open(path) as f:
            return socket.gethostname(), f.read()
    except OSError as e:
        return socket.gethostname(), f"unreadable ({e.strerror})"


# -- on the driver ----------------------------------------------------------------
def connect(ray, address, num_cpus):
    """Start a local Ray instance (address None) or join the cluster at ``address``."""
    common = dict(include_dashboard=False, logging_level=logging.WARNING, log_to_driver=True)
    if address is None:
        # Not its note that token authentication is on: this instance is ours alone.
        logging.getLogger('ray._private.authentication').setLevel(logging.ERROR)
        ray.init(address='local', num_cpus=num_cpus or os.cpu_count() or 1,
                 object_store_memory=LOCAL_OBJECT_STORE, **common)
        return
    # ray.init waits a long time for an address where nothing answers: try it first.
    host, _, port = address.split('://', 1)[-1].rpartition(':')
    if address != 'auto':
        try:
            socket.create_connection((host or address, int(port)), CONNECT_TIMEOUT_S).close()
        except ValueError:
            raise Refused(f"--ray {address}: give the cluster's address as HOST:PORT, "
                          "e.g. the head's HEAD:6379 (docs/ray.md)") from None
        except OSError as e:
            raise Refused(f"cannot reach a Ray cluster at {address}: "
                          f"{e.strerror or e.__class__.__name__}; start one with `ray start "
                          "--head` (docs/ray.md), or leave ADDRESS out for a local one") from None
    try:
        ray.init(address=address, **common)
    except Exception as e:  # ConnectionError, RuntimeError...: one line, whatever Ray says
        message = (str(e).strip().splitlines() or [e.__class__.__name__])[0]
        raise Refused(f"cannot join the Ray cluster at {address}: {message}") from None


def nodes_not_seeing(ray, path, token):
    """['host (address): why'] of the alive nodes whose tasks do not read ``token`` in
    the file ``path``."""
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy
    check = ray.remote(read_marker)
    nodes = [node for node in ray.nodes() if node['Alive']]
    refs = [check.options(num_cpus=0, max_retries=0, scheduling_strategy=(
        NodeAffinitySchedulingStrategy(node['NodeID'], soft=False))).remote(path)
        for node in nodes]
    ready, _ = ray.wait(refs, num_returns=len(refs), timeout=CHECK_TIMEOUT_S)
    unseen = []
    for node, ref in zip(nodes, refs):
        where = f"{node['NodeManagerHostname']} ({node['NodeManagerAddress']})"
        if ref not in ready:
            unseen.append(f"{where}: no answer in {CHECK_TIMEOUT_S} s")
            continue
        try:
            _, content = ray.get(ref)
        except Exception as e:  # the node cannot run this code (another path, no venv)
            unseen.append(f"{where}: {str(e).strip().splitlines()[-1]}")
            continue
        if content != token:
            unseen.append(f"{where}: " + (content if content.startswith('unreadable')
                                          else 'another folder'))
    return unseen


def check_shared_root(ray, exp_root):
    """Refuse a cluster one of whose nodes does not see ``exp_root`` (a marker file with
    a random token, read by a task pinned to each node)."""
    os.makedirs(exp_root, exist_ok=True)
    token = secrets.token_hex(16)
    path = os.path.join(exp_root, MARKER + token)
    with open(path, 'w') as f:
        f.write(token)
    try:
        unseen = nodes_not_seeing(ray, path, token)
    finally:
        os.remove(path)
    if unseen:
        raise Refused(f"the experiment root {exp_root} is not seen by every node of the Ray "
                      f"cluster ({'; '.join(unseen)}): give --exp-root a folder that every "
                      "node mounts at the same path (docs/ray.md)")


def run_resources(ray, cpus_per_run):
    """The Ray resources of one run: a GPU where the cluster has GPUs, else CPUs."""
    if ray.cluster_resources().get('GPU', 0) >= 1:
        return {'num_gpus': 1, 'num_cpus': 0}
    return {'num_cpus': cpus_per_run}


def refuse_unmet(ray, resources):
    """Refused unless some node of the cluster has ``resources`` (Ray would wait for
    one for ever)."""
    asked = {'CPU': resources.get('num_cpus', 0), 'GPU': resources.get('num_gpus', 0)}
    nodes = [node['Resources'] for node in ray.nodes() if node['Alive']]
    if not any(all(node.get(key, 0) >= value for key, value in asked.items())
               for node in nodes):
        has = ', '.join(f"{node.get('CPU', 0):g} CPUs and {node.get('GPU', 0):g} GPUs"
                        for node in nodes)
        raise Refused(f"a run asks for {asked['CPU']:g} CPUs and {asked['GPU']:g} GPUs, "
                      f"and no node has them (the nodes have {has}): give --cpus-per-run "
                      "at most a node's CPUs")


def run_runs(ray, runs, cpus_per_run, exp_root, figs_dir, epochs, num_samples, overrides):
    """Run ``runs`` ([(folder, run, overrides)]) as Ray tasks on the Ray this process is
    connected to, with a line per run started, retried, finished or failed and a summary;
    the exit status: 0, or the first failed run's. Stop (and KeyboardInterrupt) asks
    every run to save a checkpoint and end, waits for them, then raises Stop."""
    resources = run_resources(ray, cpus_per_run)
    refuse_unmet(ray, resources)
    progress = ray.remote(num_cpus=0)(Progress).remote()
    task = ray.remote(run_task)
    pending = {}
    for folder, name, own in runs:
        ref = task.options(name=f'{folder}/{name}', max_retries=MAX_RETRIES,
                           retry_exceptions=False, **resources).remote(
            folder, name, exp_root, epochs, num_samples, own + list(overrides), progress)
        pending[ref] = (folder, name)
    asked = ', '.join(f"{value:g} {key[4:-1].upper()}{'s' * (value != 1)}"
                      for key, value in resources.items() if value)
    print(f"ray: {len(runs)} runs, {asked} each, on {describe(ray)}", flush=True)
    counts = {'finished': 0, 'diverged': 0, 'failed': 0, 'stopped': 0}
    status, stop = 0, None
    while pending:
        try:
            ready, _ = ray.wait(list(pending), num_returns=1, timeout=0.25)
            print_events(ray.get(progress.drain.remote()))
            for ref in ready:
                folder, name = pending[ref]
                outcome, line, exit_status = finish(ray, ref, folder, name, exp_root,
                                                    figs_dir, epochs)
                del pending[ref]
                counts[outcome] += 1
                status = status or exit_status
                print(f"ray: [{folder}/{name}] {line}", flush=True)
        except (Stop, KeyboardInterrupt) as e:
            if stop is not None:  # a second one: at once (the runs' processes die too)
                raise
            stop = e if isinstance(e, Stop) else Stop(
                TERMINATED[-1] if TERMINATED else signal.SIGINT)
            print(f"ray: stopping: {len(pending)} runs save a checkpoint and end (again to "
                  "stop at once)", flush=True)
            ray.get(progress.request_stop.remote())
    print(f"ray: {len(runs)} runs: " + ', '.join(f"{n} {what}" for what, n in counts.items()
                                               if n or what != 'stopped'), flush=True)
    if stop:
        raise stop
    return status


def print_events(events):
    for label, attempt, host, why in events:
        if attempt == 1:
            print(f"ray: [{label}] started on {host}", flush=True)
        else:
            print(f"ray: [{label}] retried on {host} (attempt {attempt}): {why}; it resumes "
                  "from its latest checkpoint", flush=True)


def finish(ray, ref, folder, name, exp_root, figs_dir, epochs):
    """(outcome, progress line, exit status) of a run whose task ended; a finished run's
    record is written (by this process: its --figs-dir)."""
    from experiments.gan_run import archive_run
    try:
        result = ray.get(ref)
    except ray.exceptions.RayTaskError as e:  # a bug: the task raised
        return 'failed', f"failed: {str(e).strip().splitlines()[-1]}", FAILED
    except ray.exceptions.RayError as e:  # the worker or the node lost every time
        return 'failed', (f"failed: its worker or node was lost, {MAX_RETRIES} retries "
                          f"spent ({e.__class__.__name__}); rerun to resume it"), FAILED
    if result['status'] == 'stopped':
        return 'stopped', "stopped: its checkpoint is saved; rerun to resume it", 0
    if result['status'] == 'diverged':
        return 'diverged', ("diverged: a loss became NaN or infinite; not retried, its last "
                            "good checkpoint is kept"), 0
    if result['status'] == 'failed':
        return 'failed', f"failed: {result['message'].removeprefix(f'[{folder}/{name}] ')}", \
            result['exit']
    try:
        archive_run(folder, name, exp_root, figs_dir)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
        return 'failed', f"failed: its record could not be written ({e!r})", FAILED
    before = result['epochs_before']
    how = (f"already trained for {before} epochs: skipped" if before >= epochs
           else f"resumed in epoch {before + 1}" if result['checkpoint_before'] else "trained")
    return 'finished', (f"finished on {result['host']} in {result['seconds']:.0f} s "
                        f"({how})"), 0


def describe(ray):
    resources = ray.cluster_resources()
    nodes = sum(1 for node in ray.nodes() if node['Alive'])
    return (f"{nodes} node{'s' * (nodes != 1)}, {resources.get('CPU', 0):g} CPUs, "
            f"{resources.get('GPU', 0):g} GPUs")


def run_grid_on_ray(runs, address, cpus_per_run, exp_root, figs_dir, epochs, num_samples,
                    overrides, num_cpus=None):
    """Run the grid's ``runs`` on a local Ray instance (``address`` None; ``num_cpus``:
    its CPUs, default the machine's cores), started and stopped here, or on the cluster
    at ``address``; the exit status (0, or the first failed run's). Refused: Ray cannot
    run it (nothing was started or written). SIGTERM stops it as Ctrl-C does (Stop)."""
    ray = import_ray()
    if address is None and cpus_per_run > (num_cpus or os.cpu_count() or 1):
        raise Refused(f"--cpus-per-run {cpus_per_run}: this machine has "
                      f"{num_cpus or os.cpu_count()} CPUs")
    connect(ray, address, num_cpus)
    TERMINATED.clear()
    previous = signal.signal(signal.SIGTERM, stop_on_sigterm)  # Ray's ends the driver
    try:
        refuse_unmet(ray, run_resources(ray, cpus_per_run))
        check_shared_root(ray, exp_root)
        return run_runs(ray, runs, cpus_per_run, exp_root, figs_dir, epochs, num_samples,
                        overrides)
    finally:
        signal.signal(signal.SIGTERM, previous)
        # A local Ray stops with its workers; a cluster ends this job's workers. Their
        # runs' processes have ended by now (run_runs waits for them when stopped) or
        # die with them (gan_run.die_with_parent).
        ray.shutdown()


def stop_on_sigterm(signum, frame):
    """SIGTERM as Ctrl-C: KeyboardInterrupt is the exception that Ray's waits let
    through (another one breaks them); run_runs reads which signal it was."""
    TERMINATED.append(signum)
    raise KeyboardInterrupt
