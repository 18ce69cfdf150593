// What an idle tunnel session costs in memory: the protocol objects, the heap
// they keep, and RSS for 10,000 of them. The target is 10,000 idle agent
// sessions at ≤ 32 KiB RSS each including the socket and the WebSocket, so
// the protocol state must be a small part of it. Its own binary: it replaces
// the global operator new to count live heap bytes.
#include <gtest/gtest.h>
#include <malloc.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <memory>
#include <new>

#include "tests/unit/tunnel/yamux_test_util.hpp"
#include "tunnel/ws/decoder.hpp"
#include "tunnel/ws/encoder.hpp"

namespace {
std::atomic<long> g_live{0};
}

void* operator new(size_t n) {
  void* p = std::malloc(n ? n : 1);
  if (!p) throw std::bad_alloc();
  g_live.fetch_add(static_cast<long>(malloc_usable_size(p)), std::memory_order_relaxed);
  return p;
}
void operator delete(void* p) noexcept {
  if (p) g_live.fetch_sub(static_cast<long>(malloc_usable_size(p)), std::memory_order_relaxed);
  std::free(p);
}
void operator delete(void* p, size_t) noexcept { operator delete(p); }
void* operator new[](size_t n) { return operator new(n); }
void operator delete[](void* p) noexcept { operator delete(p); }
void operator delete[](void* p, size_t) noexcept { operator delete(p); }

#if defined(__SANITIZE_ADDRESS__)
#define SY_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer)
#define SY_SANITIZED 1
#endif
#endif

namespace sy::yamux {
namespace {

using namespace testing;

// A sanitizer's allocator pads and quarantines: these figures mean nothing there.
#ifdef SY_SANITIZED
#define SKIP_IF_SANITIZED() GTEST_SKIP() << "memory figures are meaningless under a sanitizer"
#else
#define SKIP_IF_SANITIZED() static_cast<void>(0)
#endif

// A node-side session as it sits idle: WebSocket codec + yamux client.
struct IdleTunnel {
  ws::FrameDecoder decoder{ws::Role::server};
  ws::FrameEncoder encoder{ws::Role::server};
  Session session{Role::client, Config{}, T0};
};

// Brings `node` to the idle state: a keepalive round trip and, if
// `with_stream`, one stream that carried 64 KiB each way and stays open.
void exercise(Session& node, bool with_stream) {
  Session agent(Role::server, {}, T0);
  auto pump = [&] {
    while (!node.output().empty() || !agent.output().empty()) {
      agent.feed(node.output(), T0), node.consumed(node.output_size());
      node.feed(agent.output(), T0), agent.consumed(agent.output_size());
    }
  };
  node.ping(T0);
  pump();
  if (with_stream) {
    const uint32_t id = node.open().id;
    pump();
    Bytes payload = pattern(64 * 1024);
    node.write(id, payload);
    pump();
    agent.write(id, read_all(agent, id));
    pump();
    read_all(node, id);
    pump();
  }
  events(node);
  node.shrink();
}

long rss_bytes() {
  std::ifstream statm("/proc/self/statm");
  long pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * 4096;
}

TEST(TunnelMemory, IdleSessionObjectsAndHeap) {
  SKIP_IF_SANITIZED();
  std::printf("sizeof Session %zu + FrameDecoder %zu + FrameEncoder %zu = %zu bytes\n", sizeof(Session),
              sizeof(ws::FrameDecoder), sizeof(ws::FrameEncoder), sizeof(IdleTunnel));
  EXPECT_LE(sizeof(IdleTunnel), 512u);
  for (bool with_stream : {false, true}) {
    const long before = g_live.load();
    auto t = std::make_unique<IdleTunnel>();
    exercise(t->session, with_stream);
    const long heap = g_live.load() - before - static_cast<long>(malloc_usable_size(t.get()));
    std::printf("idle session with %d streams: %ld heap bytes besides the object\n", with_stream ? 1 : 0, heap);
    EXPECT_LE(heap, with_stream ? 256 : 0);
  }
}

TEST(TunnelMemory, TenThousandIdleSessionsRss) {
  SKIP_IF_SANITIZED();
  constexpr int kSessions = 10000;
  std::vector<std::unique_ptr<IdleTunnel>> all;
  all.reserve(kSessions);
  malloc_trim(0);
  const long before = rss_bytes();
  for (int i = 0; i < kSessions; ++i) {
    all.push_back(std::make_unique<IdleTunnel>());
    exercise(all.back()->session, true);
  }
  malloc_trim(0);
  const long per = (rss_bytes() - before) / kSessions;
  std::printf("RSS per idle session with one open stream (10,000 sessions): %ld bytes\n", per);
  EXPECT_LE(per, 2048);
}

}  // namespace
}  // namespace sy::yamux
