#!/usr/bin/env bash
# Every row of the performance table, shmscope side by side with what users would otherwise run, on the same data,
# interleaved, in one run; prints medians and ratios as a Markdown table (the README's performance section).
#
#   idle open, 10 s at 10 Hz, 4 KiB and 1 GiB   vs  watch -n0.1 xxd -l 4096 FILE          (scripts/idle-bench.sh)
#   watch --log on 1 GiB, one byte flipped      latency, CPU, RssAnon                     (scripts/watch-bench.sh)
#   a whole-segment change pass on 1 GiB        vs  a plain loop reading the same mapping (shmbench scanpass)
#   list, 1,000 System V segments               vs  lsipc -m, ipcs -m, lsfd
#   list, nothing to list; --version            vs  ipcs -m
#   dump of 32 MiB of random bytes into a pipe  vs  cat of the same text, xxd, hexdump -C
#   Qt lock+unlock                              vs  Qt 5's QSharedMemory lock()/unlock() loop
#
# Output always goes through a pipe or into a file, never /dev/null. The list rows run in private IPC, mount and PID
# namespaces (unshare, tmpfs on /dev/shm and /tmp, a /proc of their own), so every tool sees the benchmark's
# segments and nothing else: a host with no containers, where `list` (every namespace by default) has one to read.
# The binary measured is the one `make dist` ships: release, Swift's runtime linked statically (.build-static).
# Usage: scripts/bench.sh [--quick]   (quick: fewer runs, shorter idle windows, 64 MiB instead of 1 GiB)
# Needs root (unshare), python3, tmux, xxd, procps, util-linux; the Qt row needs qtbase5-dev and g++.
set -euo pipefail
cd "$(dirname "$0")/.."
quick=0
[ "${1:-}" = "--quick" ] && quick=1
if [ "$quick" = 1 ]; then runs=9; idle_secs=3; idle_runs=1; flips=5; big=64M; lockn=50000; lockrounds=3
else runs=31; idle_secs=10; idle_runs=3; flips=15; big=1G; lockn=200000; lockrounds=15; fi

scratch=.build-static
swift build -c release --static-swift-stdlib --scratch-path "$scratch" --product shmscope >/dev/null
swift build -c release --static-swift-stdlib --scratch-path "$scratch" --product shmbench >/dev/null
bindir="$(swift build -c release --static-swift-stdlib --scratch-path "$scratch" --show-bin-path)"
export SHMSCOPE_BIN="$bindir/shmscope"
tag="bench_$$"
work="$(mktemp -d /tmp/shmscope-bench.XXXXXX)"
cleanup() {
  "$SHMSCOPE_BIN" rm "/$tag" >/dev/null 2>&1 || true
  "$SHMSCOPE_BIN" rm "$tag" --force >/dev/null 2>&1 || true
  rm -f "/dev/shm/${tag}_scan"
  rm -rf "$work"
}
trap cleanup EXIT
rows=()
row() { rows+=("$(printf '| %s | %s | %s | %s | %s |' "$@")"); }

# Runs each command RUNS times interleaved (stdout into a file), prints each one's median wall time in ms.
cat > "$work/times.py" <<'EOF'
import statistics, subprocess, sys, time
runs, out, cmds = int(sys.argv[1]), sys.argv[2], [c.split("\x1f") for c in sys.argv[3:]]
times = [[] for _ in cmds]
for _ in range(runs):
    for i, c in enumerate(cmds):
        with open(out, "wb") as f:
            t = time.perf_counter(); subprocess.run(c, stdout=f, stderr=subprocess.DEVNULL, check=False)
            times[i].append((time.perf_counter() - t) * 1000)
print(" ".join(f"{statistics.median(t):.2f}" for t in times))
EOF
times() { local n="$1"; shift; local args=(); for c in "$@"; do args+=("${c// /$'\x1f'}"); done; python3 "$work/times.py" "$n" "$work/out" "${args[@]}"; }
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR] = $1} END {print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2)}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f×", (b > 0 ? a / b : 0)}'; }

# --- idle view
while read -r size o w r; do
  row "\`open\` idle ${idle_secs} s at 10 Hz, $size" "$o CPU ticks, RssAnon $r MiB" "\`watch -n0.1 xxd -l 4096\` $w ticks" \
    "$(ratio "$o" "$w")" "≤ 0.20×, RssAnon ≤ 48 MiB"
done < <(BENCH_MACHINE=1 BENCH_BIG="$big" scripts/idle-bench.sh "$idle_secs" "$idle_runs")

# --- watch --log latency and CPU; a whole pass against a plain read loop
read -r lat cpu rss < <(BENCH_MACHINE=1 scripts/watch-bench.sh "$flips" "$big")
row "\`watch --log\` on $big, one byte flipped" "latency median $lat ms at $cpu% of a core, RssAnon $rss MiB" "—" "—" \
  "≤ 300 ms at ≤ 20%, ≤ 48 MiB"
head -c "$big" /dev/urandom > "/dev/shm/${tag}_scan"
read -r pass readloop < <("$bindir/shmbench" scanpass "${tag}_scan" $((quick ? 3 : 7)) | sed 's/pass_ms=\([0-9]*\) read_ms=\([0-9]*\).*/\1 \2/')
rm -f "/dev/shm/${tag}_scan"
row "whole-segment change pass, $big" "$pass ms" "plain read loop over the mapping $readloop ms" "$(ratio "$pass" "$readloop")" "≤ 2×"

# --- list, in a private namespace
# The binary and the checkout may be under /tmp, which the private tmpfs hides: the binary is held open across the
# mount and copied in (fd 4), the timing script too (fd 3); the working directory becomes /.
cat > "$work/list.sh" <<EOF
set -euo pipefail
exec 4< "$SHMSCOPE_BIN"
mount -t tmpfs -o mode=1777 none /dev/shm
mount -t tmpfs -o mode=1777 none /tmp
cd /
cat <&4 > /tmp/shmscope
exec 4<&-
chmod 0700 /tmp/shmscope
SHMSCOPE_BIN=/tmp/shmscope
cat > /tmp/times.py < /proc/self/fd/3
times() { local n="\$1"; shift; local args=(); for c in "\$@"; do args+=("\${c// /\$'\\x1f'}"); done; python3 /tmp/times.py "\$n" /tmp/out "\${args[@]}"; }
echo nothing \$(times $runs "\$SHMSCOPE_BIN list" "\$SHMSCOPE_BIN --version" "ipcs -m")
python3 -c "
import ctypes; libc = ctypes.CDLL(None)
for i in range(1000):
    assert libc.shmget(0x5EB00000 + i, 4096, 0o1600) >= 0
"
echo thousand \$(times $runs "\$SHMSCOPE_BIN list" "lsipc -m" "ipcs -m" "lsfd")
EOF
while read -r what a b c d; do
  if [ "$what" = nothing ]; then
    row "\`list\`, nothing to list" "$a ms (\`--version\` $b ms)" "\`ipcs -m\` $c ms" "$(ratio "$a" "$c")" "≤ 5×"
  else
    row "\`list\`, 1,000 System V segments" "$a ms" "\`lsipc -m\` $b ms, \`ipcs -m\` $c ms, \`lsfd\` $d ms" "$(ratio "$a" "$b")" "≤ 1.5× lsipc"
  fi
done < <(unshare --ipc --mount --pid --fork --mount-proc bash "$work/list.sh" 3< "$work/times.py")

# --- dump through a pipe
head -c 32M /dev/urandom > "$work/data"
"$SHMSCOPE_BIN" create "/$tag" --from "$work/data" >/dev/null
"$SHMSCOPE_BIN" dump "/$tag" > "$work/text"
cat > "$work/pipe.py" <<'EOF'
import statistics, subprocess, sys, time
runs, cmds = int(sys.argv[1]), [c.split("\x1f") for c in sys.argv[2:]]
times = [[] for _ in cmds]
for _ in range(runs):
    for i, c in enumerate(cmds):
        t = time.perf_counter()
        p = subprocess.Popen(c, stdout=subprocess.PIPE)
        w = subprocess.run(["wc", "-c"], stdin=p.stdout, capture_output=True)
        p.stdout.close(); p.wait()
        times[i].append((time.perf_counter() - t) * 1000)
print(" ".join(f"{statistics.median(t):.1f}" for t in times))
EOF
pipeargs=()
for c in "$SHMSCOPE_BIN dump /$tag" "cat $work/text" "xxd $work/data" "hexdump -C $work/data"; do pipeargs+=("${c// /$'\x1f'}"); done
read -r d c x h < <(python3 "$work/pipe.py" $((quick ? 5 : 15)) "${pipeargs[@]}")
row "\`dump\` 32 MiB through a pipe" "$d ms" "\`cat\` of the same text $c ms, \`xxd\` $x ms, \`hexdump -C\` $h ms" "$(ratio "$d" "$c")" "≤ 1.3× cat"
"$SHMSCOPE_BIN" rm "/$tag" >/dev/null

# --- the lock
if pkg-config --exists Qt5Core 2>/dev/null; then
  g++ -std=c++17 -O2 -fPIC Tests/Peers/qtpeer.cpp $(pkg-config --cflags --libs Qt5Core) -o "$work/qtpeer"
  coproc QT { "$work/qtpeer"; }
  read -r _ <&"${QT[0]}"
  echo "key $tag" >&"${QT[1]}"; read -r _ <&"${QT[0]}"
  echo "create 4096" >&"${QT[1]}"; read -r _ <&"${QT[0]}"
  # Interleaved rounds (Qt's loop, then ours, on the same semaphore), medians of each: one round of each swings
  # by ±5% on this machine, more than the difference being measured.
  qs=(); os=()
  for ((i = 0; i < lockrounds; i++)); do
    echo "lockloop $lockn" >&"${QT[1]}"; read -r qt <&"${QT[0]}"
    ours=$("$bindir/shmbench" lockloop "$tag" "$lockn")
    qs+=("${qt#ok ns_per_cycle=}"); os+=("${ours#ns_per_cycle=}")
  done
  echo "quit" >&"${QT[1]}"; wait "$QT_PID" 2>/dev/null || true
  q=$(median "${qs[@]}"); o=$(median "${os[@]}")
  row "Qt lock+unlock" "$o ns" "Qt 5 \`QSharedMemory\` $q ns" "$(ratio "$o" "$q")" "≤ 1×"
fi

echo "$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), $(. /etc/os-release; echo "$PRETTY_NAME"), $(date -u +%Y-%m-%d), medians$([ "$quick" = 1 ] && echo ", quick mode")"
echo
echo "| measure | shmscope | reference, same run | ratio | goal |"
echo "|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
