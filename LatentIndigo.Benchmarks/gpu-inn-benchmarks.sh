#!/usr/bin/env bash
# Prepares the GPU measurements of issue 11 (the INN's passes on ONNX Runtime CUDA, CUDA graphs on vs off, and the
# CudaStrategyBenchmarks table) for the device tool: publishes LatentIndigo.Benchmarks with the ONNX Runtime GPU package,
# packs it with ../shared/tools/device-pack (beside the repository) and prints the device-tool transfers to make.
#
#   bash LatentIndigo.Benchmarks/gpu-inn-benchmarks.sh
#
# The last transfer runs, on the GPU machine (TensorRT off: only the CUDA provider is appended):
#   CudaInnEngineBenchmarks  forward / inverse / guidance gradient, pixel 512² and latent 64²,
#                            TorchSharp CUDA vs ORT CUDA vs ORT CUDA + CUDA graphs
#   CudaStrategyBenchmarks   the whole-restore table of docs/benchmarks.md, again (the INN now runs on ONNX Runtime)
# and copies BenchmarkDotNet's markdown reports to $OUT. Goals (issue 11): latent 64² guidance step ≤ 3 ms, pixel 512²
# ≤ 12 ms on an H100 (33 ms with TorchSharp before).
set -euo pipefail
top=$(git rev-parse --show-toplevel)
pack=${DEVICE_PACK:-$top/../shared/tools/device-pack}
pub=/tmp/latentindigo-gpu-benchmarks
rm -rf "$pub"
dotnet publish "$top/LatentIndigo.Benchmarks" -c Release -r linux-x64 --self-contained false -p:LatentIndigoGpu=true -o "$pub"
(cd "$top" && bash "$pack" "$pub" LatentIndigo.Benchmarks.dll)
cat <<'TXT'

Run command for the last transfer (append it to that transfer's command with '&&'):
  bash /tmp/li/base/on-device.sh bash -c 'nvidia-smi --query-gpu=name,driver_version --format=csv > $OUT/gpu.txt; \
    dotnet LatentIndigo.Benchmarks.dll --filter "*CudaInnEngineBenchmarks*" --artifacts /tmp/bdn-inn && \
    dotnet LatentIndigo.Benchmarks.dll --filter "*CudaStrategyBenchmarks*" --artifacts /tmp/bdn-strategy; \
    cp /tmp/bdn-inn/results/*.md /tmp/bdn-strategy/results/*.md $OUT/ 2>/dev/null; true'
Give a timeout_s of 540 and record the device (the reply's "device") with the figures in docs/benchmarks.md.
TXT
