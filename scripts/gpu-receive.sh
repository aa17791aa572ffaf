#!/usr/bin/env bash
# Receive one part of the GPU bundle on the lent GPU machine (see scripts/gpu-bundle.sh).
#
# Why: each remote call can carry only ~48 MB of ignored files, so the bundle goes over one part per call; the
# parts are collected in /tmp/clrp-parts (kept between calls while the machine stays warm).
#
#   bash scripts/gpu-receive.sh NN [NN...]     (in the repo root, with .gpu/part-NN carried)
#
# Copies .gpu/part-NN to $CLRP_PARTS (default /tmp/clrp-parts), then lists the parts present there with their
# sizes and SHA-256 (compare with .gpu/MANIFEST on the build machine). Exit 1 if a named part was not carried.
set -euo pipefail
cd "$(dirname "$0")/.."
parts_dir=${CLRP_PARTS:-/tmp/clrp-parts}
[ $# -ge 1 ] || { echo "usage: bash scripts/gpu-receive.sh NN [NN...]" >&2; exit 2; }
mkdir -p "$parts_dir"
status=0
for n in "$@"; do
  n=$(printf '%02d' "$((10#$n))")
  if [ -f ".gpu/part-$n" ]; then
    cp ".gpu/part-$n" "$parts_dir/part-$n.tmp" && mv "$parts_dir/part-$n.tmp" "$parts_dir/part-$n"
    echo "received part-$n"
  else
    echo "part-$n: .gpu/part-$n was not carried into this call" >&2; status=1
  fi
done
echo "parts in $parts_dir on $(hostname):"
for p in "$parts_dir"/part-*; do
  [ -f "$p" ] || { echo "  (none)"; break; }
  echo "  $(basename "$p") $(stat -c %s "$p") $(sha256sum "$p" | cut -d' ' -f1)"
done
exit $status
