#pragma once
// One fuzz harness = one function `int sy::fuzz::NAME(const uint8_t*, size_t)`
// in tests/fuzz/NAME.cpp, ending with SY_FUZZ_TARGET(NAME). The same function
// is
//   - the libFuzzer entry point of the binary NAME (tests/fuzz/CMakeLists.txt,
//     built with SY_LIBFUZZER defined), and
//   - registered for tests/unit/fuzz_regression_test.cpp, which replays
//     tests/fuzz/regressions/NAME/* and tests/fuzz/corpus/NAME/* through it in
//     the normal (gcc) build.
// A harness returns 0 and reports a violated invariant with SY_FUZZ_CHECK,
// which traps: libFuzzer keeps the input as a crash, gtest sees the test die.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string_view>
#include <vector>

namespace sy::fuzz {

using Entry = int (*)(const uint8_t* data, size_t size);

struct Harness {
  const char* name;  // also the corpus and regression folder name
  Entry entry;
};

// Every harness linked into this binary (the unit tests link all of them).
inline std::vector<Harness>& harnesses() {
  static std::vector<Harness> all;
  return all;
}

struct Registration {
  Registration(const char* name, Entry entry) { harnesses().push_back({name, entry}); }
};

[[noreturn]] inline void invariant_failed(const char* expr, const char* file, int line) {
  std::fprintf(stderr, "fuzz invariant failed: %s (%s:%d)\n", expr, file, line);
  std::fflush(stderr);
  __builtin_trap();
}

inline std::string_view as_view(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace sy::fuzz

#define SY_FUZZ_CHECK(cond) \
  ((cond) ? static_cast<void>(0) : ::sy::fuzz::invariant_failed(#cond, __FILE__, __LINE__))

#if defined(SY_LIBFUZZER)
#define SY_FUZZ_TARGET(name) \
  extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) { return ::sy::fuzz::name(data, size); }
#else
#define SY_FUZZ_TARGET(name) \
  static const ::sy::fuzz::Registration sy_fuzz_registration_##name{#name, &::sy::fuzz::name};
#endif
