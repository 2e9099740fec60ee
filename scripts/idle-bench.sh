#!/usr/bin/env bash
# Measures what an idle hex view costs: `shmscope open` on a segment nobody writes, left alone for SECONDS in a
# private tmux server at 10 Hz, next to `watch -n0.1 xxd -l 4096 FILE` (what users would otherwise run) over the
# same time. CPU is utime+stime (+ children's, for watch) in clock ticks from /proc/PID/stat; RssAnon from
# /proc/PID/status. Both run on a 4 KiB and a 1 GiB POSIX segment of random bytes; prints medians of RUNS.
# Usage: scripts/idle-bench.sh [SECONDS] [RUNS]   (defaults 10 and 3). Needs tmux, xxd, procps, a release build.
# scripts/bench.sh sets SHMSCOPE_BIN (the binary to measure: no build here), BENCH_BIG (the big segment's size)
# and BENCH_MACHINE=1 (one line per size: SIZE OURS_TICKS REFERENCE_TICKS RSSANON_MIB).
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-10}"
runs="${2:-3}"
if [ -n "${SHMSCOPE_BIN:-}" ]; then bin="$SHMSCOPE_BIN"; else
  swift build -c release --product shmscope >/dev/null
  bin="$(swift build -c release --show-bin-path)/shmscope"
fi
big="${BENCH_BIG:-1G}"
tag="idlebench_$$"
sock="idlebench_$$"
cleanup() {
  tmux -L "$sock" kill-server 2>/dev/null || true
  rm -f "/dev/shm/${tag}_small" "/dev/shm/${tag}_big"
}
trap cleanup EXIT
head -c 4096 /dev/urandom > "/dev/shm/${tag}_small"
head -c "$big" /dev/urandom > "/dev/shm/${tag}_big"

# ticks PID: utime+stime+cutime+cstime
ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13 + $14 + $15}'; }
rss_anon() { awk '/^RssAnon:/ {print $2}' "/proc/$1/status"; }

# measure NAME COMMAND...: starts COMMAND in tmux, waits 2 s to settle, counts ticks over $secs seconds
measure() {
  local what="$1"; shift
  tmux -L "$sock" -f /dev/null new-session -d -s main -x 100 -y 30 "env LANG=C.UTF-8 TERM=xterm-256color $*"
  sleep 2
  local pid
  # The pane's own process: `env` execs the command, so this is shmscope or watch itself (never a look-alike).
  pid=$(tmux -L "$sock" list-panes -t main -F '#{pane_pid}')
  local a b rss
  a=$(ticks "$pid"); sleep "$secs"; b=$(ticks "$pid"); rss=$(rss_anon "$pid")
  tmux -L "$sock" kill-server 2>/dev/null || true
  sleep 0.5
  echo "$what $((b - a)) $rss"
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

[ -n "${BENCH_MACHINE:-}" ] || printf 'idle for %s s, %s runs, medians (clock ticks: 100 per second of one core)\n' "$secs" "$runs"
for seg in small big; do
  ours=(); theirs=(); rss=()
  for _ in $(seq "$runs"); do
    read -r _ t r < <(measure shmscope "$bin" open "/${tag}_$seg" --read-only --interval 100)
    ours+=("$t"); rss+=("$r")
    read -r _ t _ < <(measure watch watch -n0.1 xxd -l 4096 "/dev/shm/${tag}_$seg")
    theirs+=("$t")
  done
  o=$(printf '%s\n' "${ours[@]}" | median); w=$(printf '%s\n' "${theirs[@]}" | median)
  r=$(printf '%s\n' "${rss[@]}" | median)
  size=$([ "$seg" = small ] && echo "4KiB" || echo "${big}iB")
  if [ -n "${BENCH_MACHINE:-}" ]; then awk -v s="$size" -v o="$o" -v w="$w" -v r="$r" 'BEGIN {printf "%s %d %d %.1f\n", s, o, w, r / 1024}'; continue; fi
  awk -v s="$size" -v o="$o" -v w="$w" -v r="$r" \
    'BEGIN {printf "%-6s shmscope open %3d ticks  watch xxd %3d ticks  ratio %.2f  shmscope RssAnon %.1f MiB\n", s, o, w, (w ? o / w : 0), r / 1024}'
done
