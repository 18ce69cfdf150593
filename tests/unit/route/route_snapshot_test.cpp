// Snapshots under concurrency: worker threads look routes up and drop old
// snapshots (the last reference to trie nodes, host entries and pools may go
// on any thread) while the control thread changes the table and publishes.
// Meant for ThreadSanitizer as much as for its assertions; no sleeping.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/route_builder.hpp"
#include "router/route/registry.hpp"
#include "router/route/snapshot.hpp"

namespace sy::route {
namespace {

RouteMessage msg(int backend, const std::string& uri) {
  return test::route_msg("10.0.0." + std::to_string(backend), 8080, {uri});
}

TEST(RouteSnapshotTest, ReadersSeeConsistentSnapshotsWhileTheTablePublishes) {
  const TimePoint now{std::chrono::seconds(1000)};
  Registry registry(RegistryOptions{}, 5);
  SnapshotHolder holder;
  std::atomic<bool> done{false};
  std::atomic<long> lookups{0}, wrong{0};

  auto reader = [&](int id) {
    SnapshotCache cache(holder);
    for (long i = 0; !done.load(std::memory_order_relaxed) || i < 1000; ++i) {
      RouteTablePtr table = cache.get();  // pinned, as a request pins it
      std::string host = "h" + std::to_string((i * 7 + id) % 64) + ".com";
      if (const Pool* p = table->find(host, "/x")) {
        if (p->key() != host && p->key() != host + "/x") wrong.fetch_add(1);
        if (const EndpointPtr* e = p->next(Tried{}, now)) (*e)->begin_request(), (*e)->end_request();
      }
      if (const Pool* p = table->find("any.w.com", "/")) {
        if (p->key() != "*.w.com") wrong.fetch_add(1);
      }
      lookups.fetch_add(1, std::memory_order_relaxed);
    }
  };
  std::vector<std::thread> readers;
  for (int id = 0; id < 2; ++id) readers.emplace_back(reader, id);

  for (int step = 0; step < 3000; ++step) {
    int h = step % 64, backend = 1 + step % 5;
    std::string uri = "h" + std::to_string(h) + ".com" + (step % 3 == 0 ? "/x" : "");
    if (step % 4 == 3)
      registry.apply_unregister(msg(backend, uri), now);
    else
      registry.apply_register(msg(backend, uri), now);
    if (step % 50 == 0) registry.apply_register(msg(backend, "*.w.com"), now);
    if (step % 10 == 9) holder.publish(registry.publish());
  }
  done = true;
  for (auto& t : readers) t.join();
  holder.publish(registry.publish());

  EXPECT_EQ(wrong.load(), 0);
  EXPECT_GE(lookups.load(), 2000);
  uint64_t generation = 0;
  RouteTablePtr last = holder.load(&generation);
  EXPECT_EQ(last->route_count(), registry.route_count());
  EXPECT_EQ(last->endpoint_count(), registry.endpoint_count());
}

}  // namespace
}  // namespace sy::route
