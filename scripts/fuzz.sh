#!/usr/bin/env bash
# Fuzzes one ClrpMl input reader with libFuzzer over SharpFuzz-instrumented Clrp.Onnx.dll:
#   scripts/fuzz.sh TARGET SECONDS [extra libFuzzer flags]      TARGET: onnx | npy | image
# The corpus grows in TestResults/fuzz/corpus/TARGET (seeds: scripts/fuzz/corpus/TARGET); a crash, an exception other
# than ClrpException, a hang (10 s) or 2 GB of memory stops the run and leaves the input in TestResults/fuzz/findings/.
# Replay a finding: CLRP_FUZZ_TARGET=TARGET dotnet TestResults/fuzz/bin/Clrp.Fuzz.dll --replay FILE
# Needs (installed when missing, Debian): clang, libclang-rt-14-dev; the SharpFuzz.CommandLine 2.3.0 dotnet tool.
set -euo pipefail
cd "$(dirname "$0")/.."

target=${1:?usage: scripts/fuzz.sh onnx|npy|image SECONDS [libFuzzer flags]}
seconds=${2:?usage: scripts/fuzz.sh TARGET SECONDS}
shift 2
case "$target" in onnx|npy|image) ;; *) echo "unknown target '$target': onnx, npy or image" >&2; exit 2 ;; esac

work="$(pwd)/TestResults/fuzz"
mkdir -p "$work/tools" "$work/corpus/$target" "$work/findings"

if ! command -v clang >/dev/null || [ ! -e /usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang libclang-rt-14-dev >/dev/null
fi
libfuzzer="$work/tools/libfuzzer-dotnet"
if [ ! -x "$libfuzzer" ] || [ scripts/fuzz/libfuzzer-dotnet.cc -nt "$libfuzzer" ]; then
  clang -O2 -fsanitize=fuzzer scripts/fuzz/libfuzzer-dotnet.cc -o "$libfuzzer"
fi
if [ ! -x "$work/tools/sharpfuzz" ]; then
  dotnet tool install SharpFuzz.CommandLine --version 2.3.0 --tool-path "$work/tools" >/dev/null
fi

# A fresh publish each time (CLRP_FUZZ_REUSE_BUILD=1 keeps the last one, as CI does between targets): SharpFuzz
# rewrites the assembly in place and must not instrument it twice.
if [ "${CLRP_FUZZ_REUSE_BUILD:-0}" != 1 ] || [ ! -e "$work/bin/.instrumented" ]; then
  rm -rf "$work/bin"
  dotnet publish Tests/Clrp.Fuzz/Clrp.Fuzz.csproj -c Release -o "$work/bin" --nologo -v quiet >/dev/null
  "$work/tools/sharpfuzz" "$work/bin/Clrp.Onnx.dll"
  touch "$work/bin/.instrumented"
fi

echo "fuzzing '$target' for ${seconds}s (corpus $work/corpus/$target, seeds scripts/fuzz/corpus/$target)"
CLRP_FUZZ_TARGET="$target" "$libfuzzer" --target_path=dotnet --target_arg="$work/bin/Clrp.Fuzz.dll" \
  -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
  -artifact_prefix="$work/findings/$target-" "$@" "$work/corpus/$target" "scripts/fuzz/corpus/$target"
