"""Record the losses of the first training iterations of 12 same-seed runs in
tests/golden_losses.json, for tests/test_golden_losses.py to compare with.

Usage: python tests/make_golden_losses.py [--add]   (as CI runs the tests: all cores, no taskset)

The 12 cases: MLP and CNN x GAN, WGAN and WGAN-GP x deterministic ('round') and
stochastic ('bernoulli') binary neurons, with the paper's pairings: GAN with Adam and
a critic with batch normalization (<arch>_bn), WGAN with RMSProp, WGAN-GP with Adam
(both <arch>). Each trains 6 generator steps (critic steps 3, 2, 2, ...: one epoch of
the 64-image synthetic set of conftest.write_synthetic_data at batch 16, and two steps
of the next, after the reshuffle and with the annealed slope) through main.main, as
the tests run it (in-process, TensorFlow's thread pools left as they are). It records:
- critic_d_loss: every critic step's loss, as logs/step.csv writes it (6 significant
  digits);
- d_loss (the last critic step's), g_loss and gradient_penalty of each generator step
  at full float32 precision, from the TensorBoard event files (the CSV logs round them).
Every case runs twice, the second time after all the others, and nothing is written
unless both runs agree to the last bit.

The values hold for one environment (TensorFlow version, core count, CPU's instruction
set; recorded with them): floating-point sums come out differently elsewhere, so the
file keeps one recording per environment, and the test compares with the one of its own.
Regenerate only deliberately, never to make the test pass:
- an intended change of the losses, in a commit that says why: `python
  tests/make_golden_losses.py` replaces every recording by this environment's (the
  others no longer hold; record them again on their machines with --add);
- another environment, with the losses unchanged (the test passes where a recording
  exists): `python tests/make_golden_losses.py --add` adds or replaces this
  environment's recording and keeps the others.
"""
import datetime
import hashlib
import json
import os
import platform
import subprocess
import sys
import tempfile

TESTS = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, TESTS)
from conftest import ROOT, quick_run_args, read_csv, scalar_and_image_events, \
    write_synthetic_data  # noqa: E402  (conftest first: it sets TensorFlow's CPU options)

GOLDEN_PATH = os.path.join(TESTS, 'golden_losses.json')
OBJECTIVES = {'gan': ('adam', '_bn'), 'wgan': ('rmsprop', ''), 'wgan-gp': ('adam', '')}
CASES = {f'{arch}-{gan_type}-{neurons}': (arch, gan_type, neurons) for arch in ('mlp', 'cnn')
         for gan_type in OBJECTIVES for neurons in ('round', 'bernoulli')}
# What the losses are computed by, besides the overrides and the training data.
CODE = ['main.py', 'config.py', 'binarygan']


def common_overrides():
    """The command-line overrides of every case, without the training data and the
    experiment root, which differ from run to run: conftest.quick_run_args's."""
    args = quick_run_args('DATA', 'ROOT', 'train.max_steps=6', 'sample_along_training=false')
    args = [arg for arg in args if arg not in ('data.training_data=DATA', 'exp.exp_root=ROOT')]
    keys = [arg.split('=', 1)[0] for arg in args]
    return [arg for i, arg in enumerate(args) if keys[i] not in keys[i + 1:]]  # the last wins


def case_overrides(name):
    """The overrides of case ``name`` ('cnn-wgan-gp-bernoulli') besides the common ones."""
    arch, gan_type, neurons = CASES[name]
    optimizer, d_suffix = OBJECTIVES[gan_type]
    return [f'gan_type={gan_type}', f'optimizer={optimizer}', f'preset_g={arch}_{neurons}',
            f'preset_d={arch}{d_suffix}', f'exp.exp_name={name}']


def file_sha1(path):
    with open(path, 'rb') as f:
        return hashlib.sha1(f.read()).hexdigest()


def environment():
    """What the values depend on besides the code."""
    import keras
    import numpy as np
    import tensorflow as tf
    cpu, fields = platform.processor(), {}
    if os.path.exists('/proc/cpuinfo'):
        with open('/proc/cpuinfo') as f:
            for line in f.read().split('\n\n')[0].splitlines():  # the first core's
                key, _, value = line.partition(':')
                fields[key.strip()] = value.strip()
        cpu = fields.get('model name', cpu)
    return {'tensorflow': tf.__version__, 'keras': keras.__version__, 'numpy': np.__version__,
            'cpu_count': os.cpu_count(),
            # TensorFlow sizes its thread pools, and so splits its sums, by the cores this
            # process may use (taskset): another count rounds differently.
            'usable_cpus': len(os.sched_getaffinity(0)),
            'cpu': cpu, 'machine': platform.machine(),
            # A model name ('AMD EPYC') may stand for several generations, and oneDNN picks
            # its kernels by instruction set: both recorded.
            'cpu_family_model': f"{fields.get('cpu family')}/{fields.get('model')}",
            'vector_instructions': ' '.join(sorted(
                flag for flag in fields.get('flags', '').split()
                if flag.startswith(('avx', 'amx', 'fma', 'f16c', 'sse4', 'gfni', 'vaes',
                                    'vpclmul')))),
            'gpus': len(tf.config.list_physical_devices('GPU')),
            'TF_ENABLE_ONEDNN_OPTS': os.environ.get('TF_ENABLE_ONEDNN_OPTS')}


def run_case(overrides, data_path, exp_root):
    """Train with ``overrides`` on ``data_path`` through main.main; the losses as text:
    the critic steps' as logs/step.csv has them, the generator steps' float32 values
    (TensorBoard's) as the shortest text that reads back as the same float32."""
    import main
    import numpy as np
    status = main.main([f'data.training_data={data_path}', f'exp.exp_root={exp_root}',
                        *overrides])
    assert status == 0, f"main.main exited with {status}: {overrides}"
    exp_name = next(arg.split('=', 1)[1] for arg in overrides if arg.startswith('exp.exp_name='))
    logs = os.path.join(exp_root, exp_name, 'logs')
    scalars, _ = scalar_and_image_events(logs)
    steps = sorted(step for step, tags in scalars.items() if 'g_loss' in tags)
    return {'critic_d_loss': [row['d_loss'] for row in read_csv(os.path.join(logs, 'step.csv'))],
            **{tag: [str(np.float32(scalars[step][tag])) for step in steps]
               for tag in ('d_loss', 'g_loss', 'gradient_penalty')}}


def compact_json(golden):
    """``golden`` as JSON with one line per list: a small file that diffs line by line."""
    def lines(value, indent):
        inner = ' ' * (indent + 1)
        if isinstance(value, list) and any(isinstance(item, dict) for item in value):
            return '[\n' + ',\n'.join(inner + lines(item, indent + 1) for item in value) + \
                '\n' + ' ' * indent + ']'
        if not isinstance(value, dict):
            return json.dumps(value)
        return '{\n' + ',\n'.join(f'{inner}{json.dumps(key)}: {lines(item, indent + 1)}'
                                    for key, item in value.items()) + '\n' + ' ' * indent + '}'
    return lines(golden, 0) + '\n'


def main(argv):
    add = argv == ['--add']
    if argv and not add:
        sys.exit("usage: python tests/make_golden_losses.py [--add]")
    changed = subprocess.run(['git', 'status', '--porcelain', '--', *CODE], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout
    if changed:
        sys.exit(f"refused: uncommitted changes in the code, the file would name the wrong "
                 f"commit:\n{changed}")
    commit = subprocess.run(['git', 'rev-parse', 'HEAD'], cwd=ROOT, capture_output=True,
                            text=True, check=True).stdout.strip()
    common = common_overrides()
    cases = {name: case_overrides(name) for name in CASES}
    with tempfile.TemporaryDirectory() as folder:
        data_path = write_synthetic_data(folder)
        runs = {}
        for attempt in ('first', 'second'):  # the second run of a case after all others
            for name in CASES:
                runs.setdefault(name, []).append(run_case(
                    common + cases[name], data_path, os.path.join(folder, attempt)))
        differing = [name for name, (first, second) in runs.items() if first != second]
        if differing:
            sys.exit(f"refused: the two runs of {', '.join(differing)} differ: not "
                     "deterministic here, so not comparable bit for bit")
        data_sha1 = file_sha1(data_path)
    here = environment()
    recordings = []
    if add:
        with open(GOLDEN_PATH) as f:
            old = json.load(f)
        if (old['training_data_sha1'], old['overrides'], old['cases']) != (
                data_sha1, common, cases):
            sys.exit("refused: the cases or their data changed since the file was written; "
                     "--add only records another environment of the same cases")
        recordings = [r for r in old['recordings'] if r['environment'] != here]
    recordings.append({
        'commit': commit,
        'date': datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ'),
        'environment': here,
        'losses': {name: runs[name][0] for name in CASES}})
    golden = {
        'about': "Losses of the first iterations of same-seed runs, one recording per "
                 "environment; written by tests/make_golden_losses.py (see there), "
                 "compared by tests/test_golden_losses.py",
        'training_data_sha1': data_sha1,
        'overrides': common,
        'cases': cases,
        'recordings': recordings}
    with open(GOLDEN_PATH, 'w') as f:
        f.write(compact_json(golden))
    print(f"wrote {GOLDEN_PATH}: {len(CASES)} cases at {commit}, "
          f"{len(recordings)} environment(s)")


if __name__ == '__main__':
    main(sys.argv[1:])
