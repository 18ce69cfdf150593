#include <cstring>

#include "tunnel/ws/frame.hpp"

namespace sy::ws {

namespace {
uint64_t wide_key(const MaskKey& key, uint32_t phase) {
  uint8_t rotated[8];
  for (int i = 0; i < 8; ++i) rotated[i] = key[(phase + i) & 3];
  uint64_t w;
  std::memcpy(&w, rotated, 8);
  return w;
}
}  // namespace

uint32_t apply_mask(std::span<uint8_t> data, const MaskKey& key, uint32_t phase) {
  phase &= 3;
  const uint64_t w = wide_key(key, phase);
  uint8_t* p = data.data();
  size_t n = data.size();
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    v ^= w;
    std::memcpy(p, &v, 8);
  }
  for (size_t i = 0; i < n; ++i) p[i] ^= key[(phase + i) & 3];
  return static_cast<uint32_t>((phase + data.size()) & 3);
}

void copy_masked(uint8_t* dst, std::span<const uint8_t> src, const MaskKey& key) {
  const uint64_t w = wide_key(key, 0);
  const uint8_t* s = src.data();
  size_t n = src.size();
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t v;
    std::memcpy(&v, s + i, 8);
    v ^= w;
    std::memcpy(dst + i, &v, 8);
  }
  for (; i < n; ++i) dst[i] = s[i] ^ key[i & 3];
}

}  // namespace sy::ws
