// Hostile input, part 5 (the pentest's items 3c and 3d): any NATS publisher
// can send router.register. A label fed by tags.component must not grow
// /metrics without bound, and one message with 30k uris must not stall the
// control thread (it cost 0.8 s of CPU with the quadratic de-duplication).
#include "tests/integration/hostile_fixture.hpp"

namespace sy::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

std::string base36(size_t n) {
  std::string out;
  do {
    out.insert(out.begin(), "0123456789abcdefghijklmnopqrstuvwxyz"[n % 36]);
    n /= 36;
  } while (n > 0);
  return out;
}

size_t series(const std::string& text, const std::string& name) {
  size_t n = 0;
  for (size_t at = text.find("\n" + name + "{"); at != std::string::npos; at = text.find("\n" + name + "{", at + 1))
    ++n;
  return n;
}

class HostileRegistryTest : public HostileTest {};

TEST_F(HostileRegistryTest, ComponentLabelIsCappedWhateverPublishersSend) {
  ASSERT_NO_FATAL_FAILURE(start_with_backend());
  const double before = metric_sum(router_.metrics(), "registry_message_total");
  constexpr int kMessages = 5000;
  for (int i = 0; i < kMessages; ++i) {
    const std::string tags = R"("tags":{"component":"component-)" + std::to_string(i) + R"("})";
    ASSERT_TRUE(client_.publish_async("router.register", registry_message("127.0.0.1", backend_.port(), {kHost}, tags)));
  }
  ASSERT_TRUE(client_.flush());
  std::string text;
  ASSERT_TRUE(wait_until(
      [&] {
        text = router_.metrics();
        return metric_sum(text, "registry_message_total") >= before + kMessages;
      },
      seconds(30), milliseconds(100)))
      << "counted " << metric_sum(text, "registry_message_total") - before << " of " << kMessages;
  // "" (the route() above), 32 named components and "other", times the
  // actions added/updated.
  EXPECT_LE(series(text, "registry_message_total"), 2u * 34u) << text.substr(0, 4000);
  EXPECT_NE(text.find("component=\"other\""), std::string::npos) << text.substr(0, 4000);
  EXPECT_LT(text.size(), 64u * 1024u) << "/metrics is " << text.size() << " bytes";
  EXPECT_GE(metric_value(text, "registry_message_total", {{"component", "other"}, {"action", "updated"}}).value_or(0),
            kMessages - 40.0);
}

TEST_F(HostileRegistryTest, ThirtyThousandUrisDoNotStallTheControlThread) {
  ASSERT_NO_FATAL_FAILURE(start_with_backend());
  std::vector<std::string> uris;
  for (size_t i = 0; i < 30000; ++i) uris.push_back("u" + base36(i));
  const std::string payload = registry_message("127.0.0.1", backend_.port(), uris);
  ASSERT_LT(payload.size(), 256u * 1024u) << "over the router's message limit";
  const pid_t pid = router_.process().pid();
  const auto cpu_before = cpu_time(pid);
  const auto start = Clock::now();
  ASSERT_TRUE(client_.publish_async("router.register", payload));
  ASSERT_TRUE(register_route(client_, backend_.port(), {"after.example.com"}));
  // The registration published right after is served soon: the control
  // thread got through the 30k uris.
  EXPECT_TRUE(wait_routable(router_, "after.example.com", 200, "/", seconds(10)));
  const auto elapsed = Clock::now() - start;
  const auto cpu_after = cpu_time(pid);
  ASSERT_TRUE(cpu_before && cpu_after);
  std::fprintf(stderr, "30k uris: routable after %lld ms, router CPU %lld ms\n",
               static_cast<long long>(std::chrono::duration_cast<milliseconds>(elapsed).count()),
               static_cast<long long>((*cpu_after - *cpu_before).count()));
  EXPECT_LT(elapsed, seconds(3));
  EXPECT_LT(*cpu_after - *cpu_before, milliseconds(600));
  EXPECT_EQ(router_.get(uris.back()).status, 200);
  EXPECT_EQ(router_.get(uris.front()).status, 200);
}

}  // namespace
}  // namespace sy::test
