#ifndef CSHMSHIMS_H
#define CSHMSHIMS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <semaphore.h>
#include <time.h>
#include "ShmClangABI.h"

/* Fixed-argument wrappers for variadic or macro-only C calls Swift cannot import.
   Each is one call with no logic; the Swift side turns -1/errno into errors. */

int shm_shim_semctl_getval(int semid, int semnum);
int shm_shim_semctl_setval(int semid, int semnum, int value);
int shm_shim_semctl_getpid(int semid, int semnum);
int shm_shim_semctl_getncnt(int semid, int semnum);
int shm_shim_semctl_getzcnt(int semid, int semnum);
int shm_shim_semctl_rmid(int semid);
int shm_shim_semctl_stat(int semid, struct semid_ds *out);
/* semtimedop needs _GNU_SOURCE, which Swift's Glibc module does not define. */
int shm_shim_semtimedop(int semid, struct sembuf *ops, size_t nops, const struct timespec *timeout);

/* sem_open is variadic when O_CREAT is given. Returns NULL (not SEM_FAILED) on failure. */
sem_t *shm_shim_sem_open(const char *name, int oflag, unsigned int mode, unsigned int value);

/* open(2) is variadic for the mode argument. */
int shm_shim_open(const char *path, int flags, unsigned int mode);

/* flock(2): Swift sees `flock` as the struct of the same name. */
int shm_shim_flock(int fd, int operation);

/* renameat2(RENAME_NOREPLACE): needs _GNU_SOURCE, which Swift's Glibc module does not define. */
int shm_shim_rename_noreplace(const char *from, const char *to);

/* Copies n bytes, returning -1 instead of dying when the source or destination page faults
   (a POSIX segment truncated by a peer while we have it mapped). The fault handler is installed
   once, process-wide, and chains to whatever handler was there before for faults outside a copy. */
int shm_shim_safe_memcpy(void *dst, const void *src, size_t n);

/* The change tracker's 64-bit block hash (see shims.c). shm_shim_safe_hash_blocks hashes each `block`-sized piece
   of `n` bytes (the last may be shorter) into out[], straight from a mapping, guarded like shm_shim_safe_memcpy:
   -1 when a page faulted (out[] is then partly written). */
uint64_t shm_shim_hash(const void *bytes, size_t n);
int shm_shim_safe_hash_blocks(const void *src, size_t n, size_t block, uint64_t *out);

/* The registry of POSIX semaphores this process holds. A fatal signal (SIGSEGV, SIGBUS, SIGILL, SIGABRT, SIGFPE,
   SIGTRAP: a Swift trap on arm64)
   posts every one before the process dies (a POSIX semaphore has no undo), then chains to the previous handler.
   Installed with the safe-memcpy guard, whose handler it shares. add returns -1 when the registry is full. */
int shm_shim_held_sem_add(sem_t *sem);
void shm_shim_held_sem_remove(sem_t *sem);

/* prctl(PR_SET_PDEATHSIG, sig): prctl is variadic. Used so a demo writer never outlives its parent. */
int shm_shim_set_parent_death_signal(int sig);
/* prctl(PR_SET_NAME, name): the demo writer names itself (at most 15 bytes) so it is never mistaken for the viewer. */
int shm_shim_set_process_name(const char *name);

/* The system-call seam's "a test has installed a driver" flag (ShmCore/IPC/SyscallSeam.swift). Read before every
   system call, so it must cost one relaxed load: a Swift global Atomic is initialised lazily and costs ~15 ns per
   read; this is a plain C global, inlined into the caller. */
extern int shm_shim_seam_flag;
static inline int shm_shim_seam_armed(void) { return __atomic_load_n(&shm_shim_seam_flag, __ATOMIC_RELAXED); }
static inline void shm_shim_seam_arm(void) { __atomic_store_n(&shm_shim_seam_flag, 1, __ATOMIC_RELAXED); }

/* Decoders for wait(2) status macros. */
int shm_shim_wifexited(int status);
int shm_shim_wexitstatus(int status);
int shm_shim_wifsignaled(int status);
int shm_shim_wtermsig(int status);

#endif
