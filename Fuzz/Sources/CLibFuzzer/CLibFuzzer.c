// Declarations only (include/CLibFuzzer.h): the functions are in libclang_rt.fuzzer, linked by -sanitize=fuzzer.
