#ifndef CLIBFUZZER_H
#define CLIBFUZZER_H
#include <stddef.h>
#include <stdint.h>

// libFuzzer's entry point for programs with their own main (compiler-rt's FuzzerInterface.h). SwiftPM links a
// debug executable with `main` defined as `<module>_main` (so tests can link it), which keeps libFuzzer's own
// main out: each fuzz target defines `<module>_main` and hands over to this.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
