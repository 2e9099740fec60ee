#define _GNU_SOURCE
#include "CShmShims.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <setjmp.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/wait.h>

union semun {
    int val;
    struct semid_ds *buf;
    unsigned short *array;
};

int shm_shim_seam_flag = 0;

int shm_shim_semctl_getval(int semid, int semnum) { return semctl(semid, semnum, GETVAL); }
int shm_shim_semctl_getpid(int semid, int semnum) { return semctl(semid, semnum, GETPID); }
int shm_shim_semctl_getncnt(int semid, int semnum) { return semctl(semid, semnum, GETNCNT); }
int shm_shim_semctl_getzcnt(int semid, int semnum) { return semctl(semid, semnum, GETZCNT); }
int shm_shim_semctl_rmid(int semid) { return semctl(semid, 0, IPC_RMID); }

int shm_shim_semctl_setval(int semid, int semnum, int value) {
    union semun u;
    u.val = value;
    return semctl(semid, semnum, SETVAL, u);
}

int shm_shim_semctl_stat(int semid, struct semid_ds *out) {
    union semun u;
    u.buf = out;
    return semctl(semid, 0, IPC_STAT, u);
}

int shm_shim_semtimedop(int semid, struct sembuf *ops, size_t nops, const struct timespec *timeout) {
    return semtimedop(semid, ops, nops, timeout);
}

sem_t *shm_shim_sem_open(const char *name, int oflag, unsigned int mode, unsigned int value) {
    sem_t *s = (oflag & O_CREAT) ? sem_open(name, oflag, (mode_t)mode, value) : sem_open(name, oflag);
    return s == SEM_FAILED ? NULL : s;
}

int shm_shim_open(const char *path, int flags, unsigned int mode) { return open(path, flags, (mode_t)mode); }

int shm_shim_flock(int fd, int operation) { return flock(fd, operation); }

int shm_shim_rename_noreplace(const char *from, const char *to) {
    return renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE);
}

/* SIGBUS/SIGSEGV guard. A thread-local jump buffer is armed only for the duration of one memcpy;
   faults anywhere else go to the previously installed handler (the Swift runtime's backtracer). */
static __thread sigjmp_buf *guard_jmp;
static struct sigaction previous_bus, previous_segv, previous_ill, previous_abrt, previous_fpe, previous_trap;
static pthread_once_t guard_once = PTHREAD_ONCE_INIT;

/* POSIX semaphores we hold. A POSIX semaphore has no undo: a crash while holding one would hang every Qt 6 peer.
   The fatal-signal handlers below post each one (sem_post is async-signal-safe) before the crash goes on. Only
   atomic loads and exchanges here, so a signal may arrive at any point. */
#define HELD_MAX 16
static sem_t *held_sems[HELD_MAX];

static void release_held(void) {
    for (int i = 0; i < HELD_MAX; i++) {
        sem_t *s = __atomic_exchange_n(&held_sems[i], NULL, __ATOMIC_SEQ_CST);
        if (s) sem_post(s);
    }
}

static void chain(int sig, siginfo_t *info, void *ctx, struct sigaction *prev) {
    if (prev->sa_flags & SA_SIGINFO) {
        if (prev->sa_sigaction) { prev->sa_sigaction(sig, info, ctx); return; }
    } else if (prev->sa_handler != SIG_DFL && prev->sa_handler != SIG_IGN) {
        prev->sa_handler(sig);
        return;
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

static struct sigaction *previous_for(int sig) {
    switch (sig) {
    case SIGBUS: return &previous_bus;
    case SIGSEGV: return &previous_segv;
    case SIGILL: return &previous_ill;
    case SIGABRT: return &previous_abrt;
    case SIGTRAP: return &previous_trap;
    default: return &previous_fpe;
    }
}

/* One handler for every fatal signal: a fault inside a guarded copy is not a crash (jump back); anything else
   releases the POSIX locks we hold and goes on to the previous handler, or the default action, so the process
   still dies as it would have. */
static void on_fault(int sig, siginfo_t *info, void *ctx) {
    if ((sig == SIGBUS || sig == SIGSEGV) && guard_jmp) siglongjmp(*guard_jmp, 1);
    release_held();
    chain(sig, info, ctx, previous_for(sig));
}

static void install_guard(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    /* SIGTRAP too: a Swift runtime trap is SIGILL on x86-64 but SIGTRAP (brk) on arm64. */
    int sigs[] = {SIGBUS, SIGSEGV, SIGILL, SIGABRT, SIGFPE, SIGTRAP};
    for (int i = 0; i < 6; i++) sigaction(sigs[i], &sa, previous_for(sigs[i]));
}

int shm_shim_held_sem_add(sem_t *sem) {
    pthread_once(&guard_once, install_guard);
    for (int i = 0; i < HELD_MAX; i++) {
        sem_t *expected = NULL;
        if (__atomic_compare_exchange_n(&held_sems[i], &expected, sem, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
            return 0;
    }
    return -1;
}

void shm_shim_held_sem_remove(sem_t *sem) {
    for (int i = 0; i < HELD_MAX; i++) {
        sem_t *expected = sem;
        if (__atomic_compare_exchange_n(&held_sems[i], &expected, NULL, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
            return;
    }
}

int shm_shim_safe_memcpy(void *dst, const void *src, size_t n) {
    pthread_once(&guard_once, install_guard);
    sigjmp_buf jb;
    volatile int rc = 0;
    if (sigsetjmp(jb, 1) == 0) {
        guard_jmp = &jb;
        memcpy(dst, src, n);
    } else {
        rc = -1;
    }
    guard_jmp = NULL;
    return rc;
}

int shm_shim_set_parent_death_signal(int sig) { return prctl(PR_SET_PDEATHSIG, sig); }
int shm_shim_set_process_name(const char *name) { return prctl(PR_SET_NAME, name, 0, 0, 0); }

int shm_shim_wifexited(int status) { return WIFEXITED(status); }
int shm_shim_wexitstatus(int status) { return WEXITSTATUS(status); }
int shm_shim_wifsignaled(int status) { return WIFSIGNALED(status); }
int shm_shim_wtermsig(int status) { return WTERMSIG(status); }

/* The change tracker's block hash (ShmCore/ChangeTracker.swift). It has to keep up with memory bandwidth: a
   whole-segment pass of `watch --log` hashes every block of the mapping directly, with no copy. Eight 64-bit lanes
   over 64-byte stripes, in the manner of XXH3's accumulator: each word is added to its neighbour lane and its
   keyed halves multiplied into its own, the key salted per stripe so words trading places between stripes still
   change the result; then a murmur3-style finaliser. Not cryptographic: it only has to make an accidental collision
   between two states of one block vanishingly rare. The AVX2 build of the loop is chosen at run time when the CPU
   has it (twice the speed: a 1 GiB pass in about the time of a plain read loop). */
static const uint64_t hash_keys[8] = {
    0x9E3779B185EBCA87ULL, 0xC2B2AE3D27D4EB4FULL, 0x165667B19E3779F9ULL, 0x85EBCA77C2B2AE63ULL,
    0x27D4EB2F165667C5ULL, 0xFF51AFD7ED558CCDULL, 0xC4CEB9FE1A85EC53ULL, 0x94D049BB133111EBULL};

static inline uint64_t load_u64(const unsigned char *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* Written with vector types (two vectors of four lanes) so the compiler keeps the lanes in registers and uses
   vpmuludq for the 32x32-bit products: the scalar form spilled the lanes to memory on every word. */
typedef uint64_t hash_vec __attribute__((vector_size(32)));

#define HASH_ACCUMULATE_BODY                                                                                      \
    hash_vec a0, a1, k0, k1, salt = {0, 0, 0, 0};                                                                  \
    const hash_vec step = {0x9E3779B97F4A7C15ULL, 0x9E3779B97F4A7C15ULL, 0x9E3779B97F4A7C15ULL,                    \
                           0x9E3779B97F4A7C15ULL};                                                                 \
    const hash_vec low = {0xFFFFFFFFULL, 0xFFFFFFFFULL, 0xFFFFFFFFULL, 0xFFFFFFFFULL};                              \
    memcpy(&a0, acc, 32);                                                                                          \
    memcpy(&a1, acc + 4, 32);                                                                                      \
    memcpy(&k0, hash_keys, 32);                                                                                    \
    memcpy(&k1, hash_keys + 4, 32);                                                                                \
    for (size_t s = 0; s < stripes; s++) {                                                                         \
        hash_vec d0, d1;                                                                                           \
        memcpy(&d0, p + s * 64, 32);                                                                               \
        memcpy(&d1, p + s * 64 + 32, 32);                                                                          \
        hash_vec x0 = d0 ^ (k0 + salt), x1 = d1 ^ (k1 + salt);                                                     \
        a0 += __builtin_shufflevector(d0, d0, 1, 0, 3, 2) + (x0 & low) * (x0 >> 32);                               \
        a1 += __builtin_shufflevector(d1, d1, 1, 0, 3, 2) + (x1 & low) * (x1 >> 32);                               \
        salt += step;                                                                                              \
    }                                                                                                              \
    memcpy(acc, &a0, 32);                                                                                          \
    memcpy(acc + 4, &a1, 32);

static void accumulate_plain(uint64_t acc[8], const unsigned char *p, size_t stripes) { HASH_ACCUMULATE_BODY }
#if defined(__x86_64__)
__attribute__((target("avx2"))) static void accumulate_avx2(uint64_t acc[8], const unsigned char *p, size_t stripes) {
    HASH_ACCUMULATE_BODY
}
#endif

typedef void (*accumulate_fn)(uint64_t[8], const unsigned char *, size_t);
static accumulate_fn pick_accumulate(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2")) return accumulate_avx2;
#endif
    return accumulate_plain;
}

static uint64_t block_hash(accumulate_fn accumulate, const unsigned char *p, size_t n) {
    uint64_t acc[8];
    for (int l = 0; l < 8; l++) acc[l] = hash_keys[l];
    size_t stripes = n / 64;
    accumulate(acc, p, stripes);
    uint64_t h = (uint64_t)n * 0x9E3779B185EBCA87ULL;
    for (int l = 0; l < 8; l++) {
        uint64_t x = acc[l];
        x ^= x >> 33;
        x *= 0xFF51AFD7ED558CCDULL;
        x ^= x >> 29;
        h = (h ^ x) * 0xC2B2AE3D27D4EB4FULL;
        h ^= h >> 31;
    }
    size_t i = stripes * 64;
    for (; i + 8 <= n; i += 8) {
        h = (h ^ load_u64(p + i)) * 0x9E3779B185EBCA87ULL;
        h ^= h >> 29;
    }
    uint64_t tail = 0;
    for (int shift = 0; i < n; i++, shift += 8) tail |= (uint64_t)p[i] << shift;
    h = (h ^ tail) * 0xC2B2AE3D27D4EB4FULL;
    h ^= h >> 33;
    h *= 0xFF51AFD7ED558CCDULL;
    h ^= h >> 33;
    h *= 0xC4CEB9FE1A85EC53ULL;
    h ^= h >> 33;
    return h;
}

static accumulate_fn chosen_accumulate;
static pthread_once_t accumulate_once = PTHREAD_ONCE_INIT;
static void choose_accumulate(void) { chosen_accumulate = pick_accumulate(); }

uint64_t shm_shim_hash(const void *bytes, size_t n) {
    pthread_once(&accumulate_once, choose_accumulate);
    return block_hash(chosen_accumulate, (const unsigned char *)bytes, n);
}

int shm_shim_safe_hash_blocks(const void *src, size_t n, size_t block, uint64_t *out) {
    pthread_once(&guard_once, install_guard);
    pthread_once(&accumulate_once, choose_accumulate);
    accumulate_fn accumulate = chosen_accumulate;
    sigjmp_buf jb;
    volatile int rc = 0;
    if (sigsetjmp(jb, 1) == 0) {
        guard_jmp = &jb;
        const unsigned char *p = (const unsigned char *)src;
        size_t k = 0;
        for (size_t off = 0; off < n; off += block, k++) {
            size_t len = n - off < block ? n - off : block;
            out[k] = block_hash(accumulate, p + off, len);
        }
    } else {
        rc = -1;
    }
    guard_jmp = NULL;
    return rc;
}
