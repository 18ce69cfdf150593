// sanitizer-probe MODE: does one thing a sanitizer reports, so a test can
// check that such a report in a child process fails the test that started
// it (integration/support_test.cpp, SupportSanitizer). In an unsanitized
// build the faults go unnoticed (the leak and the overflow are into slack
// the allocator always has); the test is skipped there.
//   leak            allocates and drops a block (LeakSanitizer, at exit)
//   heap-overflow   memset one byte past a heap block (AddressSanitizer)
//   signed-overflow INT_MAX + 1 (UndefinedBehaviorSanitizer)
//   clean           nothing; exits 0
#include <climits>
#include <cstdio>
#include <cstring>

namespace {

void* volatile sink = nullptr;

int leak() {
  sink = new char[64];
  sink = nullptr;
  return 0;
}

int heap_overflow() {
  char* block = new char[8];
  volatile size_t size = 8;
  std::memset(block, 0, size + 1);
  sink = block;
  delete[] block;
  return 0;
}

int signed_overflow() {
  volatile int big = INT_MAX;
  volatile int more = big + 1;
  return more == 0 ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "";
  if (std::strcmp(mode, "leak") == 0) return leak();
  if (std::strcmp(mode, "heap-overflow") == 0) return heap_overflow();
  if (std::strcmp(mode, "signed-overflow") == 0) return signed_overflow();
  if (std::strcmp(mode, "clean") == 0) return 0;
  std::fprintf(stderr, "usage: sanitizer-probe leak|heap-overflow|signed-overflow|clean\n");
  return 2;
}
