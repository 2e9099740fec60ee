/* The record `shmscope demo` keeps up to date, as a peer written in C would declare it (the same fields as
   examples/demo.layout; Sources/ShmCore/DemoRecord.swift writes it). Try:
     shmscope demo --key demo &
     shmscope watch demo --layout examples/demo.h --struct demo_record */
#include <stdint.h>

struct demo_record {
    char magic[8];         /* "SHMDEMO" */
    uint64_t counter;      /* updates so far */
    uint64_t time_ns;      /* wall clock of the last update, ns since the epoch */
    uint32_t writer_pid;
    uint32_t interval_ms;
    char message[64];      /* "hello from the shmscope demo, update #N" */
    float temps[4];        /* slowly drifting temperatures */
    double wave;           /* sin(counter / 10) */
    uint8_t histogram[64]; /* byte counter % 64 goes up by one each update */
};
