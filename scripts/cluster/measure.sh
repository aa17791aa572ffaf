#!/usr/bin/env bash
# Throughput of the explain cluster with 1, 2 and 3 silos on this machine against batch mode (one process), for
# fashion-vgg and fashion-pair-vgg: N scene pictures (default 1000), CLRP1, paper rules, one worker per silo, shards of 32.
# Every cluster run's output folder is compared with batch mode's (diff -r) and must be identical.
# Prints a Markdown table. Needs a Release build: dotnet build ClrpMl.sln -c Release.
#
#   bash scripts/cluster/measure.sh            # N=1000
#   N=300 bash scripts/cluster/measure.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
n="${N:-1000}"
work="${WORK:-/tmp/clrp-measure}"
clrp=Samples/Clrp.Cli/bin/Release/net10.0/clrp
cluster=Samples/Clrp.Cluster/bin/Release/net10.0/clrp-cluster
rm -rf "$work" && mkdir -p "$work"
python3 scripts/cluster/scene-pngs.py "$n" "$work/inputs"
export CLRP_POSTGRES; CLRP_POSTGRES="$(bash scripts/cluster/postgres.sh start)"
pids=()
stop_silos() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; pids=(); }
trap stop_silos EXIT

seconds() { date +%s.%N; }
# CPU seconds (user + system) of the child processes reaped between two marks, from bash's 'times' (run in this shell:
# a subshell would not see them). Silos are reaped after the job, so their start-up and model load are counted too.
cpu_of() { awk '{ split($1, u, "m"); split($2, s, "m"); t = u[1] * 60 + u[2] + s[1] * 60 + s[2] } END { print t }' "$1"; }
cpu_between() { awk -v a="$(cpu_of "$2")" -v b="$(cpu_of "$1")" 'BEGIN { print a - b }'; }
echo "| model | run | wall s | inputs/s | wall ms/input | wall vs batch | CPU s | CPU ms/input |"
echo "|---|---|---|---|---|---|---|---|"
for spec in "fashion-vgg 0.2860 0.3530" "fashion-pair-vgg 0.1417 0.2478"; do
  read -r model mean std <<<"$spec"
  opts=(--model "models/$model.onnx" --mean "$mean" --std "$std")
  t0=$(seconds); times >"$work/.cpu0"
  "$clrp" explain --inputs "$work/inputs" --out-dir "$work/batch-$model" "${opts[@]}" >/dev/null 2>>"$work/batch.log"
  batch=$(awk -v a="$(seconds)" -v b="$t0" 'BEGIN { print a - b }'); times >"$work/.cpu1"; cpu=$(cpu_between "$work/.cpu0" "$work/.cpu1")
  awk -v m="$model" -v w="$batch" -v c="$cpu" -v n="$n" 'BEGIN { printf "| %s | batch mode (1 process) | %.1f | %.1f | %.2f | 1.00 | %.1f | %.2f |\n", m, w, n / w, 1000 * w / n, c, 1000 * c / n }'
  for silos in 1 2 3; do
    id="m$silos-$model-$RANDOM"
    for ((i = 0; i < silos; i++)); do
      "$cluster" silo --cluster-id "$id" --port $((12111 + i)) --gateway-port $((31000 + i)) >"$work/silo-$id-$i.log" 2>&1 &
      pids+=($!)
    done
    sleep 6   # silos join; their CPU from here on (start-up, model load, work) is counted with the job
    t0=$(seconds); times >"$work/.cpu0"
    "$cluster" submit --cluster-id "$id" --job "$id" --inputs "$work/inputs" --out-dir "$work/cluster-$id" "${opts[@]}" --shard-size 32 --wait >/dev/null 2>>"$work/submit.log"
    wall=$(awk -v a="$(seconds)" -v b="$t0" 'BEGIN { print a - b }')
    stop_silos
    times >"$work/.cpu1"; cpu=$(cpu_between "$work/.cpu0" "$work/.cpu1")
    diff -r -q "$work/batch-$model" "$work/cluster-$id" >/dev/null || { echo "cluster output differs from batch mode: $work/cluster-$id" >&2; exit 1; }
    label="cluster, $silos silo$(if [ "$silos" -gt 1 ]; then echo s; fi)"
    awk -v m="$model" -v l="$label" -v w="$wall" -v b="$batch" -v c="$cpu" -v n="$n" 'BEGIN { printf "| %s | %s | %.1f | %.1f | %.2f | %.2f | %.1f | %.2f |\n", m, l, w, n / w, 1000 * w / n, w / b, c, 1000 * c / n }'
  done
done
