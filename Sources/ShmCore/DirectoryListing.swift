import Glibc

/// The names in a directory and whether each is one (symlinks followed), for completing a typed path. Reads only
/// directory entries and their `stat`: nothing is opened or created.
public enum DirectoryListing {
    /// nil when the directory cannot be read.
    public static func entries(_ path: String) -> [(name: String, isDirectory: Bool)]? {
        guard let names = try? Sys.directoryEntries(path) else { return nil }
        let base = path.hasSuffix("/") ? path : path + "/"
        return names.map { name in
            let isDirectory = (try? Sys.stat(base + name)).map { $0.st_mode & S_IFMT == S_IFDIR } ?? false
            return (name, isDirectory)
        }
    }
}
