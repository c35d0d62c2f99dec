#!/usr/bin/env bash
# Issue 11's GPU measurements, on a lent GPU machine: the INN's forward, inverse and guidance gradient on TorchSharp CUDA
# vs ONNX Runtime's CUDA provider (TensorRT off) with CUDA graphs off and on (CudaInnEngineBenchmarks), then the whole
# CudaStrategyBenchmarks table again (the pipeline's INN now runs on ONNX Runtime). Prepared and built on the CPU side;
# Run on 2026-12-04 (H200) as part of tools/device/gpu-evidence.sh, which does this and more in one lease. Two steps:
#
#   1. here (the development machine):   bash tools/device/inn-engines.sh prepare
#      publishes the benchmark app with the ONNX Runtime GPU package and packs it with ../shared/tools/device-pack,
#      which prints the transfers to make (each is one `run` call of the device tool, back to back).
#   2. on the GPU machine, after the transfers (give it timeout_s 540):   bash tools/device/inn-engines.sh bench
#      copies the BenchmarkDotNet reports, nvidia-smi and lscpu into $OUT.
#
# Goals (issue 11): latent 64² guidance step ≤ 3 ms and pixel 512² ≤ 12 ms on an H100 (≈ 33 ms with TorchSharp).
# Record the device the tool reports with every figure in docs/benchmarks.md.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
case "${1:-}" in
  prepare)
    pub=/tmp/latentindigo-gpu-inn
    rm -rf "$pub"
    dotnet publish "$top/LatentIndigo.Benchmarks" -c Release -r linux-x64 --self-contained false -p:LatentIndigoGpu=true -o "$pub"
    # Windows natives of the GPU package and unused libtorch-cpu extras stay behind (the device has its own libtorch).
    rm -f "$pub"/onnxruntime*.dll "$pub"/libnnapi_backend.so "$pub"/libaoti_custom_ops.so
    (cd "$top" && bash ../shared/tools/device-pack "$pub" LatentIndigo.Benchmarks.dll)
    # Keep the first transfer under the limit: ship the app compressed and unpack it on the device.
    tar -C "$top/.device/base" -cf - app | xz -T2 -6 > "$top/.device/base/app.tar.xz"
    rm -rf "$top/.device/base/app"
    sed -i 's|^cd /tmp/li$|cd /tmp/li\n[ -d base/app ] \|\| tar -xJf base/app.tar.xz -C base|' "$top/.device/base/on-device.sh"
    du -sh "$top/.device/base"
    ;;
  bench)
    [ -x /tmp/li/base/on-device.sh ] || { echo "make the device-pack transfers first (step 1)"; exit 1; }
    out=${OUT:-/tmp/li-out}; mkdir -p "$out"
    { nvidia-smi; lscpu; date -u; } > "$out/machine.txt" 2>&1 || true
    bash /tmp/li/base/on-device.sh dotnet LatentIndigo.Benchmarks.dll \
      --filter 'LatentIndigo.Benchmarks.Invertible.CudaInnEngineBenchmarks*' 2>&1 | tee "$out/inn.log" | grep -E '^\|' || true
    bash /tmp/li/base/on-device.sh dotnet LatentIndigo.Benchmarks.dll \
      --filter '*CudaStrategyBenchmarks*' 2>&1 | tee "$out/strategy.log" | grep -E '^// SHARES|^\|' || true
    cp -r /tmp/li/base/app/BenchmarkDotNet.Artifacts/results "$out/" 2>/dev/null || true
    ;;
  *)
    sed -n '2,15p' "$0"; exit 2 ;;
esac
