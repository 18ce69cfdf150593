#include "router/route/slab.hpp"

#include <sys/mman.h>

#include <cstdint>
#include <mutex>
#include <new>

namespace sy::route::slab {
namespace {

constexpr size_t kAlign = 16;
constexpr size_t kLine = 64;
constexpr size_t kMaxBlock = 512;              // bigger blocks come from operator new
constexpr size_t kSmallChunk = 256 * 1024;     // while the table is small
constexpr size_t kHugeChunk = 2 * 1024 * 1024;  // one transparent huge page
constexpr size_t kHugeAfter = 4 * 1024 * 1024;

struct FreeBlock {
  FreeBlock* next;
};

struct Slab {
  std::mutex mutex;
  FreeBlock* free[kMaxBlock / kAlign + 1] = {};  // by size class
  char* next = nullptr;                          // the unused rest of the current chunk
  char* end = nullptr;
  size_t reserved = 0;
};

Slab& slab() {
  static Slab* s = new Slab;  // never destroyed: snapshots may be released during exit
  return *s;
}

void* map(size_t bytes) {
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  return p;
}

// A 2 MiB chunk on a 2 MiB boundary (huge pages need it), or a small one.
char* new_chunk(size_t size) {
  if (size != kHugeChunk) return static_cast<char*>(map(size));
  auto* raw = static_cast<char*>(map(2 * kHugeChunk));
  auto addr = reinterpret_cast<uintptr_t>(raw);
  char* aligned = raw + ((kHugeChunk - addr % kHugeChunk) % kHugeChunk);
  if (aligned > raw) munmap(raw, static_cast<size_t>(aligned - raw));
  if (char* tail = aligned + kHugeChunk; tail < raw + 2 * kHugeChunk)
    munmap(tail, static_cast<size_t>(raw + 2 * kHugeChunk - tail));
  madvise(aligned, kHugeChunk, MADV_HUGEPAGE);  // best effort
  return aligned;
}

}  // namespace

// Under AddressSanitizer every block is its own allocation, so misuse is caught.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kPassThrough = true;
#else
constexpr bool kPassThrough = false;
#endif

void* allocate(size_t bytes) {
  if (kPassThrough || bytes > kMaxBlock) return ::operator new(bytes);
  const size_t cls = (bytes + kAlign - 1) / kAlign, size = cls * kAlign;
  Slab& s = slab();
  std::lock_guard lock(s.mutex);
  if (FreeBlock* b = s.free[cls]) {
    s.free[cls] = b->next;
    return b;
  }
  // A block of a cache line or more starts on a line, so reading its head costs one miss, not two.
  if (size >= kLine) s.next += (kLine - reinterpret_cast<uintptr_t>(s.next) % kLine) % kLine;
  if (s.next > s.end || static_cast<size_t>(s.end - s.next) < size) {
    size_t chunk = s.reserved < kHugeAfter ? kSmallChunk : kHugeChunk;
    s.next = new_chunk(chunk);
    s.end = s.next + chunk;
    s.reserved += chunk;
  }
  void* p = s.next;
  s.next += size;
  return p;
}

void deallocate(void* p, size_t bytes) {
  if (kPassThrough || bytes > kMaxBlock) return ::operator delete(p);
  const size_t cls = (bytes + kAlign - 1) / kAlign;
  Slab& s = slab();
  std::lock_guard lock(s.mutex);
  s.free[cls] = new (p) FreeBlock{s.free[cls]};
}

size_t reserved_bytes() {
  Slab& s = slab();
  std::lock_guard lock(s.mutex);
  return s.reserved;
}

}  // namespace sy::route::slab
