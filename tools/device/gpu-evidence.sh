#!/usr/bin/env bash
# All the GPU evidence in one lease (15 minutes of device time, machine start and transfers included): the INN engines
# on CUDA (CudaInnEngineBenchmarks), the ESRGAN estimators on CUDA against the CPU provider (CudaEstimatorBenchmarks),
# the "sd" stand-in strategy table (CudaStrategyBenchmarks), INN-only restores on CUDA (CudaInnOnlyRestoreBenchmarks)
# and the SD 2.1-base architecture strategy table (CudaArchitectureStrategyBenchmarks);
# STAGES="inn estimator strategy innonly sd21" (the default) picks a subset. Two steps:
#
#   1. here (the development machine):   bash tools/device/gpu-evidence.sh prepare
#      publishes the benchmark app with the ONNX Runtime GPU package and packs it with ../shared/tools/device-pack (the
#      same publish as inn-engines.sh and sd21-strategy-table.sh), which prints the transfers to make back to back.
#      With LATENTINDIGO_ESRGAN_THICK naming the converted esrgan-thick ×4 file, it rides with the last chunk (the
#      transfer limit leaves room there) and its transfer copies it to /tmp/li/base.
#   2. on the GPU machine, after the transfers (give it timeout_s 540):   bash tools/device/gpu-evidence.sh bench
#      writes the 5.2 GB stand-in in the background while the INN and estimator cases run, then times the strategy
#      table; each stage has its own time limit so that a slow one leaves the others their share, and every log (with
#      the per-case lines of a stage cut short) comes back under $OUT with nvidia-smi and lscpu.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
standin=/tmp/li-sd21
case "${1:-}" in
  prepare)
    bash "$top/tools/device/inn-engines.sh" prepare
    if [ -n "${LATENTINDIGO_ESRGAN_THICK:-}" ] && [ -f "$LATENTINDIGO_ESRGAN_THICK" ]; then
      # It rides with the last (smallest) chunk; that transfer's command also copies it: cp .device/cN/esrgan-thick-x4.onnx /tmp/li/base/
      last=$(ls -d "$top/.device"/c* | sort -V | tail -1)
      cp "$LATENTINDIGO_ESRGAN_THICK" "$last/esrgan-thick-x4.onnx"
      echo "esrgan-thick-x4.onnx is in ${last#$top/}: add '&& cp ${last#$top/}/esrgan-thick-x4.onnx /tmp/li/base/' to its transfer"
    fi
    du -sh "$top/.device"/*
    ;;
  bench)
    [ -x /tmp/li/base/on-device.sh ] || { echo "make the device-pack transfers first (step 1)"; exit 1; }
    out=${OUT:-/tmp/li-out}; mkdir -p "$out" "$standin"
    { nvidia-smi; lscpu; free -g; date -u; } > "$out/machine.txt" 2>&1 || true
    run() { bash /tmp/li/base/on-device.sh dotnet LatentIndigo.Benchmarks.dll "$@"; }
    # The first call assembles the runtime and the ONNX Runtime natives; do it before anything runs in parallel.
    run --list flat > /dev/null 2>&1 || true
    # STAGES picks what runs (default all five; "strategy" is the "sd" stand-in table, CudaStrategyBenchmarks).
    stages=" ${STAGES:-inn estimator strategy innonly sd21} "
    want() { [[ "$stages" == *" $1 "* ]]; }
    writer=
    if want sd21; then
      ( timeout 300 bash -c "$(declare -f run); run write-sd21-standin $standin/latentindigo-arch-sd21base-v1" > "$out/write.log" 2>&1 ) &
      writer=$!
    fi
    if want inn; then
      timeout 150 bash -c "$(declare -f run); run --filter '*CudaInnEngineBenchmarks*'" > "$out/inn.log" 2>&1 || echo "inn: exit $?" >> "$out/inn.log"
    fi
    if want estimator; then
      [ -f /tmp/li/base/esrgan-thick-x4.onnx ] && export LATENTINDIGO_ESRGAN_THICK=/tmp/li/base/esrgan-thick-x4.onnx
      timeout 90 bash -c "$(declare -f run); run --filter '*CudaEstimatorBenchmarks*'" > "$out/estimator.log" 2>&1 || echo "estimator: exit $?" >> "$out/estimator.log"
    fi
    if want strategy; then
      timeout 150 bash -c "$(declare -f run); run --filter '*CudaStrategyBenchmarks*'" > "$out/strategy.log" 2>&1 || echo "strategy: exit $?" >> "$out/strategy.log"
    fi
    if want innonly; then
      # The benchmark restores the CC0 astronaut, looked for above the app's folder.
      mkdir -p /tmp/li/base/app/samples/data/cc0 && cp "$top/samples/data/cc0/astronaut.png" /tmp/li/base/app/samples/data/cc0/
      timeout "${INNONLY_LIMIT:-200}" bash -c "$(declare -f run); run --filter '*CudaInnOnlyRestoreBenchmarks*'" > "$out/innonly.log" 2>&1 || echo "innonly: exit $?" >> "$out/innonly.log"
    fi
    if want sd21; then
      wait "$writer" || echo "write: exit $?" >> "$out/write.log"
      [ -f "$standin/latentindigo-arch-sd21base-v1/.complete" ] && LATENTINDIGO_ARCH_STANDIN_DIR=$standin \
        timeout "${SD21_LIMIT:-230}" bash -c "$(declare -f run); run --filter '*CudaArchitectureStrategy*'" > "$out/sd21.log" 2>&1 \
        || echo "sd21: exit $?" >> "$out/sd21.log"
    fi
    (cd /tmp/li/base/app/BenchmarkDotNet.Artifacts/results 2>/dev/null && tar -cf "$out/reports.tar" .) || true
    grep -hE '^\||^// SHARES' "$out"/*.log 2>/dev/null || true
    ;;
  *)
    sed -n '2,15p' "$0"; exit 2 ;;
esac
