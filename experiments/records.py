"""Records: one JSON file per finished run, the only input of every report, so that a
clone of the repository rebuilds the reports without the runs. The GAN grid and the
studies write theirs with ``write`` under a records folder and read them back with
``load``; every record names its seed, epochs and the machine that trained it."""
import csv
import json
import os
import platform
import subprocess

from binarygan.logs import replacing

RECORDS = 'runs'  # the records folder under a report's folder


def read_json(path):
    """The JSON file at ``path``, or None when there is none."""
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def read_rows(path):
    """The rows of a CSV log as dicts of strings; [] when there is none."""
    if not os.path.exists(path):
        return []
    with open(path, newline='') as f:
        return list(csv.DictReader(f))


def write(path, record):
    """Write ``record`` to ``path`` whole or not at all (its folder made if missing)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with replacing(path) as f:
        json.dump(record, f, indent=1)
    return path


def load(base):
    """{folder: {name: record}} of every ``<folder>/<name>.json`` under ``base``, the
    folder relative to it with '/' between its parts ('.' for base itself)."""
    records = {}
    for parent, _, names in sorted(os.walk(base)):
        for file_name in sorted(names):
            if file_name.endswith('.json'):
                folder = os.path.relpath(parent, base).replace(os.sep, '/')
                records.setdefault(folder, {})[file_name[:-5]] = read_json(
                    os.path.join(parent, file_name))
    return records


def machine():
    """The CPU model and core count, and the GPU if nvidia-smi names one."""
    cpu = platform.processor() or platform.machine()
    try:
        with open('/proc/cpuinfo') as f:
            cpu = next(line.split(':', 1)[1].strip() for line in f
                       if line.startswith('model name'))
    except (OSError, StopIteration):
        pass
    description = f"{cpu}, {os.cpu_count()} cores"
    try:
        gpu = subprocess.run(['nvidia-smi', '--query-gpu=name', '--format=csv,noheader'],
                             capture_output=True, text=True, timeout=10).stdout.strip()
        if gpu:
            description += f", {gpu.splitlines()[0]}"
    except (OSError, subprocess.SubprocessError):
        pass
    return description
