#!/usr/bin/env bash
# GPU check (issue 6): on a machine with an NVIDIA GPU, CUDA 13 (libcudart.so.13, libcublasLt.so.13, cuDNN 9 on
# LD_LIBRARY_PATH) and the .NET 10 SDK, verify that the CUDA capture path gives the same maps as the CPU path
# (relative L2 ≤ 1e-4) for every method, then print the bench ratios against the CUDA forward pass.
#
#   bash scripts/gpu-check.sh [MODEL.onnx] [INPUT.npy|png] [extra clrp explain args...]
#
# Defaults: the committed fashion-vgg model and a committed test image. Exit 0 when every map agrees, 1 otherwise.
# CLRP=/abs/path/to/clrp uses that prebuilt CLI (e.g. a self-contained publish from scripts/gpu-bundle.sh) and skips
# the dotnet build, so no .NET SDK is needed.
# The relevance walk itself runs in managed code either way; CUDA changes where ONNX Runtime runs the forward pass.
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-models/fashion-vgg.onnx}
input=${2:-models/samples/fashion-test-0000-ankle-boot.png}
shift $(( $# > 2 ? 2 : $# )) || true
extra=("$@")
if [ ${#extra[@]} -eq 0 ] && [ "$model" = models/fashion-vgg.onnx ]; then extra=(--mean 0.2860 --std 0.3530); fi

out=$(mktemp -d)
if [ -n "${CLRP:-}" ]; then
  clrp=$CLRP
else
  dotnet build Samples/Clrp.Cli -c Release -o "$out/cli" >/dev/null
  clrp="$out/cli/clrp"
fi

status=0
for method in lrp clrp1 clrp2 sglrp gradient gradient-input; do
  "$clrp" explain --model "$model" --input "$input" --method "$method" --device cpu --out "$out/cpu-$method.npy" "${extra[@]}" >/dev/null
  # No fallback allowed here: a CUDA failure must fail the check, not silently run on the CPU.
  if ! "$clrp" explain --model "$model" --input "$input" --method "$method" --device cuda:0 --out "$out/cuda-$method.npy" "${extra[@]}" 2>"$out/cuda-$method.err" >/dev/null; then
    echo "$method: CUDA run failed: $(cat "$out/cuda-$method.err")"; status=1; continue
  fi
  if grep -q "running on the CPU" "$out/cuda-$method.err"; then
    echo "$method: CUDA unavailable, the run fell back to the CPU: $(cat "$out/cuda-$method.err")"; status=1; continue
  fi
  "$clrp" compare --expected "$out/cpu-$method.npy" --actual "$out/cuda-$method.npy" --tolerance 1e-4 --label "$method cuda vs cpu" || status=1
done

"$clrp" bench --model "$model" --device cuda:0 --runs 10
exit $status
