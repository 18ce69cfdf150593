// Draining on SIGUSR1 (health 503 at once, in-flight requests finish, exit
// 0) and stopping on SIGTERM.
#include <signal.h>

#include "tests/integration/integration_fixture.hpp"

namespace sy::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class DrainTest : public RouterTest {};

TEST_F(DrainTest, Sigusr1DrainsInFlightRequestsAndExitsZero) {
  RouterConfig config;
  config.drain_wait = "1s";
  config.drain_timeout = "10s";
  ASSERT_NO_FATAL_FAILURE(start_all(config));
  EchoBackend& echo = start_echo("slow");
  ASSERT_NO_FATAL_FAILURE(route("slow.example.com", echo.port()));

  std::vector<HttpCall> calls(4);
  for (size_t i = 0; i < calls.size(); ++i) {
    HttpRequest request;
    request.url = router_.url("/slow?ms=2500&n=" + std::to_string(i));
    request.host = "slow.example.com";
    request.timeout = seconds(20);
    ASSERT_TRUE(calls[i].start(request));
  }
  ASSERT_TRUE(wait_until([&] { return echo.slow_in_flight() == 4; }, seconds(5), milliseconds(20)))
      << "the slow requests did not all reach the backend";
  for (auto& call : calls) ASSERT_TRUE(call.running()) << "a slow request finished early";

  const auto signalled = std::chrono::steady_clock::now();
  ASSERT_TRUE(router_.process().signal(SIGUSR1));
  EXPECT_TRUE(wait_until([&] { return router_.health_status() == 503; }, milliseconds(1000), milliseconds(20)))
      << "health did not turn 503";

  for (size_t i = 0; i < calls.size(); ++i) {
    const HttpResponse response = calls[i].wait();
    EXPECT_EQ(response.status, 200) << "in-flight request " << i << ": " << response.describe();
    EXPECT_EQ(response.exit_code, 0) << response.describe();
    EXPECT_EQ(parse_echo(response.body).name, "slow");
  }
  const auto code = router_.process().wait_exit(seconds(15));
  EXPECT_EQ(code, std::optional<int>(0)) << "router did not exit 0 after draining";
  // drain_wait (1 s) passed before the router stopped.
  EXPECT_GE(std::chrono::steady_clock::now() - signalled, milliseconds(1000));
}

TEST_F(DrainTest, IdleRouterDrainsAfterDrainWait) {
  RouterConfig config;
  config.drain_wait = "1s";
  config.drain_timeout = "5s";
  ASSERT_NO_FATAL_FAILURE(start_all(config));
  const auto signalled = std::chrono::steady_clock::now();
  ASSERT_TRUE(router_.process().signal(SIGUSR1));
  const auto code = router_.process().wait_exit(seconds(10));
  EXPECT_EQ(code, std::optional<int>(0));
  EXPECT_GE(std::chrono::steady_clock::now() - signalled, milliseconds(900));
}

TEST_F(DrainTest, SigtermStopsAtOnce) {
  RouterConfig config;
  config.drain_wait = "20s";
  ASSERT_NO_FATAL_FAILURE(start_all(config));
  ASSERT_TRUE(router_.process().signal(SIGTERM));
  const auto code = router_.process().wait_exit(seconds(5));
  EXPECT_TRUE(code.has_value()) << "router still running 5 s after SIGTERM";
}

}  // namespace
}  // namespace sy::test
