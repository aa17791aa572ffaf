#!/usr/bin/env bash
# GPU check of clrp's CUDA path on the lent GPU machine, with the self-contained bundle from scripts/gpu-bundle.sh
# (no .NET SDK there). Run in the repo root after every part went over with scripts/gpu-receive.sh:
#
#   bash scripts/gpu-device-run.sh
#
# 1. reassembles $CLRP_PARTS/part-* (default /tmp/clrp-parts), checks the SHA-256 of the whole files, unpacks
#    clrp into $CLRP_HOME (default /tmp/clrp) with libonnxruntime_providers_cuda.so beside libonnxruntime.so
#    (skipped when the same bundle is already unpacked there);
# 2. puts every nvidia/*/lib folder of the Python site-packages (CUDA 13, cuBLAS, cuDNN from PyTorch's wheels) on
#    LD_LIBRARY_PATH; prints nvidia-smi -L;
# 3. runs (each step with a time limit, all steps even when one fails; logs in $OUT, default /tmp/out):
#    a. gpu-check    scripts/gpu-check.sh with CLRP=the bundled clrp on models/fashion-vgg.onnx (CUDA vs CPU maps
#                    of every method, then a CUDA bench);
#    b. vgg16-export torchvision VGG16, random weights (seed 0), opset 13, input "input" [N,3,224,224] -> vgg16.onnx,
#                    and a random input x224.npy [1,3,224,224] float32;
#    c. bench-cuda / bench-cpu   clrp bench on vgg16.onnx, --runs 5 --profile $VGG_BENCH_ARGS (default
#                    "--methods lrp,clrp1 --batch 4": VGG16's walk is long; set VGG_BENCH_ARGS="" for all rows);
#    d. vgg16-<method>-{cpu,cuda} + compare-<method>  clrp explain --out on both devices and clrp compare
#                    (relative L2 <= 1e-4) for lrp and clrp1.
#    A CUDA run that fell back to the CPU counts as a failure. Exit 1 if any step failed, 0 otherwise.
#
# GPU_CHECK_DRY=1 (a machine without a GPU, to test the bundle): skips nvidia-smi and the GPU steps, runs
# clrp explain --device cpu on fashion-vgg and --device cuda:0, which must fall back with a clear note.
# GPU_CHECK_DRY_TORCH=1 adds steps b-d in dry mode (CUDA falls back to the CPU there, which is then tolerated).
# Other knobs: PYTHON (default /opt/torch/.venv/bin/python3, else python3), GPU_CHECK_BUDGET_S (default 420:
# total seconds for the steps; each step's limit is cut to what is left).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
parts_dir=${CLRP_PARTS:-/tmp/clrp-parts}
home=${CLRP_HOME:-/tmp/clrp}
dry=${GPU_CHECK_DRY:-0}
dry_torch=${GPU_CHECK_DRY_TORCH:-0}
budget=${GPU_CHECK_BUDGET_S:-420}
if [ -n "${VGG_BENCH_ARGS+set}" ]; then vgg_bench_args=$VGG_BENCH_ARGS; else vgg_bench_args="--methods lrp,clrp1 --batch 4"; fi
work=${GPU_CHECK_WORK:-/tmp/clrp-work}
mkdir -p "$work"

main() {
t_start=$SECONDS

# ---------- 1. reassemble, verify, unpack ----------
echo "== bundle"
shopt -s nullglob
parts=("$parts_dir"/part-*)
shopt -u nullglob
[ ${#parts[@]} -gt 0 ] || { echo "no parts in $parts_dir: run scripts/gpu-receive.sh NN for each part first"; exit 1; }
for i in $(seq 1 ${#parts[@]}); do
  [ -f "$parts_dir/part-$(printf %02d "$i")" ] || { echo "part-$(printf %02d "$i") is missing; present: ${parts[*]##*/}"; exit 1; }
done
payload=$work/payload
rm -rf "$payload" && mkdir -p "$payload"
if ! cat "${parts[@]}" | tar -xf - -C "$payload" 2>"$work/tar.err"; then
  echo "the parts do not make a whole bundle (last part missing or a part damaged?): $(head -c 400 "$work/tar.err")"
  echo "present: $(for p in "${parts[@]}"; do echo -n "${p##*/}=$(stat -c %s "$p") "; done)"
  exit 1
fi
[ -f "$payload/SHA256SUMS" ] || { echo "no SHA256SUMS in the bundle: the last part is missing"; exit 1; }
(cd "$payload" && sha256sum -c SHA256SUMS) || { echo "SHA-256 mismatch: resend the parts"; exit 1; }
cat "$payload/MANIFEST"

unxz_to() {  # unxz_to FILE.xz DEST: xz if present, else Python's lzma
  if command -v xz >/dev/null; then xz -dc "$1" > "$2"
  else "${py:-python3}" -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"), 1 << 20)' "$1" "$2"; fi
}
if [ -f "$home/.bundle-sums" ] && cmp -s "$home/.bundle-sums" "$payload/SHA256SUMS" && [ -x "$home/clrp" ]; then
  echo "$home already holds this bundle"
else
  rm -rf "$home" "$work/unpack" && mkdir -p "$work/unpack"
  unxz_to "$payload/clrp.tar.xz" "$work/clrp.tar"
  tar -xf "$work/clrp.tar" -C "$work/unpack" && rm -f "$work/clrp.tar"
  mv "$work/unpack/clrp" "$home"
  unxz_to "$payload/cuda.so.xz" "$home/libonnxruntime_providers_cuda.so"
  chmod 755 "$home/libonnxruntime_providers_cuda.so"
  cp "$payload/SHA256SUMS" "$home/.bundle-sums"
  echo "unpacked into $home"
fi
rm -rf "$payload"
clrp=$home/clrp

# ---------- 2. environment ----------
echo "== environment"
py=${PYTHON:-}
if [ -z "$py" ]; then
  for c in /opt/torch/.venv/bin/python3 python3; do
    if command -v "$c" >/dev/null && "$c" -c 'import torch' 2>/dev/null; then py=$c; break; fi
  done
  py=${py:-python3}
fi
echo "python: $py"
nvlibs=$("$py" - <<'EOF' 2>/dev/null || true
import glob, os, site, sys
roots = []
try:
    import nvidia
    roots += list(nvidia.__path__)
except Exception:
    pass
for sp in site.getsitepackages() + [site.getusersitepackages()] + sys.path:
    roots.append(os.path.join(sp, "nvidia"))
dirs = []
for r in roots:
    for d in sorted(glob.glob(os.path.join(r, "*", "lib"))):
        d = os.path.realpath(d)
        if d not in dirs and glob.glob(os.path.join(d, "lib*.so*")):
            dirs.append(d)
print(":".join(dirs))
EOF
)
export LD_LIBRARY_PATH="${nvlibs}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}:$home/native-extra"
echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
for lib in libcudart.so.13 libcublas.so.13 libcublasLt.so.13 libcurand.so.10 libcudnn.so.9; do
  found=$(IFS=:; for d in $LD_LIBRARY_PATH; do [ -e "$d/$lib" ] && { echo "$d"; break; }; done || true)
  echo "  $lib: ${found:-NOT FOUND}"
done
missing=$(ldd "$home/libonnxruntime_providers_cuda.so" 2>/dev/null | grep 'not found' || true)
[ -z "$missing" ] || echo "CUDA provider dependencies not found: $missing"
# The .NET runtime needs ICU unless told to run invariant; a PyTorch image may not have libicu.
if ! { ldconfig -p 2>/dev/null || /sbin/ldconfig -p 2>/dev/null || true; } | grep -q 'libicuuc\.so'; then
  export DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1
  echo "no libicu found: DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1"
fi
"$clrp" --version >/dev/null || { echo "the bundled clrp does not start"; exit 1; }
echo "clrp $("$clrp" --version)  ($(nproc) cores)"
if [ "$dry" != 1 ]; then
  nvidia-smi -L || echo "nvidia-smi -L failed"
fi

# ---------- 3. steps ----------
failed=0
summary=()
# step NAME LIMIT_S CMD...: runs CMD with its output in $OUT/NAME.log, within LIMIT_S and the overall budget.
step() {
  local name=$1 limit=$2; shift 2
  local left=$(( budget - (SECONDS - t_start) )) t0=$SECONDS rc=0 result
  if [ "$left" -lt 10 ]; then
    failed=1; summary+=("$name: NOT RUN (budget of ${budget}s spent)"); echo "[$name] not run: budget spent"; return 0
  fi
  [ "$limit" -le "$left" ] || limit=$left
  echo "[$name] $* (limit ${limit}s)"
  timeout -k 5 "$limit" "$@" > "$OUT/$name.log" 2>&1 || rc=$?
  if [ $rc -eq 0 ]; then result=ok
  elif [ $rc -eq 124 ] || [ $rc -eq 137 ]; then result="FAILED (timed out after ${limit}s)"; failed=1
  else result="FAILED (exit $rc)"; failed=1; fi
  summary+=("$name: $result, $((SECONDS - t0)) s")
  echo "[$name] $result, $((SECONDS - t0)) s"
  case $name in compare-*|dry-compare) cat "$OUT/$name.log" ;; *) [ $rc -eq 0 ] || tail -n 8 "$OUT/$name.log" ;; esac
  return 0
}
# A CUDA run whose log says it fell back to the CPU is a failure (tolerated in dry mode, where there is no GPU).
check_no_fallback() {
  local name=$1
  if grep -q "running on the CPU" "$OUT/$name.log" 2>/dev/null; then
    if [ "$dry" = 1 ]; then summary+=("$name: fell back to the CPU (expected: dry run)")
    else failed=1; summary+=("$name: FAILED: CUDA unavailable, fell back to the CPU: $(grep -m1 'running on the CPU' "$OUT/$name.log")"); fi
  fi
}
fm=models/fashion-vgg.onnx
fin=models/samples/fashion-test-0000-ankle-boot.png
fnorm=(--mean 0.2860 --std 0.3530)

if [ "$dry" = 1 ]; then
  step dry-explain-cpu 120 "$clrp" explain --model "$fm" --input "$fin" "${fnorm[@]}" --method clrp1 --device cpu --out "$work/dry-cpu.npy"
  step dry-explain-cuda 120 "$clrp" explain --model "$fm" --input "$fin" "${fnorm[@]}" --method clrp1 --device cuda:0 --out "$work/dry-cuda.npy"
  if grep -q "running on the CPU" "$OUT/dry-explain-cuda.log"; then
    summary+=("dry-explain-cuda: fell back with: $(grep -m1 'running on the CPU' "$OUT/dry-explain-cuda.log")")
  elif [ -f "$work/dry-cuda.npy" ]; then
    failed=1; summary+=("dry-explain-cuda: FAILED: no fallback note, yet no GPU is expected here")
  fi
  step dry-compare 60 "$clrp" compare --expected "$work/dry-cpu.npy" --actual "$work/dry-cuda.npy" --label "dry clrp1 cuda(fallback) vs cpu"
else
  step gpu-check 240 env CLRP="$clrp" bash scripts/gpu-check.sh
fi

if [ "$dry" != 1 ] || [ "$dry_torch" = 1 ]; then
  cat > "$work/export_vgg16.py" <<'EOF'
import inspect, sys, time
import numpy as np, torch, torchvision
out = sys.argv[1]
t0 = time.time()
torch.manual_seed(0)
model = torchvision.models.vgg16(weights=None).eval()
x = torch.randn(1, 3, 224, 224, dtype=torch.float32)
np.save(f"{out}/x224.npy", x.numpy().astype(np.float32))
kw = dict(opset_version=13, input_names=["input"], output_names=["logits"],
          dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}}, do_constant_folding=True)
if "dynamo" in inspect.signature(torch.onnx.export).parameters:
    kw["dynamo"] = False
with torch.no_grad():
    logits = model(x)
    try:
        torch.onnx.export(model, (x,), f"{out}/vgg16.onnx", **kw)
    except Exception as e:  # a torch without the TorchScript exporter: the dynamo one (needs onnxscript)
        print(f"TorchScript export failed ({type(e).__name__}: {e}); trying dynamo=True", flush=True)
        kw.pop("dynamo", None); kw.pop("dynamic_axes"); kw["opset_version"] = 18
        n = torch.export.Dim("N", min=1, max=64)
        torch.onnx.export(model, (x,), f"{out}/vgg16.onnx", dynamo=True, dynamic_shapes={"x": {0: n}},
                          external_data=False, **kw)
import onnx
m = onnx.load(f"{out}/vgg16.onnx", load_external_data=False)
print("torch", torch.__version__, "torchvision", torchvision.__version__, "onnx", onnx.__version__,
      "opset", [o.version for o in m.opset_import], "ops", sorted({n.op_type for n in m.graph.node}),
      "torch argmax", int(logits.argmax()), f"logit {float(logits.max()):.4f}", f"{time.time() - t0:.1f} s")
EOF
  step vgg16-export 180 "$py" "$work/export_vgg16.py" "$work"
  vm=$work/vgg16.onnx vx=$work/x224.npy
  # shellcheck disable=SC2086  # VGG_BENCH_ARGS is a word list
  step bench-cuda 150 "$clrp" bench --model "$vm" --input "$vx" --device cuda:0 --runs 5 --profile $vgg_bench_args
  check_no_fallback bench-cuda
  # shellcheck disable=SC2086
  step bench-cpu 150 "$clrp" bench --model "$vm" --input "$vx" --device cpu --runs 5 --profile $vgg_bench_args
  for method in lrp clrp1; do
    step "vgg16-$method-cpu" 90 "$clrp" explain --model "$vm" --input "$vx" --method "$method" --device cpu --out "$work/vgg16-$method-cpu.npy"
    step "vgg16-$method-cuda" 90 "$clrp" explain --model "$vm" --input "$vx" --method "$method" --device cuda:0 --out "$work/vgg16-$method-cuda.npy"
    check_no_fallback "vgg16-$method-cuda"
    step "compare-$method" 30 "$clrp" compare --expected "$work/vgg16-$method-cpu.npy" --actual "$work/vgg16-$method-cuda.npy" --tolerance 1e-4 --label "vgg16 $method cuda vs cpu"
  done
fi

# ---------- summary ----------
echo
# The bench tables (without the per-operator profiles: those are in the logs) and gpu-check's results.
for name in gpu-check bench-cuda bench-cpu; do
  [ -f "$OUT/$name.log" ] || continue
  echo "--- $name.log"
  if [ "$name" = gpu-check ]; then grep -v '^ ' "$OUT/$name.log" | head -n 40 || true; else sed '/^profile of/,$d' "$OUT/$name.log" | head -n 40 || true; fi
done
echo
echo "== summary ($((SECONDS - t_start)) s, logs in $OUT)"
printf '  %s\n' "${summary[@]}"
if [ $failed -eq 0 ]; then echo "ALL OK"; else echo "SOME CHECKS FAILED"; fi
return $failed
}

main 2>&1 | tee "$OUT/device-run.log"
exit "${PIPESTATUS[0]}"
