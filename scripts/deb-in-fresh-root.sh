#!/usr/bin/env bash
# The .deb from `make dist` in a fresh Debian 12 root with no Swift: debootstrap a bookworm minbase root (about half
# a minute; needs the Debian mirror), install the package there with dpkg (its Depends: libc6, libstdc++6, libgcc-s1,
# libncursesw6 must be all it needs), and run `list`, `dump`, `write` and `lock` inside the root against a real
# Qt 5 peer that also runs inside it (libqt5core5a is installed into the root for the peer, not for shmscope).
# Needs root, debootstrap, g++ and qtbase5-dev (to build the peer). Usage: scripts/deb-in-fresh-root.sh [MIRROR]
set -euo pipefail
cd "$(dirname "$0")/.."
mirror="${1:-http://deb.debian.org/debian}"

deb=$(ls .build/dist/shmscope_*.deb 2>/dev/null | head -n1 || true)
if [ -z "$deb" ]; then
  make dist
  deb=$(ls .build/dist/shmscope_*.deb | head -n1)
fi

root=$(mktemp -d /var/tmp/shmscope-root.XXXXXX)
key="distcheck_$$"
peer_pid=""
cleanup() {
  set +e
  if [ -n "$peer_pid" ] && kill -0 "$peer_pid" 2>/dev/null; then
    echo quit >&"${QT[1]}" 2>/dev/null
    sleep 0.5
    kill "$peer_pid" 2>/dev/null
  fi
  # The peer's System V segment and semaphore live in our IPC namespace: remove them if it left them.
  [ -x "$root/usr/bin/shmscope" ] && chroot "$root" /usr/bin/shmscope rm "qt:$key" >/dev/null 2>&1
  for m in "$root/dev/shm" "$root/proc"; do mountpoint -q "$m" && umount -l "$m"; done
  rm -rf --one-file-system "$root"
}
trap cleanup EXIT

fail() { echo "deb-in-fresh-root: FAILED: $*" >&2; exit 1; }

echo "deb-in-fresh-root: debootstrap bookworm (minbase) into $root"
debootstrap --variant=minbase --include=libqt5core5a bookworm "$root" "$mirror" >/dev/null
# Nothing from a Swift toolchain may be there.
if find "$root" -name 'libswift*' -print -quit | grep -q .; then fail "the fresh root has Swift libraries"; fi

cp "$deb" "$root/tmp/shmscope.deb"
# dpkg checks the Depends; apt fetches what is missing (libncursesw6: a minbase root has only libtinfo6).
chroot "$root" apt-get install -y -qq -o APT::Sandbox::User=root /tmp/shmscope.deb >"$root/tmp/apt.log" 2>&1 \
  || { cat "$root/tmp/apt.log" >&2; fail "the package does not install"; }
chroot "$root" dpkg -s shmscope | grep -q '^Status: install ok installed' || fail "the package is not installed"
missing=$(chroot "$root" ldd /usr/bin/shmscope | grep -c 'not found' || true)
[ "$missing" = 0 ] || fail "shared libraries missing: $(chroot "$root" ldd /usr/bin/shmscope)"
if chroot "$root" ldd /usr/bin/shmscope | grep -q swift; then fail "the binary needs Swift libraries"; fi
[ -f "$root/usr/share/man/man1/shmscope.1.gz" ] || fail "no man page"
[ -f "$root/usr/share/bash-completion/completions/shmscope" ] || fail "no bash completion"

mount -t proc proc "$root/proc"
mount -t tmpfs -o mode=1777 tmpfs "$root/dev/shm"

# The Qt 5 peer (Tests/Peers/qtpeer.cpp), built here against Debian 12's Qt 5 and run inside the root.
g++ -std=c++17 -fPIC Tests/Peers/qtpeer.cpp -o "$root/usr/local/bin/qtpeer" $(pkg-config --cflags --libs Qt5Core)
coproc QT { exec chroot "$root" env TMPDIR=/tmp /usr/local/bin/qtpeer; }
peer_pid=$QT_PID
ask() {
  echo "$1" >&"${QT[1]}"
  local reply
  read -r -t 20 reply <&"${QT[0]}" || fail "the Qt peer did not answer \`$1\`"
  echo "$reply"
}
read -r -t 20 ready <&"${QT[0]}" || fail "the Qt peer did not start"
case "$ready" in ready*) ;; *) fail "Qt peer: $ready" ;; esac
ask "key $key" >/dev/null
[ "$(ask "create 64")" = ok ] || fail "Qt peer cannot create"
ask lock >/dev/null
ask "write 0 from qt" >/dev/null
ask unlock >/dev/null

in_root() { chroot "$root" env TMPDIR=/tmp /usr/bin/shmscope "$@"; }

in_root list --kind qt --key "$key" | grep -q " $key " || fail "list does not show the Qt segment"
[ "$(in_root dump "qt:$key" --format raw --length 7)" = "from qt" ] || fail "dump does not read the Qt segment"
in_root write "qt:$key" --offset 0 --text HELLO >/dev/null || fail "write failed"
[ "$(ask "read 0 5")" = "ok 48454c4c4f" ] || fail "the Qt peer does not read what write wrote"

# lock: while shmscope holds the Qt lock (2 s), the peer's lock() waits.
in_root lock "qt:$key" --hold 2 > "$root/tmp/lock.out" &
locker=$!
for _ in $(seq 100); do grep -q '^locked' "$root/tmp/lock.out" 2>/dev/null && break; sleep 0.05; done
grep -q '^locked' "$root/tmp/lock.out" || fail "lock did not take the lock"
waited=$(ask lock)
wait "$locker" || fail "lock failed"
ms=${waited#ok waited_ms=}
[ "$ms" -ge 500 ] 2>/dev/null || fail "the Qt peer's lock() did not wait for shmscope's lock ($waited)"
ask unlock >/dev/null
ask quit >/dev/null
wait "$peer_pid" 2>/dev/null || true
peer_pid=""
echo "deb-in-fresh-root: ok ($(basename "$deb"): list, dump, write, lock against a Qt 5 peer; Qt waited ${ms} ms)"
