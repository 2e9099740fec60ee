import Glibc

/// One kind of shared memory (System V, POSIX; later memfd or another namespace's objects): how a segment of that
/// kind is created, attached, detached, removed and watched. `SharedMemory` gets one from its `SegmentPlan` when it
/// is made and never asks the target's kind again, so a new kind is a new type, not a new case in a dozen switches.
///
/// A backend knows nothing of Qt: the dialect hands it the native names and says whether Qt's "last one out
/// removes it" rule applies. Locking is the lock's business (`SegmentLock`), chosen by the same plan.
protocol SegmentBackend: AnyObject {
    /// Work that must happen before the lock is prepared on create (Qt 6 native System V keys: the runtime dir).
    func prepareCreate() throws(ShmError)
    /// Creates the object with `size` bytes and mode `permissions`, and maps it read-write. Leaves nothing behind
    /// when it fails.
    func create(size: Int, permissions: mode_t) throws(ShmError) -> Mapping
    /// Maps the existing object; `readOnly` maps without write permission.
    func attach(readOnly: Bool) throws(ShmError) -> Mapping
    /// Unmaps and releases what the mapping holds (a descriptor).
    func unmap(_ mapping: Mapping)
    /// After this process unmapped under a "last one out removes it" policy: removes the object when nobody is
    /// attached any more, if this backend was told to. Returns true when it removed it.
    func removeIfUnused(_ mapping: Mapping) throws(ShmError) -> Bool
    /// Removes the object, whoever is attached. Returns false when there was nothing to remove and this kind
    /// reports that instead of an error.
    func remove() throws(ShmError) -> Bool
    /// Whether the object we have mapped is still there, removed, or resized.
    func presence(of mapping: Mapping) -> SharedMemory.Presence
    /// True when the name now leads to another object than the one we have mapped (removed and created again).
    func namesAnotherSegment(than mapping: Mapping) -> Bool
    /// The object's size now, for kinds a peer can resize; nil for kinds whose size is fixed at creation.
    func currentSize(of mapping: Mapping) -> Int?
    /// The System V id of the mapping, for kinds that have one.
    func shmid(of mapping: Mapping) -> Int32?
    /// Whether the object exists now, found without attaching, creating or locking anything (an attach would
    /// change a System V segment's last pid).
    func exists() -> Bool
}

extension SegmentBackend {
    func prepareCreate() throws(ShmError) {}
    func currentSize(of mapping: Mapping) -> Int? { nil }
    func shmid(of mapping: Mapping) -> Int32? { nil }
}
