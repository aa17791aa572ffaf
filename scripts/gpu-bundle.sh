#!/usr/bin/env bash
# Bundle a self-contained clrp (linux-x64, no .NET needed) plus ONNX Runtime's CUDA provider for a GPU check on a
# lent machine that has an NVIDIA GPU and CUDA 13 (in PyTorch's pip wheels) but no .NET SDK and no network.
#
# Why: files reach that machine only as a copy of the working tree plus a few "carried" ignored paths, at most
# 64 MiB per call. The CUDA provider alone is 284 MB (186 MB after xz), so the payload is cut into parts of at most
# 46 MB that go over one call each, then reassembled there by scripts/gpu-device-run.sh.
#
#   bash scripts/gpu-bundle.sh
#
# On this (build) machine:
#   1. dotnet publish Samples/Clrp.Cli -c Release -r linux-x64 --self-contained into a temp folder (artifacts under
#      $GPU_ARTIFACTS, default /tmp/gpu-artifacts, never the repo's bin/obj);
#   2. drops the CUDA and TensorRT providers and the Windows-only ONNX Runtime DLLs, tars+xz's the rest (clrp.tar.xz);
#   3. xz's libonnxruntime_providers_cuda.so once into $GPU_CACHE (default /tmp/gpu/cuda.so.xz; reused while it
#      still matches the published provider);
#   4. writes one uncompressed tar stream  cuda.so.xz | clrp.tar.xz | SHA256SUMS | MANIFEST  (fixed owners and mtime,
#      so the bytes of the CUDA provider, which come first, are identical from build to build) and splits it into
#      .gpu/part-01, .gpu/part-02, ... (46,000,000 bytes each at most). Only the last part(s) hold clrp.tar.xz:
#      after a code change only those change. SHA256SUMS (of the whole files) travels inside the last part.
#   5. writes .gpu/SHA256SUMS (whole files) and .gpu/MANIFEST (each part's size and SHA-256), prints them and
#      the remote calls to make, one per part (carry .gpu/part-NN):
#        bash scripts/gpu-receive.sh NN        (carry .gpu/part-NN)   once per part, CUDA parts first
#        bash scripts/gpu-device-run.sh        (no carry)             reassemble, verify, run the checks
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
artifacts=${GPU_ARTIFACTS:-/tmp/gpu-artifacts}
cache=${GPU_CACHE:-/tmp/gpu}
part_bytes=${GPU_PART_BYTES:-46000000}
gpu_dir=$root/.gpu

# Keep .gpu/ out of git (info/exclude of the real git dir, and .gitignore where the repo has one).
git_dir=$(git rev-parse --git-dir 2>/dev/null || true)
if [ -n "$git_dir" ]; then
  mkdir -p "$git_dir/info"
  grep -qxF '/.gpu/' "$git_dir/info/exclude" 2>/dev/null || echo '/.gpu/' >> "$git_dir/info/exclude"
fi
if [ -f .gitignore ] && ! grep -qxF '/.gpu/' .gitignore; then echo '/.gpu/' >> .gitignore; fi

work=$(mktemp -d /tmp/gpu-bundle.XXXXXX)
trap 'rm -rf "$work"' EXIT
pub=$work/clrp

echo "== dotnet publish (artifacts: $artifacts)"
dotnet publish Samples/Clrp.Cli -c Release -r linux-x64 --self-contained true \
  --artifacts-path "$artifacts" -o "$pub" -nologo -v quiet
[ -x "$pub/clrp" ] || { echo "publish produced no $pub/clrp" >&2; exit 1; }
provider=$pub/libonnxruntime_providers_cuda.so
[ -f "$provider" ] || { echo "publish produced no libonnxruntime_providers_cuda.so" >&2; exit 1; }

echo "== CUDA provider (xz cache in $cache)"
mkdir -p "$cache"
cuda_xz=$cache/cuda.so.xz
src_sum=$(sha256sum "$provider" | cut -d' ' -f1)
if [ -f "$cuda_xz" ] && [ "$(cat "$cuda_xz.src-sha256" 2>/dev/null)" = "$src_sum" ]; then
  echo "reusing $cuda_xz (matches the published provider)"
elif [ -f "$cuda_xz" ] && [ "$(xz -dc "$cuda_xz" | sha256sum | cut -d' ' -f1)" = "$src_sum" ]; then
  echo "$src_sum" > "$cuda_xz.src-sha256"
  echo "reusing $cuda_xz (checked once: it decompresses to the published provider)"
else
  echo "compressing the provider with xz -9e (several minutes on 2 cores)"
  rm -f "$cuda_xz" "$cuda_xz.src-sha256"
  xz -9e -T0 -c "$provider" > "$cuda_xz.tmp"
  mv "$cuda_xz.tmp" "$cuda_xz"
  echo "$src_sum" > "$cuda_xz.src-sha256"
fi

echo "== clrp.tar.xz"
# Not needed on linux-x64: the CUDA provider (sent separately), TensorRT (not used), ONNX Runtime's Windows DLLs,
# and the XML doc files.
rm -f "$pub"/libonnxruntime_providers_cuda.so "$pub"/libonnxruntime_providers_tensorrt.so \
      "$pub"/onnxruntime.dll "$pub"/onnxruntime_providers_*.dll "$pub"/*.xml
# SkiaSharp's native library needs fontconfig (and freetype, png, brotli), which a bare CUDA image may lack (the H100
# image did: "libfontconfig.so.1: cannot open shared object file"). They travel in native-extra/, which the device
# script appends to LD_LIBRARY_PATH, so the machine's own copies win where it has them.
mkdir -p "$pub/native-extra"
for lib in libfontconfig.so.1 libfreetype.so.6 libpng16.so.16 libbrotlidec.so.1 libbrotlicommon.so.1 libexpat.so.1; do
  # awk reads ldconfig's whole output (no early exit): an early exit would end ldconfig with SIGPIPE under pipefail.
  src=$(ldconfig -p | awk -v l="$lib" '$1 == l && /x86-64/ && !found {print $NF; found = 1}')
  [ -n "$src" ] && cp -L "$src" "$pub/native-extra/$lib" || echo "note: $lib not found on this machine; not bundled"
done
stage=$work/stage
mkdir -p "$stage"
tar -C "$work" --owner=0 --group=0 --numeric-owner -cf - clrp | xz -9 -T0 > "$stage/clrp.tar.xz"
(cd "$stage" && ln -s "$cuda_xz" cuda.so.xz && sha256sum cuda.so.xz clrp.tar.xz > SHA256SUMS)
{
  echo "clrp GPU bundle"
  echo "built: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo none)$(git diff --quiet HEAD 2>/dev/null || echo ' (with uncommitted changes)')"
  echo "files: cuda.so.xz $(stat -L -c %s "$stage/cuda.so.xz") bytes (libonnxruntime_providers_cuda.so sha256 $src_sum), clrp.tar.xz $(stat -c %s "$stage/clrp.tar.xz") bytes"
} > "$stage/MANIFEST"

echo "== parts of at most $part_bytes bytes in .gpu/"
mkdir -p "$gpu_dir"
rm -f "$gpu_dir"/part-* "$gpu_dir"/SHA256SUMS "$gpu_dir"/MANIFEST
# Fixed header fields, so that the leading CUDA-provider parts are byte-identical across builds.
tar -C "$stage" --dereference --owner=0 --group=0 --numeric-owner --mtime=@0 --mode=u=rw,go=r --format=gnu \
    -cf - cuda.so.xz clrp.tar.xz SHA256SUMS MANIFEST \
  | split -b "$part_bytes" -a 2 --numeric-suffixes=1 - "$gpu_dir/part-"
cp "$stage/SHA256SUMS" "$gpu_dir/SHA256SUMS"
parts=("$gpu_dir"/part-*)
cuda_end=$(( 512 + $(stat -L -c %s "$stage/cuda.so.xz") ))   # end of the provider's bytes in the tar stream
{
  cat "$stage/MANIFEST"
  echo "parts: ${#parts[@]} (tar stream: cuda.so.xz | clrp.tar.xz | SHA256SUMS | MANIFEST; cat part-* | tar -x)"
  offset=0
  for p in "${parts[@]}"; do
    size=$(stat -c %s "$p")
    if [ $((offset + size)) -le "$cuda_end" ]; then what="cuda.so.xz"
    elif [ "$offset" -lt "$cuda_end" ]; then what="cuda.so.xz tail + clrp.tar.xz + sums"
    else what="clrp.tar.xz + sums"; fi
    echo "$(basename "$p") $size $(sha256sum "$p" | cut -d' ' -f1) $what"
    offset=$((offset + size))
  done
} > "$gpu_dir/MANIFEST"

cat "$gpu_dir/MANIFEST"
echo
echo "SHA256SUMS (whole files; also inside the last part):"
cat "$gpu_dir/SHA256SUMS"
echo
echo "Remote calls, one per line (each carries exactly the named part), then the check:"
for p in "${parts[@]}"; do
  n=${p##*/part-}
  echo "  bash scripts/gpu-receive.sh $n      carry: .gpu/part-$n"
done
echo "  bash scripts/gpu-device-run.sh      carry: none"
