"""One run at a time per experiment folder.

A run holds an advisory lock (flock) on the folder itself for as long as it runs;
the kernel drops it when the process ends, however it ends (kill -9 included), so
no lock is ever left behind. The running process also writes who it is to a small
file in the folder, for the message of a run that is refused.
"""
import fcntl
import json
import os
import socket
import time

from binarygan import UserError

HOLDER_FILE = 'running.json'


def _holder(folder):
    """'process 1234 on host h (started ...)' of the run holding ``folder``, if it says."""
    try:
        with open(os.path.join(folder, HOLDER_FILE)) as f:
            holder = json.load(f)
        pid, host, started = int(holder['pid']), str(holder['host']), str(holder['started'])
    except (OSError, ValueError, KeyError, TypeError):
        return "another process"
    if host == socket.gethostname():
        try:
            os.kill(pid, 0)
        except ProcessLookupError:  # a file left by a killed run, before the holder wrote its own
            return "another process"
        except OSError:  # another user's process
            pass
    return f"process {pid} on host {host} (started {started})"


def _lock(folder):
    """A descriptor of ``folder`` holding its lock, or UserError naming the holder."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as e:
        raise UserError(f"cannot open the experiment folder {folder}: {e.strerror}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise UserError(f"experiment {folder} is in use by {_holder(folder)}: wait for it "
                        "to end or stop it, or give another exp_name=... to start another "
                        "experiment") from None
    except OSError as e:  # a file system without locks
        os.close(fd)
        raise UserError(f"cannot lock the experiment folder {folder}: {e.strerror}") from None
    return fd


class ExperimentLock:
    """The experiment folder's lock: taken on entering when the folder exists (before
    its checkpoint is read), else by ``create_folder`` once everything is checked;
    released on exit."""

    def __init__(self, folder):
        self.folder, self.fd, self.announced = folder, None, False

    def __enter__(self):
        if os.path.isdir(self.folder):
            self.fd = _lock(self.folder)
        return self

    def create_folder(self):
        """Create and lock the folder of a new experiment; refuse if another run
        created it since this one found none (its checkpoint would be missed)."""
        if self.fd is not None:
            return
        try:
            os.makedirs(os.path.dirname(self.folder), exist_ok=True)
            os.mkdir(self.folder)
        except FileExistsError:
            os.close(_lock(self.folder))  # names the other run while it runs
            raise UserError(f"experiment {self.folder} was created by another run while "
                            "this one was starting: rerun the command to resume it") from None
        except OSError as e:
            raise UserError(f"cannot create the experiment folder {self.folder}: "
                            f"{e.strerror}") from None
        self.fd = _lock(self.folder)  # refused if another run took the new folder first

    def announce(self):
        """Write who holds the folder, for a run that is refused meanwhile (one that
        reads it half-written says "another process")."""
        with open(os.path.join(self.folder, HOLDER_FILE), 'w') as f:
            json.dump({'pid': os.getpid(), 'host': socket.gethostname(),
                       'started': time.strftime('%Y-%m-%d %H:%M:%S %Z')}, f)
        self.announced = True

    def __exit__(self, *exception):
        if self.fd is None:
            return
        if self.announced:
            try:
                os.remove(os.path.join(self.folder, HOLDER_FILE))
            except OSError:
                pass
        os.close(self.fd)
