#!/usr/bin/env bash
# Fuzz one target with AFL++ and SharpFuzz for a bounded time, then replay what AFL found.
#   fuzz/run.sh <image|inn|scheduler-config|spec> [seconds=300]
# Needs afl-fuzz (Debian: apt-get install afl++) and the sharpfuzz tool (dotnet tool install --global SharpFuzz.CommandLine).
# Findings go to fuzz/findings/<target>/ (ignored by git); fuzzer_stats there has execs_done and saved_crashes.
set -euo pipefail
target=${1:?target: image, inn, scheduler-config or spec}
seconds=${2:-300}
fuzz=$(cd "$(dirname "$0")" && pwd)
bin="$fuzz/bin"
export PATH="$PATH:$HOME/.dotnet/tools"
if [ ! -f "$bin/.instrumented" ]; then
  # No hard links here: sharpfuzz rewrites LatentIndigo.Core.dll in place, which must not reach the repository's build.
  dotnet build "$fuzz/LatentIndigo.Fuzz" -c Release -o "$bin" -p:CreateHardLinksForCopyLocalIfPossible=false \
    -p:CreateHardLinksForCopyFilesToOutputDirectoryIfPossible=false >/dev/null
  cp "$bin/LatentIndigo.Core.dll" "$bin/LatentIndigo.Core.dll.copy" && mv -f "$bin/LatentIndigo.Core.dll.copy" "$bin/LatentIndigo.Core.dll"
  sharpfuzz "$bin/LatentIndigo.Core.dll"
  touch "$bin/.instrumented"
fi
# Inputs are replayed with a plain build: instrumented code crashes outside afl-fuzz (no coverage map).
[ -f "$fuzz/bin-replay/LatentIndigo.Fuzz.dll" ] || dotnet build "$fuzz/LatentIndigo.Fuzz" -c Release -o "$fuzz/bin-replay" >/dev/null
out="$fuzz/findings/$target"
mkdir -p "$out"
# AFL_SKIP_BIN_CHECK: the binary is `dotnet`, instrumented through SharpFuzz, not by afl-cc.
AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 \
  timeout --preserve-status "$seconds" afl-fuzz -i "$fuzz/corpus/$target" -o "$out" -t 10000 -m none -- \
  dotnet "$bin/LatentIndigo.Fuzz.dll" "$target" >"$out/afl.log" 2>&1 || true
stats="$out/default/fuzzer_stats"
[ -f "$stats" ] && grep -E "^(run_time|execs_done|execs_per_sec|corpus_count|saved_crashes|saved_hangs) " "$stats"
for kind in crashes hangs; do
  dir="$out/default/$kind"
  [ -d "$dir" ] || continue
  for f in "$dir"/id:*; do
    [ -f "$f" ] || continue
    echo "--- $kind: $f"
    timeout 60 dotnet "$fuzz/bin-replay/LatentIndigo.Fuzz.dll" "$target" --replay-file "$f" 2>&1 | grep -v "^   at " | head -5 || true
  done
done
