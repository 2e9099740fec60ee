import CShmShims

/// Sets a System V semaphore's value (tests build raw semaphore sets by hand).
public func setSemaphore(_ semid: Int32, _ value: Int32) -> Bool { shm_shim_semctl_setval(semid, 0, value) == 0 }

public func cleanUpSemaphore(_ semid: Int32) { _ = shm_shim_semctl_rmid(semid) }

/// Whether a System V semaphore set with this id still exists.
public func semaphoreExists(_ semid: Int32) -> Bool { shm_shim_semctl_getval(semid, 0) != -1 }

/// The pid of the last operation on semaphore 0 of a set (`semctl GETPID`; SETVAL sets it too), or -1.
public func semaphoreLastPID(_ semid: Int32) -> Int32 { shm_shim_semctl_getpid(semid, 0) }
