#!/usr/bin/env bash
# Recorded run for docs/benchmarks.md ("Batch throughput"): latent-indigo batch over the same images with
# --concurrency 1 and 2, side by side, alternating, without blind refinement (as the recorded runs were, and as cluster
# jobs run), on stand-in models (cost none: the pixel INN guidance dominates). Prints wall seconds, images/min and peak
# RSS per run. Usage: tools/batch-throughput.sh [images] [repeats]
set -euo pipefail
cd "$(dirname "$0")/.."
images=${1:-6}; repeats=${2:-2}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
dotnet build samples/LatentIndigo.Cli -c Release -v q -nologo >/dev/null
cli=(dotnet "$(ls samples/LatentIndigo.Cli/bin/Release/net10.0/*/latent-indigo.dll samples/LatentIndigo.Cli/bin/Release/net10.0/latent-indigo.dll 2>/dev/null | head -1 || true)")
mkdir -p "$work/in"
# 32×32 seeded-noise PNGs (content does not change the cost of a restore)
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
echo "CPU: $(lscpu | grep 'Model name' | sed 's/.*: *//'); cores: $(nproc); load: $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%F)"
for r in $(seq 1 "$repeats"); do
  for c in 1 2; do
    out="$work/out-$c-$r"
    /usr/bin/time -f "%e %M" -o "$work/time" "${cli[@]}" batch "$work/in" -o "$out" --stand-in --no-blind --steps 20 --strength 0.5 --concurrency "$c" >/dev/null
    read -r secs kb < "$work/time"
    echo "concurrency $c run $r: ${secs} s wall, $(python3 -c "print(f'{$images*60/$secs:.2f}')") images/min, peak RSS $((kb / 1024)) MiB, load $(cut -d' ' -f1 /proc/loadavg)"
  done
done
