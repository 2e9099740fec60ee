#!/usr/bin/env bash
# Coverage-guided fuzzing of ShmCore's parsers with libFuzzer and AddressSanitizer.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#
# Builds the targets of Fuzz/Package.swift in their own scratch path (.build-fuzz: libFuzzer brings its own main,
# so these never share a build with the app), then runs each for SECONDS_PER_TARGET (default 10) starting from
# the seeds checked in under Fuzz/Corpus/<target> (and the words in Fuzz/Corpus/<target>.dict). What a run learns goes to .build-fuzz/corpus/<target>, so
# later local runs start from there; the checked-in seeds never change. Any crash, trap, ASan report or violated
# property fails the script; libFuzzer saves the input as .build-fuzz/artifacts/<target>/crash-… . Once fixed,
# copy that input into Fuzz/Corpus/<target>/ so every later run replays it first.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
seconds=${1:-10}
shift || true
all=(fuzz-target fuzz-numbers fuzz-hex fuzz-layout fuzz-snapshot fuzz-procviews fuzz-condition fuzz-recording)
targets=("${@:-${all[@]}}")
[ "${#targets[@]}" -gt 0 ] || targets=("${all[@]}")
scratch=$root/.build-fuzz

echo "fuzz: building ${targets[*]}"
mkdir -p "$scratch"
# --disable-build-manifest-caching: with a cached build manifest SwiftPM misses files added to the root package,
# which is a path dependency here, and ShmCore fails to build after a merge brings a new file.
flags=(--package-path Fuzz --scratch-path "$scratch" --disable-build-manifest-caching
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library)
products=()
[ "${targets[*]}" = "${all[*]}" ] || for t in "${targets[@]}"; do products+=(--product "$t"); done
if [ "${#products[@]}" -eq 0 ]; then
  swift build "${flags[@]}" >"$scratch/build.log" 2>&1 || { cat "$scratch/build.log"; echo "fuzz: build failed" >&2; exit 1; }
else
  for ((i = 0; i < ${#products[@]}; i += 2)); do
    swift build "${flags[@]}" "${products[i]}" "${products[i+1]}" >"$scratch/build.log" 2>&1 \
      || { cat "$scratch/build.log"; echo "fuzz: build of ${products[i+1]} failed" >&2; exit 1; }
  done
fi
bin=$(swift build "${flags[@]}" --show-bin-path)

status=0
for t in "${targets[@]}"; do
  corpus=$scratch/corpus/$t
  artifacts=$scratch/artifacts/$t/
  mkdir -p "$corpus" "$artifacts"
  log=$scratch/$t.log
  start=$(date +%s)
  # -rss_limit_mb: a parser that allocates without bound is a finding too. -timeout: one input may take 10 s.
  dict=()
  [ -f "Fuzz/Corpus/$t.dict" ] && dict=(-dict="Fuzz/Corpus/$t.dict")
  # SWIFT_BACKTRACE=enable=no: libFuzzer reports a trap at once (the Swift backtracer would take half a minute).
  if SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=0 "$bin/$t" "${dict[@]}" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -max_len=4096 -print_final_stats=1 -artifact_prefix="$artifacts" "$corpus" "Fuzz/Corpus/$t" >"$log" 2>&1; then
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n1 || true)
    echo "fuzz: $t ok: $runs inputs in $(( $(date +%s) - start )) s, $cov, corpus $(ls "$corpus" | wc -l)"
  else
    status=1
    echo "fuzz: $t FAILED; log $log; inputs:" >&2
    ls "$artifacts" >&2
    grep -m3 -E 'Fatal error|property violated|ERROR: AddressSanitizer|ERROR: libFuzzer|deadly signal' "$log" >&2 || tail -n 20 "$log" >&2
  fi
done
exit $status
