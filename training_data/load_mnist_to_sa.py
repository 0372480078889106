"""Store MNIST in shared memory with SharedArray, under the original names.

    python ./load_mnist_to_sa.py ./mnist --binary --onehot --merge

Names: <prefix>_[binarized_]mnist_x[_train|_test] for the images (N, 28, 28, 1)
and, with --labels, <prefix>_mnist_y[_train|_test][_onehot] for the labels;
the '_train'/'_test' parts are dropped with --merge. Without --prefix the
names start at 'binarized_...' / 'mnist_...'. Train with
    python main.py training_data=binarized_mnist_x training_data_location=sa
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from binarygan import UserError  # noqa: E402
from binarygan.data import binarize, read_mnist_file  # noqa: E402


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('dataset_root', help="folder of the MNIST IDX files")
    parser.add_argument('--prefix', default='', help="prefix of the SharedArray names")
    parser.add_argument('--merge', action='store_true',
                        help="merge the train and test sets (70,000 images)")
    parser.add_argument('--binary', action='store_true',
                        help="binarize the images (pixel > 0 -> 1)")
    parser.add_argument('--labels', action='store_true', help="store the labels as well")
    parser.add_argument('--onehot', action='store_true',
                        help="one-hot encode the labels (with --labels)")
    return parser.parse_args(argv)


def shared_name(prefix, *parts):
    return '_'.join(part for part in (prefix,) + parts if part)


def save_to_sa(name, array):
    import SharedArray as sa
    try:
        shared = sa.create(name, array.shape, array.dtype)
    except FileExistsError:
        raise UserError(f"a SharedArray named {name!r} exists already; delete it with "
                        f"python -c \"import SharedArray; SharedArray.delete('{name}')\"") from None
    np.copyto(shared, array)
    print(f"{name}: {array.shape} {array.dtype}")


def load(dataset_root, prefix, merge, binary, labels, onehot):
    images = {split: read_mnist_file(dataset_root, split + '_images')[..., None]
              for split in ('train', 'test')}
    kind = 'binarized_mnist_x' if binary else 'mnist_x'
    if binary:
        images = {split: binarize(x).astype(bool) for split, x in images.items()}
    arrays = {}
    if merge:
        arrays[shared_name(prefix, kind)] = np.concatenate([images['train'], images['test']])
    else:
        for split in ('train', 'test'):
            arrays[shared_name(prefix, kind, split)] = images[split]
    if labels:
        values = {split: read_mnist_file(dataset_root, split + '_labels')
                  for split in ('train', 'test')}
        if onehot:
            values = {split: np.eye(10, dtype=bool)[y] for split, y in values.items()}
        suffix = 'onehot' if onehot else ''
        if merge:
            arrays[shared_name(prefix, 'mnist_y', suffix)] = np.concatenate(
                [values['train'], values['test']])
        else:
            for split in ('train', 'test'):
                arrays[shared_name(prefix, 'mnist_y', split, suffix)] = values[split]
    for name, array in arrays.items():
        save_to_sa(name, array)
    return list(arrays)


def main(argv=None):
    args = parse_arguments(argv)
    try:
        load(args.dataset_root, args.prefix, args.merge, args.binary, args.labels, args.onehot)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main())
