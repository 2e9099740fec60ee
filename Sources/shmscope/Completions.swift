import ArgumentParser
import ShmCore

/// Shell completion of a TARGET, through ArgumentParser's custom completion (the shell runs shmscope to ask on Tab):
/// see `TargetCompletion`.
@Sendable func targetCompletions(_ words: [String], _ index: Int, _ prefix: String) -> [String] {
    let candidates = TargetCompletion.candidates(prefix: prefix, knownKeys: KnownKeys.load())
    // zsh's script hands them to `_describe`, where an unescaped colon starts a description: `shmid:42` would offer
    // `shmid`. ArgumentParser escapes colons in its static lists but not in what a custom function returns.
    guard CompletionShell.requesting == .zsh else { return candidates }
    return candidates.map { $0.replacing("\\", with: "\\\\").replacing(":", with: "\\:") }
}
