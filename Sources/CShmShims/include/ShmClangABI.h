#ifndef SHM_CLANG_ABI_H
#define SHM_CLANG_ABI_H

/* libclang's by-value structs, mirrored from clang-c/Index.h (stable C ABI since LLVM 3.x), so ShmCore can call
   libclang-14.so.1 through dlopen/dlsym only when a header is given, without its headers at build time and without
   linking it. Types only: the calls are function pointers looked up by name in ShmCore/LibClang.swift. */

typedef struct {
  const void *data;
  unsigned private_flags;
} shm_CXString;

typedef struct {
  int kind;
  int xdata;
  const void *data[3];
} shm_CXCursor;

typedef struct {
  int kind;
  void *data[2];
} shm_CXType;

#endif
