#!/usr/bin/env bash
# Recorded run for docs/benchmarks.md ("Cluster throughput"): the same job on 1, 2 and 3 worker silos (one slot each,
# stand-in models, cost none), each silo its own `latent-indigo cluster silo` process, on a throwaway PostgreSQL
# (tools/postgres-throwaway.sh). Prints per silo count: wall seconds of `cluster submit --watch`, images/min, and each
# silo's resident memory (VmRSS at the end, VmHWM peak). Alternates the counts over the repeats.
# Usage: tools/cluster-throughput.sh [images] [repeats] [max silos]
set -euo pipefail
cd "$(dirname "$0")/.."
images=${1:-12}; repeats=${2:-1}; max_silos=${3:-3}
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  postgres_throwaway_stop
  rm -rf "$work"
}
source tools/postgres-throwaway.sh start
[ -n "${LATENTINDIGO_TEST_POSTGRES:-}" ] || { echo "no PostgreSQL: ${LATENTINDIGO_TEST_POSTGRES_SKIP_REASON:-}" >&2; exit 1; }
trap cleanup EXIT
export LATENTINDIGO_POSTGRES=$LATENTINDIGO_TEST_POSTGRES
dotnet build samples/LatentIndigo.Cli -c Release -v q -nologo >/dev/null
cli=(dotnet "$(ls samples/LatentIndigo.Cli/bin/Release/net10.0/*/latent-indigo.dll samples/LatentIndigo.Cli/bin/Release/net10.0/latent-indigo.dll 2>/dev/null | head -1 || true)")
mkdir -p "$work/in"
# 32×32 seeded-noise PNGs, as tools/batch-throughput.sh makes them (content does not change the cost of a restore)
python3 - "$work/in" "$images" <<'PY'
import random, struct, sys, zlib
folder, count = sys.argv[1], int(sys.argv[2])
def chunk(tag, data): return struct.pack('>I', len(data)) + tag + data + struct.pack('>I', zlib.crc32(tag + data) & 0xffffffff)
for i in range(count):
    random.seed(i)
    raw = b''.join(b'\x00' + bytes(random.randrange(256) for _ in range(32 * 3)) for _ in range(32))
    with open(f'{folder}/img{i}.png', 'wb') as f:
        f.write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', 32, 32, 8, 2, 0, 0, 0)) + chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b''))
PY
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
kib() { awk -v k="$1" '$1 == k":" {print $2}' "/proc/$2/status"; }
echo "CPU: $(lscpu | grep 'Model name' | sed 's/.*: *//'); cores: $(nproc); load: $(cut -d' ' -f1-3 /proc/loadavg); $(date -u '+%F %H:%M') UTC"
for r in $(seq 1 "$repeats"); do
  for n in $(seq 1 "$max_silos"); do
    cluster="bench-$n-$r-$$"
    pids=()
    for s in $(seq 1 "$n"); do
      "${cli[@]}" cluster silo --cluster-id "$cluster" --stand-in --slots 1 --port "$(free_port)" --gateway-port "$(free_port)" \
        >"$work/silo-$n-$r-$s.log" 2>&1 &
      pids+=($!)
    done
    for s in $(seq 1 "$n"); do
      for _ in $(seq 1 600); do grep -qs "is up" "$work/silo-$n-$r-$s.log" && break; sleep 0.5; done
      grep -q "is up" "$work/silo-$n-$r-$s.log" || { cat "$work/silo-$n-$r-$s.log" >&2; exit 1; }
    done
    idle=$(for pid in "${pids[@]}"; do echo -n "$(( $(kib VmRSS "$pid") / 1024 )) "; done)
    start=$(date +%s.%N)
    "${cli[@]}" cluster submit "$work/in" -o "$work/out-$n-$r" --cluster-id "$cluster" --steps 20 --strength 0.5 --watch >"$work/submit-$n-$r.log"
    end=$(date +%s.%N)
    rss=$(for pid in "${pids[@]}"; do echo -n "$(( $(kib VmRSS "$pid") / 1024 ))/$(( $(kib VmHWM "$pid") / 1024 )) "; done)
    secs=$(python3 -c "print(f'{$end - $start:.1f}')")
    echo "silos $n run $r: ${secs} s wall, $(python3 -c "print(f'{$images*60/($end - $start):.2f}')") images/min;" \
      "per silo RSS idle [MiB]: ${idle% }; RSS/peak after the job [MiB]: ${rss% }; done per silo: $(grep -o "@[0-9]*/[0-9]*: [0-9]*" "$work/submit-$n-$r.log" | sed "s/.*: //" | tr "\n" " " | sed "s/ $//"); load $(cut -d' ' -f1 /proc/loadavg)"
    for pid in "${pids[@]}"; do kill -TERM "$pid"; done
    wait "${pids[@]}" 2>/dev/null || true
  done
done
