#!/usr/bin/env bash
# GPU check: on a machine with an NVIDIA GPU, CUDA 13 (libcudart.so.13, libcublasLt.so.13, cuDNN 9 on LD_LIBRARY_PATH)
# and the .NET 10 SDK, verify for every method that the compiled explainer graph on CUDA gives the same maps as on the
# CPU and as the managed walk on the CPU (relative L2 ≤ 1e-4), then print the bench of both engines against the CUDA
# forward pass.
#
#   bash scripts/gpu-check.sh [MODEL.onnx] [INPUT.npy|png] [extra clrp explain args...]
#
# Defaults: the committed fashion-vgg model and a committed test image. Exit 0 when every map agrees, 1 otherwise.
# CLRP=/abs/path/to/clrp uses that prebuilt CLI (e.g. a self-contained publish from scripts/gpu-bundle.sh) and skips
# the dotnet build, so no .NET SDK is needed.
# The compiled engine runs the whole explanation on CUDA; the managed engine runs only its forward pass there.
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
  "$clrp" explain --model "$model" --input "$input" --method "$method" --device cpu --out "$out/cpu-$method.npy" --cache-dir none "${extra[@]}" >/dev/null
  "$clrp" explain --model "$model" --input "$input" --method "$method" --device cpu --engine managed --out "$out/managed-$method.npy" "${extra[@]}" >/dev/null
  # No fallback allowed here: a CUDA failure must fail the check, not silently run on the CPU.
  if ! "$clrp" explain --model "$model" --input "$input" --method "$method" --device cuda:0 --engine compiled --out "$out/cuda-$method.npy" --cache-dir none "${extra[@]}" 2>"$out/cuda-$method.err" >/dev/null; then
    echo "$method: CUDA run failed: $(cat "$out/cuda-$method.err")"; status=1; continue
  fi
  if grep -q "running on the CPU" "$out/cuda-$method.err"; then
    echo "$method: CUDA unavailable, the run fell back to the CPU: $(cat "$out/cuda-$method.err")"; status=1; continue
  fi
  "$clrp" compare --expected "$out/cpu-$method.npy" --actual "$out/cuda-$method.npy" --tolerance 1e-4 --label "$method compiled cuda vs compiled cpu" || status=1
  "$clrp" compare --expected "$out/managed-$method.npy" --actual "$out/cuda-$method.npy" --tolerance 1e-4 --label "$method compiled cuda vs managed cpu" || status=1
done

"$clrp" bench --model "$model" --device cuda:0 --runs 10 --engine both
exit $status
