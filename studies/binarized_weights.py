"""Binarized weights (issue 21, study 2; seed 004's experiment 1): an MLP on MNIST whose
dense layers multiply by binarized weights, beside its full-precision baseline with dropout.

    python -m studies.binarized_weights                  # every configuration, 200 epochs, seed 0
    python -m studies.binarized_weights --configs seed_baseline_dropout --epochs 2
    python -m studies.binarized_weights --seeds 0,1,2    # more seeds of the same runs
    python -m studies.binarized_weights --report-only    # the table and the plot from the records

A binarized layer multiplies by W_b = +1 where W >= 0, else -1 (deterministic), or +1 with
probability hard_sigmoid(W) = clip((W + 1) / 2, 0, 1) (stochastic), in the forward pass and
in the backward pass; the gradient with respect to W_b goes straight through to the
real-valued shadow weights W, which the optimizer updates and then clips to [-1, 1]
(BinaryConnect, Courbariaux et al. 2015). Biases and batch normalization stay real-valued.

Each run (a configuration and a seed) trains in OUT/<config>/seed<k>/: a checkpoint after
every epoch (weights, optimizer, random stream, epoch), epochs.csv (a row per epoch) and
settings.json. A finished run is skipped, an interrupted one resumes from its last epoch;
--epochs beyond a finished run's trains it further. After training, the run's record
(settings, the epoch rows, model size, machine) goes to
FIGS_DIR/studies/binarized_weights/runs/<config>/seed<k>.json; the report (results.md and
training_curves.png beside it) is built from these records alone, so a clone rebuilds it
without the runs.

Exit status: 0 done, 2 bad input, 130 interrupted (rerun the command to resume).
"""
import json
import os
import sys
import time

import numpy as np

from binarygan import UserError, fast, start_tensorflow
from binarygan.data import MISSING_MNIST_HINT, read_mnist_file
from binarygan.logs import CsvLog
from experiments import records
from binarygan.exit_status import exit_status
from experiments.cli import Parser, names, seeds, summary
from experiments.in_order import run_in_order
from experiments.records import RECORDS, machine, read_json, read_rows
from studies.binarized_weights_network import CONFIGS, IMAGE_PIXELS, Classifier
from studies.binarized_weights_report import report

STUDY = os.path.join('studies', 'binarized_weights')  # under FIGS_DIR
EPOCH_COLUMNS = ('epoch', 'seconds', 'learning_rate', 'train_loss', 'val_accuracy',
                 'test_loss', 'test_accuracy', 'val_accuracy_real_weights',
                 'test_accuracy_real_weights')


# -- data -------------------------------------------------------------------------
def load_mnist_splits(folder, validation_images):
    """{'train', 'validation', 'test': (images N x 784 float32 in [0, 1], labels int32)}:
    the last ``validation_images`` of MNIST's training images for validation, the others
    for training (the split of the seed's mnist.pkl.gz and of BinaryConnect's code)."""
    if not os.path.isdir(folder):
        raise UserError(f"MNIST folder {folder} does not exist: {MISSING_MNIST_HINT}")
    splits = {}
    for part in ('train', 'test'):
        images = read_mnist_file(folder, f'{part}_images')
        labels = read_mnist_file(folder, f'{part}_labels')
        if len(images) != len(labels):
            raise UserError(f"{folder}: {len(images)} {part} images but {len(labels)} labels")
        splits[part] = (images.reshape(-1, IMAGE_PIXELS).astype(np.float32) / 255.,
                        labels.astype(np.int32))
    images, labels = splits['train']
    if not 0 < validation_images < len(images):
        raise UserError(f"--validation-images must be from 1 to {len(images) - 1} (the "
                        f"training file of {folder} holds {len(images)} images), not "
                        f"{validation_images}")
    cut = len(images) - validation_images
    splits['train'], splits['validation'] = (images[:cut], labels[:cut]), (images[cut:],
                                                                            labels[cut:])
    return splits


def centred(splits):
    """The splits less the training images' mean per pixel (BinaryConnect centres its
    inputs; its pylearn2 loader took each set's own mean, the training mean here)."""
    mean = splits['train'][0].mean(axis=0)
    return {part: (images - mean, labels) for part, (images, labels) in splits.items()}


# -- runs -------------------------------------------------------------------------
def run_settings(name, seed, validation_images):
    """What a run's folder was trained with: a run resumes only under the same."""
    config = {key: value for key, value in CONFIGS[name].items() if key != 'description'}
    return json.loads(json.dumps({'config': name, 'settings': config, 'seed': seed,
                                  'validation_images': validation_images}))


def check_run_folder(run_dir, settings):
    """UserError when ``run_dir`` holds a run trained with other settings."""
    path = os.path.join(run_dir, 'settings.json')
    try:
        stored = read_json(path)
    except (OSError, ValueError) as e:
        raise UserError(f"cannot read {path} ({e}): remove the run folder {run_dir} to "
                        "train it anew") from None
    if stored is not None and stored != settings:
        changed = sorted(key for key in set(stored['settings']) | set(settings['settings'])
                         if stored['settings'].get(key) != settings['settings'].get(key))
        changed += [key for key in ('seed', 'validation_images')
                    if stored.get(key) != settings[key]]
        raise UserError(f"{run_dir} holds a run trained with other settings "
                        f"({', '.join(changed)}): remove it, or give another --out")


def train_run(name, seed, splits, validation_images, run_dir, epochs):
    """Train (or resume) a run until it has ``epochs`` epochs; its epoch rows and model
    size."""
    import tensorflow as tf
    config = CONFIGS[name]
    label = f"[{name}/seed{seed}]"
    classifier = Classifier(config, seed)
    manager = tf.train.CheckpointManager(classifier.checkpoint,
                                         os.path.join(run_dir, 'checkpoints'), max_to_keep=1)
    if manager.latest_checkpoint:
        try:
            classifier.checkpoint.restore(manager.latest_checkpoint).assert_consumed()
        except (AssertionError, ValueError, tf.errors.OpError) as e:
            raise UserError(f"cannot restore {manager.latest_checkpoint} "
                            f"({str(e).splitlines()[0]}): remove the run folder {run_dir} "
                            "to train it anew") from None
    done = int(classifier.epoch)
    records.write(os.path.join(run_dir, 'settings.json'),
                  run_settings(name, seed, validation_images))
    csv_path = os.path.join(run_dir, 'epochs.csv')
    if done >= epochs:
        print(f"{label} trained for {done} epochs: skipped", flush=True)
        return read_rows(csv_path), classifier.size_in_bits()
    print(f"{label} {'resuming at epoch ' + str(done + 1) if done else 'training'} "
          f"({epochs} epochs)", flush=True)
    parts = centred(splits) if config['center_inputs'] else splits
    tensors = {part: (tf.constant(images), tf.constant(labels))
               for part, (images, labels) in parts.items()}
    stochastic = config['binarization'] == 'stochastic'
    # Rows of epochs the checkpoint has not seen (a run killed in between) are dropped.
    with CsvLog(csv_path, EPOCH_COLUMNS, lambda row: int(row['epoch']) <= done) as log:
        while int(classifier.epoch) < epochs:
            start = time.time()
            learning_rate = classifier.learning_rate()
            train_loss = classifier.train_epoch(*tensors['train'])
            _, val_accuracy = classifier.evaluate(*tensors['validation'])
            test_loss, test_accuracy = classifier.evaluate(*tensors['test'])
            real = ('', '')
            if stochastic:
                real = (classifier.evaluate(*tensors['validation'], real_weights=True)[1],
                        classifier.evaluate(*tensors['test'], real_weights=True)[1])
            epoch, seconds = int(classifier.epoch), time.time() - start
            # The row before the checkpoint: a run killed between them redoes the epoch.
            log.write(epoch, seconds, learning_rate, train_loss, val_accuracy, test_loss,
                      test_accuracy, *real)
            log.flush()
            manager.save(checkpoint_number=epoch)
            print(f"{label} epoch {epoch:3d}/{epochs} | {seconds:6.1f} s | train loss "
                  f"{train_loss:.4g} | val {val_accuracy:.2%} | test {test_accuracy:.2%}"
                  + (f" | real weights: val {real[0]:.2%}, test {real[1]:.2%}"
                     if stochastic else ''), flush=True)
    return read_rows(csv_path), classifier.size_in_bits()


def write_record(path, name, seed, validation_images, rows, size):
    """The run's record: its settings, epoch rows, model size and machine."""
    bits, full_precision_bits = size
    record = dict(run_settings(name, seed, validation_images),
                  description=CONFIGS[name]['description'],
                  epochs=len(rows),
                  rows=[{key: (float(value) if value != '' else None)
                         for key, value in row.items()} for row in rows],
                  size_bits=bits, full_precision_bits=full_precision_bits,
                  machine=machine(),
                  intra_op_threads=os.environ.get('TF_NUM_INTRAOP_THREADS', 'default'),
                  written=time.strftime('%Y-%m-%d %H:%M:%S'))
    records.write(path, record)


# -- command ----------------------------------------------------------------------
def check_folder(path, option):
    if os.path.exists(path) and not os.path.isdir(path):
        raise UserError(f"{option} {path} is a file, not a folder")


def run(args):
    configs, chosen_seeds = names(args.configs, CONFIGS, 'configuration'), seeds(args.seeds)
    if args.epochs < 1:
        raise UserError(f"--epochs must be at least 1, not {args.epochs}")
    study_dir = os.path.join(args.figs_dir, STUDY)
    check_folder(args.figs_dir, '--figs-dir')
    check_folder(args.out, '--out')
    if not args.report_only:
        runs = [(name, seed, os.path.join(args.out, name, f'seed{seed}'))
                for name in configs for seed in chosen_seeds]
        for name, seed, run_dir in runs:  # all refused before any is trained
            check_run_folder(run_dir, run_settings(name, seed, args.validation_images))
        splits = load_mnist_splits(args.data, args.validation_images)
        fast.set_cpu_options()
        start_tensorflow()

        def train_and_record(planned):
            name, seed, run_dir = planned
            rows, size = train_run(name, seed, splits, args.validation_images, run_dir,
                                   args.epochs)
            write_record(os.path.join(study_dir, RECORDS, name, f'seed{seed}.json'), name,
                         seed, args.validation_images, rows, size)
        run_in_order(runs, train_and_record, lambda planned: f'{planned[0]}/seed{planned[1]}')
    if not report(study_dir):
        raise UserError(f"no run records in {os.path.join(study_dir, RECORDS)}: train runs "
                        "first (python -m studies.binarized_weights)")


def main(argv=None):
    parser = Parser(description=summary(__doc__))
    parser.add_argument('--configs', help="comma-separated configurations (default: all): "
                        + ', '.join(CONFIGS))
    parser.add_argument('--epochs', type=int, default=200, help="default 200, the seed's")
    parser.add_argument('--seeds', default='0', help="comma-separated seeds (default 0)")
    parser.add_argument('--out', default=os.path.join('exp', 'studies', 'binarized_weights'),
                        help="the runs' folder")
    parser.add_argument('--figs-dir', default='figs',
                        help=f"records and report go to FIGS_DIR/{STUDY}")
    parser.add_argument('--data', default=os.path.join('training_data', 'mnist'),
                        help="the MNIST folder (IDX files, plain or .gz)")
    parser.add_argument('--validation-images', type=int, default=10000,
                        help="the last training images held out for validation")
    parser.add_argument('--report-only', action='store_true',
                        help="only rebuild results.md and the plot from the records")

    return exit_status(lambda: run(parser.parse_args(argv)))


if __name__ == '__main__':
    sys.exit(main())
