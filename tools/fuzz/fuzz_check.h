// FUZZ_CHECK(condition, detail): what a fuzz target's body asserts about its parser's result. A violation prints the
// file, line, condition and detail and aborts: a finding for libFuzzer, a failure for the replay test.
#ifndef TOOLS_FUZZ_FUZZ_CHECK_H_
#define TOOLS_FUZZ_FUZZ_CHECK_H_

#include <cstdio>
#include <cstdlib>
#include <string>

#define FUZZ_CHECK(condition, detail)                                                               \
  do {                                                                                              \
    if (!(condition)) {                                                                             \
      std::fprintf(stderr, "%s:%d: invariant violated: %s\n  %s\n", __FILE__, __LINE__, #condition, \
                   std::string(detail).c_str());                                                    \
      std::abort();                                                                                 \
    }                                                                                               \
  } while (0)

#endif  // TOOLS_FUZZ_FUZZ_CHECK_H_
