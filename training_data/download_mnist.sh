#!/usr/bin/env bash
# Download the four MNIST files, check their md5 and leave them uncompressed in
# training_data/mnist/ (or $MNIST_DIR).
#
# Sources, in order: $MNIST_MIRROR (a local folder or a URL holding the .gz
# files), then public mirrors, unless MNIST_PUBLIC_MIRRORS=0 (offline machines,
# tests). A file already present with the right md5 is kept, so a second run does
# nothing. A download that fails, is cut short (also by Ctrl-C) or does not
# match its md5 leaves nothing behind: files are checked in a temporary folder
# and moved into place whole.
#
# Exit status: 0 done, 2 no source gave a valid file, 1 another failure.
set -uo pipefail

dest="${MNIST_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/mnist}"
mirrors=(
  "https://ossci-datasets.s3.amazonaws.com/mnist"
  "https://storage.googleapis.com/cvdf-datasets/mnist"
  "http://yann.lecun.com/exdb/mnist"
)
[ "${MNIST_PUBLIC_MIRRORS:-1}" = 0 ] && mirrors=()
[ -n "${MNIST_MIRROR:-}" ] && mirrors=("${MNIST_MIRROR%/}" "${mirrors[@]}")

# name, md5 of the .gz file, md5 of the uncompressed file
files=(
  "train-images-idx3-ubyte f68b3c2dcbeaaa9fbdd348bbdeb94873 6bbc9ace898e44ae57da46a324031adb"
  "train-labels-idx1-ubyte d53e105ee54ea40749a09fcbcd1e9432 a25bea736e30d166cdddb491f175f624"
  "t10k-images-idx3-ubyte 9fb629c4189551a2d022fa330f9573f3 2646ac647ad5339dbf082846283269ea"
  "t10k-labels-idx1-ubyte ec29112dd5afa0611ce80d1b7f02629c 27ae3e4e09519cfbb04c329615203637"
)

md5_of() { md5sum "$1" | cut -d' ' -f1; }

# fetch SOURCE NAME OUT: copy or download SOURCE/NAME.gz to OUT.
fetch() {
  if [[ "$1" == *://* ]]; then
    curl --fail --silent --show-error --location --connect-timeout 10 \
      --max-time 300 --output "$3" "$1/$2.gz" 2>/dev/null
  else
    [ -f "$1/$2.gz" ] && cp "$1/$2.gz" "$3"
  fi
}

mkdir -p "$dest" || { echo "download_mnist.sh: cannot create $dest" >&2; exit 1; }
rm -rf "$dest"/.download.*  # left by a run that was killed (kill -9)
tmp=$(mktemp -d "$dest/.download.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for entry in "${files[@]}"; do
  read -r name gz_md5 raw_md5 <<<"$entry"
  if [ -f "$dest/$name" ] && [ "$(md5_of "$dest/$name")" = "$raw_md5" ]; then
    echo "$name: present"
    continue
  fi
  done_file=""
  for source in "${mirrors[@]}"; do
    rm -f "$tmp/$name.gz" "$tmp/$name"
    fetch "$source" "$name" "$tmp/$name.gz" || continue
    if [ "$(md5_of "$tmp/$name.gz")" != "$gz_md5" ]; then
      echo "$name.gz from $source: md5 mismatch, trying the next source" >&2
      continue
    fi
    gunzip -c "$tmp/$name.gz" >"$tmp/$name" && [ "$(md5_of "$tmp/$name")" = "$raw_md5" ] || continue
    mv "$tmp/$name" "$dest/$name" && done_file=yes && echo "$name: from $source" && break
  done
  if [ -z "$done_file" ]; then
    echo "download_mnist.sh: no source gave a valid $name.gz; set MNIST_MIRROR to a folder or URL holding the MNIST .gz files" >&2
    exit 2
  fi
done
echo "MNIST is in $dest"
