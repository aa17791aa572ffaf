#!/usr/bin/env bash
# Consumer test: the packages and the `clrp` tool as a user gets them, outside the repository's build (issue 16).
#   1. copies this checkout's sources to a temporary folder and packs Clrp.Onnx, Clrp.MLNet and the clrp tool there
#      (the checkout's own bin/ and obj/ are left alone), with a version of its own (X.Y.Z-consumer.<time>.<pid>) so that
#      no package cached by an earlier run can stand in for this one;
#   2. `dotnet new console`, a nuget.config with that folder beside the usual feed, `dotnet add package Clrp.MLNet`
#      (+ ImageAnalytics and the CPU ONNX Runtime, the app's choices), and runs scripts/consumer/Program.cs: the README's
#      ML.NET pipeline on a shipped image, then the core API on the same tensor;
#   3. `dotnet tool install clrp --tool-path` and, from a folder that is not the repository, `clrp info` and
#      `clrp explain` (image and tensor), plus `--device cuda` on a CPU-only ONNX Runtime (must fall back);
#   4. checks that the tool's maps equal the app's (max |Δ| ≤ 1e-6) and what the app's output holds: ONNX Runtime's
#      CPU library and no CUDA provider, a libSkiaSharp.so that needs no libfontconfig; and that the app without an
#      ONNX Runtime native package stops with a DeviceUnavailableException that names the packages to add.
# Prints the package sizes and ends with "consumer test passed: <sizes>" (exit 0) or the first failure (exit 1).
# KEEP=1 keeps the temporary folder.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

work="$(mktemp -d "${TMPDIR:-/tmp}/clrp-consumer.XXXXXX")"
prefix="$(sed -n 's:.*<VersionPrefix>\(.*\)</VersionPrefix>.*:\1:p' "$repo/Directory.Build.props")"
suffix="consumer.$(date -u +%Y%m%d%H%M%S).$$"
version="$prefix-$suffix"
cache="${NUGET_PACKAGES:-$HOME/.nuget/packages}"
cleanup() {
  for id in clrp.onnx clrp.mlnet clrp; do
    rm -rf "${cache:?}/$id/$version"; rmdir --ignore-fail-on-non-empty "$cache/$id" 2>/dev/null || true
  done
  if [ "${KEEP:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
fail() { echo "consumer test FAILED: $*" >&2; exit 1; }
pin() { sed -n "s:.*<PackageVersion Include=\"$1\" Version=\"\([^\"]*\)\".*:\1:p" "$repo/Directory.Packages.props"; }
step() { echo "== $* ($(date -u +%H:%M:%S))"; }

step "copy the sources to $work/src"
mkdir -p "$work/src" "$work/packages" "$work/app" "$work/data" "$work/maps"
(cd "$repo" && git ls-files -z --cached --others --exclude-standard | tar --null --ignore-failed-read -T - -cf - 2>/dev/null) | tar -xf - -C "$work/src"

step "dotnet pack, version $version"
for project in Clrp.Onnx/Clrp.Onnx.csproj Clrp.MLNet/Clrp.MLNet.csproj Samples/Clrp.Cli/Clrp.Cli.csproj; do
  dotnet pack "$work/src/$project" -c Release -o "$work/packages" --version-suffix "$suffix" -v q -nologo -clp:ErrorsOnly \
    || fail "dotnet pack $project"
done
echo "packages:"
for f in "$work/packages"/*; do
  awk -v n="$(basename "$f")" -v b="$(stat -c %s "$f")" 'BEGIN { printf "  %-50s %10d bytes %7.2f MiB\n", n, b, b / 1048576 }'
done
for p in "Clrp.Onnx.$version.nupkg" "Clrp.Onnx.$version.snupkg" "Clrp.MLNet.$version.nupkg" "Clrp.MLNet.$version.snupkg" "clrp.$version.nupkg"; do
  [ -f "$work/packages/$p" ] || fail "dotnet pack did not write $p"
done

cp "$repo/models/fashion-vgg.onnx" "$repo/models/samples/fashion-test-0000-ankle-boot.png" "$work/data/"
model="$work/data/fashion-vgg.onnx"; image="$work/data/fashion-test-0000-ankle-boot.png"

step "a fresh console app that references Clrp.MLNet $version from $work/packages"
cd "$work/app"
dotnet new console -n ClrpConsumer -o . --no-update-check >/dev/null || fail "dotnet new console"
cat > nuget.config <<EOF
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="clrp-local" value="$work/packages" />
  </packageSources>
</configuration>
EOF
dotnet add package Clrp.MLNet --version "$version" --no-restore >/dev/null
dotnet add package Microsoft.ML.ImageAnalytics --version "$(pin Microsoft.ML.ImageAnalytics)" --no-restore >/dev/null
dotnet add package Microsoft.ML.OnnxRuntime --version "$(pin Microsoft.ML.OnnxRuntime)" --no-restore >/dev/null
cp "$repo/scripts/consumer/Program.cs" Program.cs
# Warnings are errors here too: a package that makes a user's build warn (NU1xxx, CS…) fails the test.
dotnet build -c Release -o "$work/app/bin/out" -p:TreatWarningsAsErrors=true -v q -nologo -clp:ErrorsOnly || fail "the app does not build"
out="$work/app/bin/out"
echo "app output: $(du -sh "$out" | cut -f1)"
[ -n "$(find "$out" -name 'libonnxruntime.so*' -print -quit)" ] || fail "no ONNX Runtime native library in the app's output"
if [ -n "$(find "$out" -name 'libonnxruntime_providers_cuda*' -print -quit)" ]; then
  fail "the app got ONNX Runtime's CUDA provider without asking for it"
fi
skia="$(find "$out" -path '*linux-x64*' -name 'libSkiaSharp.so' -print -quit)"
[ -n "$skia" ] || fail "no linux-x64 libSkiaSharp.so in the app's output"
if ldd "$skia" | grep -q fontconfig; then fail "$skia needs libfontconfig"; fi
echo "app output holds libonnxruntime.so (CPU), no CUDA provider, and a libSkiaSharp.so without libfontconfig"

step "the app: README's ML.NET pipeline + core API"
dotnet "$out/ClrpConsumer.dll" explain "$model" "$image" "$work/maps" || fail "the app failed"

step "dotnet tool install clrp --tool-path $work/tools"
dotnet tool install clrp --tool-path "$work/tools" --add-source "$work/packages" --version "$version" || fail "dotnet tool install"
clrp="$work/tools/clrp"
# The packed tool carries ONNX Runtime's CPU build (Samples/Clrp.Cli/Clrp.Cli.csproj): a GPU build here would be 410 MiB.
if [ -n "$(find "$work/tools/.store" -name '*onnxruntime_providers_cuda*' -print -quit)" ]; then
  fail "the packed tool carries ONNX Runtime's CUDA provider (the CPU build was expected)"
fi
[ -n "$(find "$work/tools/.store" -path '*linux-x64*' -name 'libonnxruntime.so' -print -quit)" ] || fail "the packed tool has no linux-x64 libonnxruntime.so"
cd "$work/data"  # any folder: the tool needs nothing from the repository
"$clrp" info --model fashion-vgg.onnx | head -12 || fail "clrp info"
"$clrp" explain --model fashion-vgg.onnx --input fashion-test-0000-ankle-boot.png --mean 0.2860 --std 0.3530 --method clrp2 \
  --out "$work/maps/tool-image.npy" --heatmap "$work/maps/tool-heatmap.png" || fail "clrp explain (image)"
"$clrp" explain --model fashion-vgg.onnx --input "$work/maps/input.npy" --mean 0.2860 --std 0.3530 --method clrp2 \
  --out "$work/maps/tool-tensor.npy" || fail "clrp explain (tensor)"
[ -s "$work/maps/tool-heatmap.png" ] || fail "clrp explain wrote no heatmap"
# The CPU build of ONNX Runtime has no CUDA provider: --device cuda must fall back to the CPU, say so, and agree.
"$clrp" explain --model fashion-vgg.onnx --input "$work/maps/input.npy" --mean 0.2860 --std 0.3530 --method clrp2 \
  --device cuda --out "$work/maps/tool-cuda-fallback.npy" > "$work/maps/fallback.log" 2>&1 || { cat "$work/maps/fallback.log"; fail "clrp explain --device cuda did not fall back"; }
grep -i 'cpu' "$work/maps/fallback.log" | head -2

step "the same app without an ONNX Runtime native package: a clear error, not a crash inside ONNX Runtime"
cd "$work/app"
dotnet remove package Microsoft.ML.OnnxRuntime >/dev/null
dotnet build -c Release -o "$work/app/bin/no-native" -v q -nologo -clp:ErrorsOnly >/dev/null || fail "the app without ONNX Runtime natives does not build"
if dotnet "$work/app/bin/no-native/ClrpConsumer.dll" explain "$model" "$image" "$work/no-native" > "$work/no-native.log" 2>&1; then
  fail "the app explained without ONNX Runtime's native library"
fi
grep -m1 'DeviceUnavailableException' "$work/no-native.log" | cut -c1-300
grep -q 'reference the package Microsoft.ML.OnnxRuntime (CPU) or Microsoft.ML.OnnxRuntime.Gpu (CUDA)' "$work/no-native.log" \
  || { head -5 "$work/no-native.log"; fail "no clear error without ONNX Runtime's native library"; }

step "the tool's maps against the app's"
compare() { dotnet "$out/ClrpConsumer.dll" compare "$work/maps/$1" "$work/maps/$2" 1e-6 || fail "$1 and $2 differ"; }
compare tool-image.npy mlnet.npy
compare tool-tensor.npy core.npy
compare tool-cuda-fallback.npy core.npy
sizes="$(cd "$work/packages" && for f in *; do printf '%s %s KiB, ' "${f/.$version/}" "$(( $(stat -c %s "$f") / 1024 ))"; done)"
echo "consumer test passed: ${sizes%, }"
