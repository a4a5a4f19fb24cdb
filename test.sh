#!/usr/bin/env bash
# Runs every test: installs what they need if it is missing (Debian's python3-autobahn, chromium, clang and
# redis-server, the npm packages pinned in tests/Interop/peers/package-lock.json, tests/TypeScript.Tests/ts/package-lock.json and
# samples/Conferences/web/package-lock.json), then the whole solution's tests.
# Ends with one line: "Total: N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")"

bash tests/Interop/setup.sh
bash tests/TypeScript.Tests/setup.sh

# Debian's packages the tests use, each installed only when missing: Chromium drives the browser test (never a
# downloaded browser), clang links the Native AOT test (as the .NET SDK's ILCompiler does by default), and the
# scale-out tests start redis-server (on a free loopback port, without persistence, stopped by process id).
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v clang > /dev/null 2>&1 || missing+=(clang)
command -v redis-server > /dev/null 2>&1 || missing+=(redis-server)
if [ ${#missing[@]} -gt 0 ]; then
  sudo_cmd=""
  [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}"
fi

log=$(mktemp)
# The fuzz tests write their figures (frames, time, sessions, memory) here; they are printed after the run.
export WAMP_FUZZ_REPORT=$(mktemp)
# The scale-out tests write what they measured (cross-node throughput, how fast a node's death is noticed) here.
export WAMP_SCALEOUT_REPORT=$(mktemp)
trap 'rm -f "$log" "$WAMP_FUZZ_REPORT" "$WAMP_SCALEOUT_REPORT"' EXIT
status=0
# The whole solution, benchmarks and samples included (the bench smoke check below runs a built benchmark), then its tests.
dotnet build Contracts.sln --nologo -v q 2>&1 | tee "$log" || status=$?
[ "$status" = 0 ] && { dotnet test Contracts.sln --no-build --nologo --blame-hang-timeout 10m 2>&1 | tee -a "$log" || status=$?; }
# The cross-process bench (built with the solution) once, for one short round: a smoke check that every configuration
# still runs; its figures mean nothing here (see docs/performance.md for real runs).
bench_log=$(mktemp)
if timeout 300 dotnet bench/CrossProcessBench/bin/Debug/net10.0/CrossProcessBench.dll --smoke >"$bench_log" 2>&1; then
  echo "Bench smoke check: passed"
else
  echo "Bench smoke check: FAILED"; cat "$bench_log"; status=1
fi
rm -f "$bench_log"
if [ -s "$WAMP_FUZZ_REPORT" ]; then
  echo "Fuzz tests:"
  cat "$WAMP_FUZZ_REPORT"
fi
if [ -s "$WAMP_SCALEOUT_REPORT" ]; then
  echo "Scale-out tests:"
  cat "$WAMP_SCALEOUT_REPORT"
fi

# Sum the per-assembly summaries, e.g. "Passed!  - Failed:     0, Passed:    84, Skipped:     0, Total:    84".
awk '/(Passed|Failed)! +- Failed:/ {
        gsub(",", ""); for (i = 1; i <= NF; i++) { if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1); if ($i == "Skipped:") s += $(i+1) }
        n++ }
     END { if (n == 0) { print "no test assembly reported results"; exit 1 }
           printf "Total: %d passed, %d failed%s\n", p, f, (s ? sprintf(", %d skipped", s) : "") }' "$log" || status=1
exit $status
