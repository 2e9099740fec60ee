"""A real Qt 6.6 peer (PyQt6 6.6.1 with Qt 6.6.3 from PyPI) for shmscope's tests: QSharedMemory driven by line
commands on stdin, the same protocol as qtpeer.cpp, plus ways to choose the key:

  legacy KEY              QSharedMemory(KEY)                              (classic string key, System V on Linux)
  native posix KEY        QSharedMemory(platformSafeKey(KEY))             (Qt 6.6 default: POSIX /KEY)
  native sysv KEY         QSharedMemory(platformSafeKey(KEY, SystemV))    ($XDG_RUNTIME_DIR/KEY)
  create SIZE | attach ro|rw | detach | lock | unlock | hold MS | write OFF TEXT | read OFF LEN | info | quit
Replies: "ok ..." or "err <code> <errorString>".
"""
import os
import sys
import time

from PyQt6.QtCore import QNativeIpcKey, QSharedMemory


def main():
    mem = QSharedMemory()
    print(f"ready pid={os.getpid()}", flush=True)

    def fail():
        print(f"err {mem.error().value} {mem.errorString()}", flush=True)

    for line in sys.stdin:
        cmd, _, rest = line.rstrip("\n").partition(" ")
        if cmd == "legacy":
            mem = QSharedMemory(rest)
            print("ok " + mem.nativeKey(), flush=True)
        elif cmd == "native":
            kind, _, key = rest.partition(" ")
            t = QNativeIpcKey.Type.PosixRealtime if kind == "posix" else QNativeIpcKey.Type.SystemV
            mem = QSharedMemory(QSharedMemory.platformSafeKey(key, t))
            print("ok " + mem.nativeKey(), flush=True)
        elif cmd == "create":
            print("ok", flush=True) if mem.create(int(rest)) else fail()
        elif cmd == "attach":
            mode = QSharedMemory.AccessMode.ReadOnly if rest == "ro" else QSharedMemory.AccessMode.ReadWrite
            print("ok", flush=True) if mem.attach(mode) else fail()
        elif cmd == "detach":
            print("ok", flush=True) if mem.detach() else fail()
        elif cmd in ("lock", "hold"):
            start = time.monotonic()
            if not mem.lock():
                fail()
                continue
            waited = int((time.monotonic() - start) * 1000)
            if cmd == "hold":
                print(f"locked waited_ms={waited}", flush=True)
                time.sleep(int(rest) / 1000)
                mem.unlock()
            print(f"ok waited_ms={waited}", flush=True)
        elif cmd == "unlock":
            print("ok", flush=True) if mem.unlock() else fail()
        elif cmd in ("write", "read"):
            ptr = mem.data()
            if ptr is None:
                print("err 5 not attached", flush=True)
                continue
            ptr.setsize(mem.size())
            view = memoryview(ptr)
            off, _, arg = rest.partition(" ")
            off = int(off)
            if cmd == "write":
                data = arg.encode()
                if off + len(data) > mem.size():
                    print("err 2 out of range", flush=True)
                    continue
                view[off:off + len(data)] = data
                print("ok", flush=True)
            else:
                n = int(arg)
                print("ok " + bytes(view[off:off + n]).hex(), flush=True)
        elif cmd == "info":
            print(f"ok size={mem.size()} attached={int(mem.isAttached())} native={mem.nativeKey()}", flush=True)
        elif cmd == "quit":
            print("ok", flush=True)
            return
        else:
            print(f"err 8 unknown command {cmd}", flush=True)


if __name__ == "__main__":
    main()
