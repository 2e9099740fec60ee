#!/usr/bin/env bash
# Benchmarks shmscope side by side with the tools users would otherwise use, and prints medians and ratios.
#   dump of a 32 MiB segment     vs  xxd and hexdump -C on the same bytes (output to /dev/null)
#   list                         vs  ipcs -a
#   Qt-lock cycle (lock+unlock)  vs  a Qt 5 QSharedMemory lock loop on the same key
# Usage: scripts/bench.sh [RUNS]   (default 7). Needs a release build: swift build -c release.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-7}"
swift build -c release --product shmscope >/dev/null
swift build -c release --product shmbench >/dev/null
bin="$(swift build -c release --show-bin-path)"
tag="bench_$$"
data="$(mktemp /tmp/shmscope-bench.XXXXXX)"
qtpeer="$(mktemp /tmp/shmscope-qtpeer.XXXXXX)"
cleanup() {
  "$bin/shmscope" rm "/$tag" >/dev/null 2>&1 || true
  "$bin/shmscope" rm "$tag" --force >/dev/null 2>&1 || true
  rm -f "$data" "$qtpeer"
}
trap cleanup EXIT

# median SECONDS of running "$@" $runs times
median() {
  local times=()
  for _ in $(seq "$runs"); do
    local s e
    s=$(date +%s%N); "$@" >/dev/null 2>&1; e=$(date +%s%N)
    times+=($(( e - s )))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.4f", a[int((NR+1)/2)]/1e9}'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.1fx", b/a}'; }

head -c 32M /dev/urandom > "$data"
"$bin/shmscope" create "/$tag" --from "$data" >/dev/null

echo "runs: $runs (median wall time)"
d=$(median "$bin/shmscope" dump "/$tag")
x=$(median xxd "$data")
h=$(median hexdump -C "$data")
printf 'dump 32 MiB  shmscope %ss  xxd %ss (%s faster)  hexdump -C %ss (%s faster)\n' "$d" "$x" "$(ratio "$d" "$x")" "$h" "$(ratio "$d" "$h")"
dx=$(median "$bin/shmscope" dump "/$tag" --format xxd)
printf 'dump 32 MiB --format xxd  shmscope %ss  xxd %ss (%s faster)\n' "$dx" "$x" "$(ratio "$dx" "$x")"

l=$(median "$bin/shmscope" list)
i=$(median ipcs -a)
printf 'list         shmscope %ss  ipcs -a %ss (ratio %s; list also scans /proc/*/maps and /dev/shm)\n' "$l" "$i" "$(ratio "$l" "$i")"

if pkg-config --exists Qt5Core 2>/dev/null; then
  g++ -std=c++17 -O2 -fPIC Tests/Peers/qtpeer.cpp $(pkg-config --cflags --libs Qt5Core) -o "$qtpeer"
  n=200000
  coproc QT { "$qtpeer"; }
  read -r _ <&"${QT[0]}"
  echo "key $tag" >&"${QT[1]}"; read -r _ <&"${QT[0]}"
  echo "create 4096" >&"${QT[1]}"; read -r _ <&"${QT[0]}"
  echo "lockloop $n" >&"${QT[1]}"; read -r qt <&"${QT[0]}"
  ours=$("$bin/shmbench" lockloop "$tag" "$n")
  echo "quit" >&"${QT[1]}"; wait "$QT_PID" 2>/dev/null || true
  q=${qt#ok ns_per_cycle=}; o=${ours#ns_per_cycle=}
  printf 'lock+unlock  shmscope %s ns  Qt 5 QSharedMemory %s ns (ratio %s)\n' "$o" "$q" "$(ratio "$o" "$q")"
fi
