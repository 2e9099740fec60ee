import ShmCore

/// Shell completion of a TARGET, through ArgumentParser's custom completion (the shell runs shmscope to ask on Tab):
/// see `TargetCompletion`.
@Sendable func targetCompletions(_ words: [String], _ index: Int, _ prefix: String) -> [String] {
    TargetCompletion.candidates(prefix: prefix, knownKeys: KnownKeys.load())
}
