#!/usr/bin/env bash
# The pipeline strategy table on the full-size SD 2.1-base architecture stand-in, on a lent GPU machine (CUDA provider,
# fp32, 28 steps): the GPU rows docs/benchmarks.md asks for. Prepared and checked on the CPU side; run on 2026-12-04 (H200) by tools/device/gpu-evidence.sh (stage sd21; no GPU
# machine was lent when it was written). Three steps:
#
#   1. here (the development machine):   bash tools/device/sd21-strategy-table.sh prepare
#      publishes the benchmark app with the ONNX Runtime GPU package and packs it with ../shared/tools/device-pack,
#      which prints the transfers to make (each is one `run` call of the device tool, back to back).
#   2. on the GPU machine, after the transfers:   bash tools/device/sd21-strategy-table.sh write
#      writes the 5.2 GB stand-in once to /tmp/li-sd21 (kept while the machine stays up).
#   3. on the GPU machine:   bash tools/device/sd21-strategy-table.sh bench
#      runs CudaArchitectureStrategyBenchmarks (5 cases, 1 warm-up + 2 measured restores each) and copies the
#      BenchmarkDotNet report, the "// SHARES" lines, nvidia-smi and lscpu into $OUT.
#
# fp16 is not measured by this script: the architecture stand-ins' fp16 contract converts at the inputs and outputs and
# computes in fp32 (as fp16-I/O exports do), so an "fp16" row on them would time fp32 compute.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
standin=/tmp/li-sd21
case "${1:-}" in
  prepare)
    pub=/tmp/latentindigo-gpu-bench
    rm -rf "$pub"
    dotnet publish "$top/LatentIndigo.Benchmarks" -c Release -r linux-x64 --self-contained false -p:LatentIndigoGpu=true -o "$pub"
    # The GPU package also drops its Windows natives into the output, and the libtorch-cpu package extras are not used
    # on the GPU machine (its own PyTorch libtorch is): leave them out of the transfers.
    rm -f "$pub"/onnxruntime*.dll "$pub"/libnnapi_backend.so "$pub"/libaoti_custom_ops.so
    (cd "$top" && bash ../shared/tools/device-pack "$pub" LatentIndigo.Benchmarks.dll)
    # The first transfer must stay under the limit: ship the app compressed and unpack it on the device first.
    tar -C "$top/.device/base" -cf - app | xz -T2 -6 > "$top/.device/base/app.tar.xz"
    rm -rf "$top/.device/base/app"
    sed -i 's|^cd /tmp/li$|cd /tmp/li\n[ -d base/app ] \|\| tar -xJf base/app.tar.xz -C base|' "$top/.device/base/on-device.sh"
    du -sh "$top/.device/base"
    ;;
  write)
    [ -x /tmp/li/base/on-device.sh ] || { echo "make the device-pack transfers first (step 1)"; exit 1; }
    mkdir -p "$standin"
    bash /tmp/li/base/on-device.sh dotnet LatentIndigo.Benchmarks.dll write-sd21-standin "$standin/latentindigo-arch-sd21base-v1"
    ;;
  bench)
    [ -x /tmp/li/base/on-device.sh ] || { echo "make the device-pack transfers first (step 1)"; exit 1; }
    [ -f "$standin/latentindigo-arch-sd21base-v1/.complete" ] || { echo "write the stand-in first (step 2)"; exit 1; }
    out=${OUT:-/tmp/li-out}; mkdir -p "$out"
    { nvidia-smi; lscpu; date -u; } > "$out/machine.txt" 2>&1 || true
    LATENTINDIGO_ARCH_STANDIN_DIR=$standin bash /tmp/li/base/on-device.sh \
      dotnet LatentIndigo.Benchmarks.dll --filter '*CudaArchitectureStrategy*' 2>&1 | tee "$out/bench.log" | grep -E '^// SHARES|^\|' || true
    cp -r /tmp/li/base/app/BenchmarkDotNet.Artifacts/results "$out/" 2>/dev/null || true
    grep '^// SHARES' "$out/bench.log" > "$out/shares.txt" || true
    ;;
  *)
    sed -n '2,17p' "$0"; exit 2 ;;
esac
