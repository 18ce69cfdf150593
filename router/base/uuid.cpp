#include "router/base/uuid.hpp"

#include <random>

namespace sy {

void new_uuid(char* out) {
  thread_local std::mt19937_64 rng{std::random_device{}() ^ (static_cast<uint64_t>(std::random_device{}()) << 32)};
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
