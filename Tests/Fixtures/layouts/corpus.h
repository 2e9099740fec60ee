/* The struct corpus shmscope's header layouts are checked against: every struct here is laid out by shmscope
   (libclang) and by the compiler (gcc for C, g++ for C++: HeaderLayoutCompilerTests), and the offsets, sizes,
   bitfield positions and values of every field must match exactly. Each struct has a fill_NAME function that gives
   every field a distinct non-zero value, so a field shmscope missed shows up as bytes no field covers. */
#ifndef SHMSCOPE_LAYOUT_CORPUS_H
#define SHMSCOPE_LAYOUT_CORPUS_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#ifdef __cplusplus
typedef char16_t corpus_char16;
#else
#include <uchar.h>
typedef char16_t corpus_char16;
#endif

enum run_state { STATE_IDLE = 0, STATE_RUNNING = 3, STATE_STOPPED = 7, STATE_FAILED = -2 };
typedef enum { MODE_A = 1, MODE_B = 2 } mode_t8;

/* Natural alignment and padding, every fixed-width type, float, double, bool, text. */
struct basic {
    uint8_t u8;
    int16_t i16;
    uint32_t u32;
    int64_t i64;
    char tag;
    double d;
    float f;
    bool flag;
    char name[13];
    uint64_t u64;
    int8_t i8;
    uint16_t u16;
    int32_t i32;
};

/* Packed: no padding at all. */
struct __attribute__((packed)) packed_rec {
    uint8_t kind;
    uint32_t value;
    uint16_t small;
    double when;
    char label[3];
};

/* aligned(N) on a field and on a nested struct type. */
struct aligned_inner {
    uint16_t a;
} __attribute__((aligned(16)));

struct aligned_rec {
    uint8_t first;
    uint32_t wide __attribute__((aligned(8)));
    struct aligned_inner inner;
    uint8_t last;
};

/* #pragma pack(2): 4- and 8-byte fields on 2-byte boundaries. */
#pragma pack(push, 2)
struct pragma_rec {
    uint8_t a;
    uint32_t b;
    uint8_t c;
    uint64_t d;
};
#pragma pack(pop)

/* Bitfields, signed and unsigned, crossing a byte, an enum and a bool bitfield, an unnamed one. */
struct bits_rec {
    uint32_t ready : 1;
    uint32_t level : 4;
    int32_t delta : 5;
    uint32_t wide : 13;
    uint32_t : 3;
    uint8_t byte;
    uint16_t tail : 9;
    enum run_state st : 8;
    bool on : 1;
    uint64_t big : 40;
};

/* Nested structs, unions (named and anonymous), arrays of numbers, enums, structs and arrays of arrays. */
struct point {
    int32_t x;
    int32_t y;
};

struct header {
    uint32_t magic;
    enum run_state state;
    uint16_t count;
};

struct nested_rec {
    struct header hdr;
    union {
        uint32_t as_u32;
        float as_f32;
        uint8_t as_bytes[4];
    } v;
    union {
        uint64_t raw;
        struct point pt;
    };
    uint32_t counter[4];
    struct point items[3];
    int16_t grid[2][3];
    enum run_state states[2];
    mode_t8 mode;
    bool flags[3];
    corpus_char16 title[8];
    char note[6];
    double trail;
};

typedef struct {
    uint32_t id;
    struct { uint16_t lo; uint16_t hi; } parts;
} typedef_rec;

static inline void fill_basic(struct basic *p) {
    p->u8 = 0xa1; p->i16 = -12345; p->u32 = 0xdeadbeef; p->i64 = -1234567890123LL; p->tag = 'T';
    p->d = 3.25; p->f = -1.5f; p->flag = true; strcpy(p->name, "hello world"); p->u64 = 0xfedcba9876543210ULL;
    p->i8 = -7; p->u16 = 65000; p->i32 = -2000000000;
}

static inline void fill_packed_rec(struct packed_rec *p) {
    p->kind = 9; p->value = 0x01020304; p->small = 0xbeef; p->when = 1e100; memcpy(p->label, "abc", 3);
}

static inline void fill_aligned_rec(struct aligned_rec *p) {
    p->first = 1; p->wide = 0x11223344; p->inner.a = 0x5566; p->last = 0x77;
}

static inline void fill_pragma_rec(struct pragma_rec *p) {
    p->a = 0x10; p->b = 0x20212223; p->c = 0x30; p->d = 0x4041424344454647ULL;
}

static inline void fill_bits_rec(struct bits_rec *p) {
    p->ready = 1; p->level = 11; p->delta = -9; p->wide = 6000; p->byte = 0xab; p->tail = 300;
    p->st = STATE_STOPPED; p->on = true; p->big = 0xabcdef1234ULL;
}

static inline void fill_nested_rec(struct nested_rec *p) {
    p->hdr.magic = 0x4d414749; p->hdr.state = STATE_RUNNING; p->hdr.count = 42;
    p->v.as_u32 = 0x3fc00000; p->raw = 0x0000000700000005ULL;
    for (int i = 0; i < 4; i++) p->counter[i] = 100 + i;
    for (int i = 0; i < 3; i++) { p->items[i].x = -10 * (i + 1); p->items[i].y = 10 * (i + 1); }
    for (int i = 0; i < 2; i++) for (int j = 0; j < 3; j++) p->grid[i][j] = (int16_t)(i * 10 + j + 1);
    p->states[0] = STATE_FAILED; p->states[1] = STATE_STOPPED; p->mode = MODE_B;
    p->flags[0] = true; p->flags[1] = false; p->flags[2] = true;
    const corpus_char16 title[] = {0x0048, 0x00e9, 0x006c, 0x006c, 0x006f, 0x20ac, 0};  /* "Héllo€" */
    memcpy(p->title, title, sizeof title);
    strcpy(p->note, "hi!");
    p->trail = -0.125;
}

static inline void fill_typedef_rec(typedef_rec *p) {
    p->id = 77; p->parts.lo = 0x1234; p->parts.hi = 0x5678;
}

#endif
