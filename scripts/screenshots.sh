#!/usr/bin/env bash
# Makes the PNGs in screenshots/ from the real TUI on real data: runs `shmscope demo` (and a browser with the demo's
# segment) in a private tmux server at a fixed size, captures the screen with its colours (capture-pane -e) and
# renders it with scripts/ansi2png.py (python3-pil, fonts-dejavu-core).
# Usage: scripts/screenshots.sh [OUTPUT_DIR]   (default: screenshots/). Needs: tmux, /usr/bin/python3 with PIL.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-screenshots}"
mkdir -p "$out"
cols=110
rows=32
bin="${SHMSCOPE_BIN:-}"
if [ -z "$bin" ]; then
  swift build --product shmscope >/dev/null
  bin="$(swift build --show-bin-path)/shmscope"
fi
sock="shmscope-shots-$$"
key="shmscope-demo-shots-$$"
state="$(mktemp -d /tmp/shmscope-shots.XXXXXX)"
tmux_() { tmux -L "$sock" "$@"; }
cleanup() {
  tmux_ kill-server >/dev/null 2>&1 || true
  "$bin" rm "$key" --force >/dev/null 2>&1 || true
  "$bin" rm "/$key-sensors" --force >/dev/null 2>&1 || true
  rm -rf "$state"
}
trap cleanup EXIT

start() { # command...
  tmux_ -f /dev/null new-session -d -s shot -x "$cols" -y "$rows" \
    "env -u NO_COLOR XDG_STATE_HOME=$state LANG=C.UTF-8 TERM=xterm-256color $*; sleep 30"
}
wait_for() { # text
  for _ in $(seq 100); do
    tmux_ capture-pane -p -t shot | grep -qF -- "$1" && return 0
    sleep 0.1
  done
  echo "screenshots: timed out waiting for '$1'" >&2
  tmux_ capture-pane -p -t shot >&2
  return 1
}
shot() { # name
  tmux_ capture-pane -p -e -t shot > "$state/$1.ans"
  /usr/bin/python3 scripts/ansi2png.py "$state/$1.ans" "$out/$1.png" "$cols" "$rows"
  echo "screenshots: $out/$1.png"
}

# 1. The live hex view on the demo, with the writer's changes highlighted.
start "$bin" demo --key "$key"
wait_for "SHMDEMO"
sleep 1.45
shot hex-view-live

# 2. Our lock held, in edit mode, with staged edits (typed over the message) waiting to be written; then the
#    commit dialog that asks before anything is written.
tmux_ send-keys -t shot L
wait_for "locked by us"
tmux_ send-keys -t shot e
wait_for "EDIT"
tmux_ send-keys -t shot j j Tab
tmux_ send-keys -t shot -l "SHMSCOPE"
sleep 0.3
shot lock-and-edit
tmux_ send-keys -t shot F8
wait_for "Commit? (y/n)"
sleep 0.3
shot commit-dialog
tmux_ send-keys -t shot Escape Escape X y U
wait_for "unlocked"

# 3. The help overlay.
tmux_ send-keys -t shot Escape F1
wait_for "Help"
shot help
tmux_ send-keys -t shot Escape

# 4. The browser, listing the demo segment and a POSIX object among whatever else exists.
"$bin" create "/$key-sensors" --size 4K --fill 0x2a >/dev/null
tmux_ new-window -t shot "env -u NO_COLOR XDG_STATE_HOME=$state LANG=C.UTF-8 TERM=xterm-256color $bin; sleep 30"
wait_for "ATTACHED"
sleep 0.3
shot browser
# 4b. The demo segment's info pane (what `shmscope info` prints), then the remove confirmation (nothing removed).
tmux_ send-keys -t shot /
tmux_ send-keys -t shot -l "$key"
tmux_ send-keys -t shot Enter
wait_for "2 match"
# The Qt segment sorts after its POSIX neighbour.
tmux_ send-keys -t shot G i
wait_for "─ info:"
sleep 0.3
shot browser-info
tmux_ send-keys -t shot i D
wait_for "removes anyway"
sleep 0.3
shot browser-remove
tmux_ send-keys -t shot Escape
tmux_ kill-window -t shot:1

# 5. Watch mode (read-only) on the same segment laid out from the peer's C header (fields tinted), with the who
#    pane and then the inspector, and the layout table after f jumps to a field.
tmux_ new-window -t shot "env -u NO_COLOR XDG_STATE_HOME=$state LANG=C.UTF-8 TERM=xterm-256color $bin watch $key --layout examples/demo.h --struct demo_record; sleep 30"
wait_for "RO"
tmux_ send-keys -t shot W
wait_for "(root) r"
sleep 0.5
shot watch-who
tmux_ send-keys -t shot W i
wait_for "Inspector"
sleep 0.5
shot watch-inspector
tmux_ send-keys -t shot i t f
wait_for "Field ("
tmux_ send-keys -t shot -l "temps[2]"
tmux_ send-keys -t shot Enter
wait_for "temps[2]: f32le"
sleep 0.5
shot watch-layout
tmux_ kill-window -t shot:1

# 6. Two seconds of the demo recorded, then replayed: the timeline in the status line, stepped with `.`, and a
#    breakpoint (`B` on the counter: `changed(counter)`) that jumped to its next change, shown in the Who pane.
"$bin" watch "$key" --record "$state/demo.shmrec" --duration 2 >/dev/null 2>&1
tmux_ new-window -t shot "env -u NO_COLOR XDG_STATE_HOME=$state LANG=C.UTF-8 TERM=xterm-256color $bin replay $state/demo.shmrec --layout examples/demo.layout; sleep 30"
wait_for "REPLAY"
tmux_ send-keys -t shot . . . . .
wait_for "change 5/"
tmux_ send-keys -t shot w w B
wait_for "changed(counter)"
tmux_ send-keys -t shot Enter
wait_for "breakpoint 1 hit"
sleep 0.3
shot replay-timeline
tmux_ kill-window -t shot:1

tmux_ send-keys -t shot q
sleep 0.5
