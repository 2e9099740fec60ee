// A real Qt peer for shmscope's tests: QSharedMemory driven by line commands on stdin, the way the seed
// article uses it (create + write under the lock, attach + read, lock, detach).
//
// Build: g++ -std=c++17 -fPIC qtpeer.cpp $(pkg-config --cflags --libs Qt5Core) -o qtpeer
// Protocol: one command per line; one reply line each, "ok ..." or "err <code> <errorString>".
//   key KEY                 setKey(KEY)
//   create SIZE             create(SIZE)
//   attach ro|rw            attach(ReadOnly|ReadWrite)
//   detach                  detach()
//   lock                    lock(); replies "ok waited_ms=N"
//   unlock                  unlock()
//   write OFFSET TEXT       copies TEXT (rest of line) at OFFSET (caller holds the lock or not, as it chooses)
//   writehex OFFSET HEX     copies bytes given as hex at OFFSET
//   read OFFSET LEN         replies "ok <hex of LEN bytes>"
//   hold MS                 lock(), sleep MS, unlock(); replies "ok waited_ms=N" after unlocking
//   info                    replies "ok size=N attached=0|1 native=PATH"
//   lockloop N              N x (lock(); unlock()); replies "ok ns_per_cycle=X" (for scripts/bench.sh)
//   increment N lock|nolock [PAUSE_US]
//                           up to N x ([lock();] read the native-endian u32 at 0, add 1, write it back [; unlock()]),
//                           sleeping PAUSE_US between increments (outside the lock); any line on stdin stops it
//                           early (and is consumed); replies "ok count=K last=V": how many it did and the value it
//                           wrote last (the lost-update test)
//   quit                    exits 0
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QSharedMemory>
#include <QThread>
#include <cstdio>
#include <cstdint>
#include <cstring>
#include <sstream>
#include <poll.h>
#include <unistd.h>
#include <iostream>
#include <string>

static void reply(const std::string &s) {
    std::cout << s << std::endl;
}

static void fail(const QSharedMemory &m) {
    reply("err " + std::to_string(int(m.error())) + " " + m.errorString().toStdString());
}

int main(int argc, char **argv) {
    QCoreApplication app(argc, argv);
    QSharedMemory mem;
    std::string line;
    reply("ready pid=" + std::to_string(QCoreApplication::applicationPid()));
    while (std::getline(std::cin, line)) {
        auto sp = line.find(' ');
        std::string cmd = line.substr(0, sp);
        std::string rest = sp == std::string::npos ? "" : line.substr(sp + 1);
        if (cmd == "key") {
            mem.setKey(QString::fromStdString(rest));
            reply("ok " + mem.nativeKey().toStdString());
        } else if (cmd == "create") {
            if (mem.create(std::stoi(rest))) reply("ok"); else fail(mem);
        } else if (cmd == "attach") {
            if (mem.attach(rest == "ro" ? QSharedMemory::ReadOnly : QSharedMemory::ReadWrite)) reply("ok");
            else fail(mem);
        } else if (cmd == "detach") {
            if (mem.detach()) reply("ok"); else fail(mem);
        } else if (cmd == "lock" || cmd == "hold") {
            QElapsedTimer t;
            t.start();
            if (!mem.lock()) { fail(mem); continue; }
            qint64 waited = t.elapsed();
            if (cmd == "hold") {
                reply("locked waited_ms=" + std::to_string(waited));
                QThread::msleep(std::stoul(rest));
                mem.unlock();
            }
            reply("ok waited_ms=" + std::to_string(waited));
        } else if (cmd == "unlock") {
            if (mem.unlock()) reply("ok"); else fail(mem);
        } else if (cmd == "write" || cmd == "writehex") {
            auto sp2 = rest.find(' ');
            int off = std::stoi(rest.substr(0, sp2));
            std::string payload = sp2 == std::string::npos ? "" : rest.substr(sp2 + 1);
            QByteArray bytes = cmd == "write" ? QByteArray::fromStdString(payload)
                                              : QByteArray::fromHex(QByteArray::fromStdString(payload));
            if (!mem.isAttached() || off < 0 || off + bytes.size() > mem.size()) { reply("err 2 out of range"); continue; }
            std::memcpy(static_cast<char *>(mem.data()) + off, bytes.constData(), bytes.size());
            reply("ok");
        } else if (cmd == "read") {
            auto sp2 = rest.find(' ');
            int off = std::stoi(rest.substr(0, sp2));
            int len = std::stoi(rest.substr(sp2 + 1));
            if (!mem.isAttached() || off < 0 || off + len > mem.size()) { reply("err 2 out of range"); continue; }
            QByteArray bytes(static_cast<const char *>(mem.constData()) + off, len);
            reply("ok " + bytes.toHex().toStdString());
        } else if (cmd == "lockloop") {
            int n = std::stoi(rest);
            QElapsedTimer t;
            t.start();
            for (int i = 0; i < n; ++i) { mem.lock(); mem.unlock(); }
            reply("ok ns_per_cycle=" + std::to_string(t.nsecsElapsed() / n));
        } else if (cmd == "increment") {
            std::istringstream args(rest);
            long n = 0, pause = 0;
            std::string mode;
            args >> n >> mode >> pause;
            bool locked = mode == "lock";
            if (!mem.isAttached() || mem.size() < 4 || (!locked && mode != "nolock")) { reply("err 2 bad increment"); continue; }
            // volatile: every read and write reaches the shared page, as a real peer's would.
            volatile uint32_t *counter = static_cast<volatile uint32_t *>(mem.data());
            uint32_t last = 0;
            long done = 0;
            bool ok = true;
            for (; done < n && ok; ++done) {
                pollfd in = {0, POLLIN, 0};
                if (poll(&in, 1, 0) > 0) {
                    std::string stop;
                    std::getline(std::cin, stop);
                    break;
                }
                if (locked && !mem.lock()) { ok = false; break; }
                last = *counter + 1;
                *counter = last;
                if (locked && !mem.unlock()) ok = false;
                if (pause > 0) usleep(pause);
            }
            if (ok) reply("ok count=" + std::to_string(done) + " last=" + std::to_string(last)); else fail(mem);
        } else if (cmd == "info") {
            reply("ok size=" + std::to_string(mem.size()) + " attached=" + (mem.isAttached() ? "1" : "0") +
                  " native=" + mem.nativeKey().toStdString());
        } else if (cmd == "quit") {
            reply("ok");
            return 0;
        } else {
            reply("err 8 unknown command " + cmd);
        }
    }
    return 0;
}
