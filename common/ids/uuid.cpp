#include "common/ids/uuid.hpp"

#include <random>

namespace sy {

namespace {
// xoshiro256** (Blackman & Vigna): fast, 256 bits of state, seeded from the OS.
// Request ids need uniqueness, not secrecy.
struct Xoshiro256 {
  uint64_t s[4];
  Xoshiro256() {
    std::random_device rd;
    for (auto& word : s) word = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  }
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t operator()() {
    const uint64_t result = rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
  }
};
}  // namespace

void new_uuid(char* out) {
  thread_local Xoshiro256 rng;
  uint64_t hi = rng(), lo = rng();
  hi = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // RFC 4122 variant
  static constexpr char kHex[] = "0123456789abcdef";
  int pos = 0;
  auto emit = [&](uint64_t v, int nibbles) {
    for (int i = nibbles - 1; i >= 0; --i) out[pos++] = kHex[(v >> (i * 4)) & 0xf];
  };
  emit(hi >> 32, 8);
  out[pos++] = '-';
  emit(hi >> 16, 4);
  out[pos++] = '-';
  emit(hi, 4);
  out[pos++] = '-';
  emit(lo >> 48, 4);
  out[pos++] = '-';
  emit(lo, 12);
}

std::string new_uuid() {
  std::string s(36, '0');
  new_uuid(s.data());
  return s;
}

}  // namespace sy
