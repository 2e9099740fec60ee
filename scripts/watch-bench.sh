#!/usr/bin/env bash
# Measures `shmscope watch --log` on a 1 GiB POSIX segment filled with random bytes:
#   latency   from flipping one byte at a random offset to its NDJSON line arriving on the pipe
#   CPU       (utime + stime) / wall time of the watcher over each flip's window, from /proc/PID/stat
#   RssAnon   the watcher's private anonymous resident memory, from /proc/PID/status (no full shadow copy:
#             block hashes, the 32 MiB block cache and the runtime; the mapped segment is RssShmem)
# and prints the medians. Usage: scripts/watch-bench.sh [FLIPS] [SIZE]   (defaults 15 and 1G).
# Needs a release build (made here) and python3. Removes its segment on exit. scripts/bench.sh sets SHMSCOPE_BIN
# (the binary to measure: no build here) and BENCH_MACHINE=1 (one line: LATENCY_MS CPU_PERCENT RSSANON_MIB).
set -euo pipefail
cd "$(dirname "$0")/.."
flips="${1:-15}"
size="${2:-1G}"
if [ -n "${SHMSCOPE_BIN:-}" ]; then bin="$(dirname "$SHMSCOPE_BIN")"; else
  swift build -c release --product shmscope >/dev/null
  bin="$(swift build -c release --show-bin-path)"
fi
name="watchbench_$$"
cleanup() { rm -f "/dev/shm/$name"; }
trap cleanup EXIT

# The segment: a POSIX object is a file in /dev/shm, so fill it like one (random bytes: nothing is all-zero,
# so the cache budget is really exercised and every block is hashed for real).
head -c "$size" /dev/urandom > "/dev/shm/$name"

python3 - "$bin/shmscope" "/$name" "$flips" "${BENCH_MACHINE:-}" <<'EOF'
import json, mmap, os, random, select, statistics, subprocess, sys, time

binary, name, flips, machine = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1"
ticks = os.sysconf("SC_CLK_TCK")
watcher = subprocess.Popen([binary, "watch", name, "--log", "--json"], stdout=subprocess.PIPE)

def cpu_seconds():
    with open(f"/proc/{watcher.pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / ticks   # utime, stime (fields 14, 15)

def rss_anon_kib():
    with open(f"/proc/{watcher.pid}/status") as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1])

def read_line(timeout):
    ready, _, _ = select.select([watcher.stdout], [], [], timeout)
    return watcher.stdout.readline() if ready else None

fd = os.open("/dev/shm" + name, os.O_RDWR)
size = os.fstat(fd).st_size
m = mmap.mmap(fd, size)
time.sleep(5)  # the baseline scan (and page-ins) of the whole segment
latencies, cpu_shares, rss = [], [], []
for _ in range(flips):
    offset = random.randrange(size)
    wall0, cpu0 = time.monotonic(), cpu_seconds()
    m[offset] ^= 0xFF
    flipped = time.monotonic()
    while True:
        line = read_line(5)
        if line is None:
            sys.exit(f"no report within 5 s for offset {offset}")
        event = json.loads(line)
        if event.get("type") == "change" and event["offset"] <= offset < event["offset"] + event["length"]:
            latencies.append(time.monotonic() - flipped)
            break
    time.sleep(1.0)  # a steady window after the report, so CPU covers whole scan/sleep cycles
    cpu_shares.append((cpu_seconds() - cpu0) / (time.monotonic() - wall0))
    rss.append(rss_anon_kib())
watcher.terminate()
watcher.wait()
m.close()
os.close(fd)
if machine:
    print(f"{statistics.median(latencies)*1000:.0f} {statistics.median(cpu_shares)*100:.0f} {statistics.median(rss)/1024:.1f}")
    sys.exit(0)
print(f"segment {size} bytes, {flips} flips at random offsets")
print(f"latency  median {statistics.median(latencies)*1000:.0f} ms  max {max(latencies)*1000:.0f} ms")
print(f"cpu      median {statistics.median(cpu_shares)*100:.0f}% of a core  max {max(cpu_shares)*100:.0f}%")
print(f"RssAnon  median {statistics.median(rss)/1024:.1f} MiB  max {max(rss)/1024:.1f} MiB")
EOF
