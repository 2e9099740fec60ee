"""A Python peer for shmscope's tests: multiprocessing.shared_memory driven by line commands on stdin.

Protocol (one reply line per command, "ok ..." or "err <message>"):
  create NAME SIZE      SharedMemory(name=NAME, create=True, size=SIZE)
  attach NAME           SharedMemory(name=NAME)
  write OFFSET TEXT     copy TEXT (rest of the line) at OFFSET
  read OFFSET LEN       reply "ok <hex>"
  size                  reply "ok <size of the mapping>"
  close                 close() (keeps the object)
  unlink                unlink()
  quit
"""
import os
import sys
from multiprocessing import resource_tracker, shared_memory


def main():
    shm = None
    print(f"ready pid={os.getpid()}", flush=True)
    for line in sys.stdin:
        line = line.rstrip("\n")
        cmd, _, rest = line.partition(" ")
        try:
            if cmd == "create":
                name, size = rest.split(" ")
                shm = shared_memory.SharedMemory(name=name, create=True, size=int(size))
                print("ok", flush=True)
            elif cmd == "attach":
                shm = shared_memory.SharedMemory(name=rest)
                # Attaching must not make Python's resource tracker unlink the object at exit.
                resource_tracker.unregister(shm._name, "shared_memory")
                print("ok", flush=True)
            elif cmd == "write":
                off, _, text = rest.partition(" ")
                data = text.encode()
                shm.buf[int(off):int(off) + len(data)] = data
                print("ok", flush=True)
            elif cmd == "read":
                off, length = (int(x) for x in rest.split(" "))
                print("ok " + bytes(shm.buf[off:off + length]).hex(), flush=True)
            elif cmd == "size":
                print(f"ok {shm.size}", flush=True)
            elif cmd == "close":
                shm.close()
                print("ok", flush=True)
            elif cmd == "unlink":
                shm.unlink()
                print("ok", flush=True)
            elif cmd == "quit":
                print("ok", flush=True)
                return
            else:
                print(f"err unknown command {cmd}", flush=True)
        except Exception as e:  # report, keep serving
            print(f"err {type(e).__name__}: {e}", flush=True)


if __name__ == "__main__":
    main()
