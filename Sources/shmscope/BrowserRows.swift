import Foundation
import Glibc
import ShmCore
import ShmTUI

/// A minimal stand-in for the catalog: System V segments from /proc/sysvipc/shm and POSIX objects in /dev/shm.
/// It knows nothing about Qt names, attached processes or locks; the catalog in ShmCore replaces it.
func scanBrowserRows() -> [BrowserRow] {
    var rows: [BrowserRow] = []
    if let text = try? String(contentsOfFile: "/proc/sysvipc/shm", encoding: .utf8) {
        // Columns: key shmid perms size cpid lpid nattch uid gid cuid cgid atime dtime ctime rss swap
        for line in text.split(separator: "\n").dropFirst() {
            let f = line.split(separator: " ", omittingEmptySubsequences: true)
            guard f.count >= 8, let key = Int64(f[0]), let shmid = Int32(f[1]), let size = Int(f[3]),
                let nattch = Int(f[6]), let uid = UInt32(f[7])
            else { continue }
            rows.append(
                BrowserRow(
                    kind: "SysV", key: hex32(key_t(truncatingIfNeeded: key)), id: String(shmid), size: size,
                    perms: "0" + String(f[2]), owner: userName(uid), nattch: nattch, attached: [], lock: "-",
                    target: .sysvID(shmid)))
        }
    }
    let names = (try? FileManager.default.contentsOfDirectory(atPath: "/dev/shm")) ?? []
    // sem.* files are POSIX named semaphores, not shared memory.
    for name in names.sorted() where !name.hasPrefix("sem.") {
        var st = stat()
        guard lstat("/dev/shm/" + name, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { continue }
        rows.append(
            BrowserRow(
                kind: "POSIX", key: "/" + name, id: "-", size: Int(st.st_size),
                perms: "0" + String(st.st_mode & 0o777, radix: 8), owner: userName(st.st_uid), nattch: nil,
                attached: [], lock: "-", target: .posix(name: "/" + name)))
    }
    return rows
}

private func userName(_ uid: UInt32) -> String {
    guard let pw = getpwuid(uid), let name = pw.pointee.pw_name else { return String(uid) }
    return String(cString: name)
}
