// ByteQueue::pin: bytes a suspended write is reading never move, whatever
// is appended meanwhile (the node's tunnel writer sends the yamux output
// queue without copying it).
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "tunnel/yamux/byte_queue.hpp"

namespace sy::yamux {
namespace {

std::vector<uint8_t> bytes(size_t n, uint8_t first) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(first + i);
  return v;
}

TEST(ByteQueuePin, AppendThatCompactsKeepsPinnedBytesInPlace) {
  ByteQueue q;
  const std::vector<uint8_t> a = bytes(200, 1);
  q.append(a.data(), a.size());
  q.consume(150);  // a front gap: the next append compacts instead of growing
  const std::span<uint8_t> writing = q.front();
  const std::vector<uint8_t> expected(writing.begin(), writing.end());
  q.pin();
  const std::vector<uint8_t> b = bytes(200, 77);  // 50 + 200 fit in 256: compaction would overwrite them
  q.append(b.data(), b.size());
  EXPECT_EQ(std::memcmp(writing.data(), expected.data(), expected.size()), 0);
  q.unpin();
  ASSERT_EQ(q.size(), 250u);
  EXPECT_EQ(std::memcmp(q.front().data(), expected.data(), expected.size()), 0);
  EXPECT_EQ(std::memcmp(q.front().data() + 50, b.data(), b.size()), 0);
}

TEST(ByteQueuePin, AppendThatGrowsKeepsPinnedStorageAlive) {
  ByteQueue q;
  const std::vector<uint8_t> a = bytes(256, 3);
  q.append(a.data(), a.size());
  const std::span<uint8_t> writing = q.front();
  q.pin();
  for (int i = 0; i < 8; ++i) {  // several reallocations while pinned
    const std::vector<uint8_t> more = bytes(1000, static_cast<uint8_t>(i));
    q.append(more.data(), more.size());
  }
  EXPECT_EQ(std::memcmp(writing.data(), a.data(), a.size()), 0);  // ASan: no use after free
  q.consume(a.size());
  q.unpin();
  EXPECT_EQ(q.size(), 8000u);
}

TEST(ByteQueuePin, UnpinnedCompactionReusesStorage) {
  ByteQueue q;
  const std::vector<uint8_t> a = bytes(200, 1);
  q.append(a.data(), a.size());
  const size_t cap = q.capacity();
  q.consume(150);
  q.append(a.data(), 100);
  EXPECT_EQ(q.capacity(), cap);
  EXPECT_EQ(q.size(), 150u);
}

}  // namespace
}  // namespace sy::yamux
