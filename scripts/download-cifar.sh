#!/usr/bin/env bash
# Downloads the official CIFAR binary archives from the Toronto site, checks their MD5 (as
# published on https://www.cs.toronto.edu/~kriz/cifar.html) and unpacks them where crcd looks:
#   <root>/cifar-100-binary/{train,test}.bin
#   <root>/cifar-10-batches-bin/{data_batch_1..5,test_batch}.bin
# Usage: scripts/download-cifar.sh [cifar100|cifar10|all] [root]
#   root defaults to $CRCD_DATA, else ~/.crcd/data (the default data root of crcd).
# On a machine without internet, run it elsewhere and copy <root> over.
set -euo pipefail
which_set="${1:-cifar100}"
root="${2:-${CRCD_DATA:-$HOME/.crcd/data}}"
mkdir -p "$root"

fetch() { # name url md5 folder
  local name="$1" url="$2" md5="$3" folder="$4"
  local archive="$root/$(basename "$url")"
  if [ -d "$root/$folder" ] && [ -n "$(ls -A "$root/$folder" 2>/dev/null)" ]; then
    echo "$name: already in $root/$folder"
    return
  fi
  if [ ! -f "$archive" ] || ! echo "$md5  $archive" | md5sum -c --status; then
    echo "$name: downloading $url"
    if command -v curl >/dev/null 2>&1; then
      curl -fL --retry 3 -o "$archive.part" "$url"
    else
      wget -O "$archive.part" "$url"
    fi
    mv "$archive.part" "$archive"
  fi
  echo "$md5  $archive" | md5sum -c - || { echo "$name: MD5 mismatch, delete $archive and retry" >&2; exit 1; }
  tar -xzf "$archive" -C "$root" "$folder"
  rm -f "$archive"
  echo "$name: unpacked into $root/$folder"
}

case "$which_set" in
  cifar100|all)
    fetch cifar100 https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz \
      03b5dce01913d631647c71ecec9e9cb8 cifar-100-binary ;;&
  cifar10|all)
    fetch cifar10 https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz \
      c32a1d4ab5d03f1284b67883e8d87530 cifar-10-batches-bin ;;
  cifar100) ;;
  *) echo "usage: $0 [cifar100|cifar10|all] [root]" >&2; exit 2 ;;
esac
