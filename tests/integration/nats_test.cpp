// The NATS side of the router: router.start / router.greet, stale pruning,
// surviving a nats-server restart, credentials and the classic config style.
#include <rapidjson/document.h>

#include <atomic>
#include <thread>

#include "tests/integration/integration_fixture.hpp"

namespace sy::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// Checks a router.start / router.greet payload (-1: value not checked).
void expect_start_payload(const std::string& payload, int64_t min_register = -1, int64_t prune_threshold = -1) {
  rapidjson::Document doc;
  doc.Parse(payload.c_str(), payload.size());
  ASSERT_FALSE(doc.HasParseError()) << payload;
  ASSERT_TRUE(doc.IsObject()) << payload;
  ASSERT_TRUE(doc.HasMember("id") && doc["id"].IsString()) << payload;
  EXPECT_GT(doc["id"].GetStringLength(), 0u) << payload;
  ASSERT_TRUE(doc.HasMember("hosts") && doc["hosts"].IsArray()) << payload;
  ASSERT_TRUE(doc.HasMember("minimumRegisterIntervalInSeconds") && doc["minimumRegisterIntervalInSeconds"].IsInt64())
      << payload;
  ASSERT_TRUE(doc.HasMember("pruneThresholdInSeconds") && doc["pruneThresholdInSeconds"].IsInt64()) << payload;
  if (min_register >= 0) {
    EXPECT_EQ(doc["minimumRegisterIntervalInSeconds"].GetInt64(), min_register) << payload;
  }
  if (prune_threshold >= 0) {
    EXPECT_EQ(doc["pruneThresholdInSeconds"].GetInt64(), prune_threshold) << payload;
  }
}

class NatsTest : public RouterTest {};

TEST_F(NatsTest, PublishesRouterStartAtStartup) {
  ASSERT_NO_FATAL_FAILURE(start_nats());
  NatsSubscription* starts = client_.subscribe("router.start");
  ASSERT_NE(starts, nullptr) << client_.error();
  RouterConfig config;
  config.start_response_delay_interval = "1s";
  config.droplet_stale_threshold = "120s";
  ASSERT_NO_FATAL_FAILURE(start_router(config));
  const auto message = starts->wait_for_message(seconds(5));
  ASSERT_TRUE(message.has_value()) << "no router.start";
  ASSERT_NO_FATAL_FAILURE(expect_start_payload(message->data, 1, 120));
}

TEST_F(NatsTest, GreetGetsStartPayload) {
  ASSERT_NO_FATAL_FAILURE(start_all());
  std::optional<std::string> reply;
  ASSERT_TRUE(wait_until(
      [&] {
        reply = client_.request("router.greet", "", milliseconds(1000));
        return reply.has_value();
      },
      seconds(5)))
      << client_.error();
  ASSERT_NO_FATAL_FAILURE(expect_start_payload(*reply, 0, 120));
}

TEST_F(NatsTest, StaleEndpointIsPrunedWhileHeartbeatingOneStays) {
  RouterConfig config;
  config.droplet_stale_threshold = "2s";
  config.prune_stale_droplets_interval = "1s";
  ASSERT_NO_FATAL_FAILURE(start_all(config));
  EchoBackend& stale = start_echo("stale");
  EchoBackend& fresh = start_echo("fresh");
  ASSERT_NO_FATAL_FAILURE(route("fresh.example.com", fresh.port()));

  NatsClient beat;  // used only by the heartbeat thread
  ASSERT_TRUE(beat.connect(nats_->url())) << beat.error();
  std::atomic<bool> stop{false};
  const uint16_t fresh_port = fresh.port();
  std::thread heartbeat([&] {
    while (!stop.load()) {
      register_route(beat, fresh_port, {"fresh.example.com"});
      for (int i = 0; i < 10 && !stop.load(); ++i) std::this_thread::sleep_for(milliseconds(50));
    }
  });
  const auto registered = std::chrono::steady_clock::now();
  ASSERT_TRUE(register_route(client_, stale.port(), {"stale.example.com"}));
  const bool routable = wait_routable(router_, "stale.example.com", 200, "/", seconds(2));
  const bool pruned = wait_routable(router_, "stale.example.com", 404, "/", seconds(8));
  const auto elapsed = std::chrono::steady_clock::now() - registered;
  const HttpResponse fresh_response = router_.get("fresh.example.com", "/");
  stop = true;
  heartbeat.join();

  EXPECT_TRUE(routable);
  EXPECT_TRUE(pruned) << router_.get("stale.example.com").describe();
  EXPECT_GE(elapsed, milliseconds(1500)) << "pruned before the 2 s threshold";
  EXPECT_EQ(fresh_response.status, 200) << fresh_response.describe();
}

TEST_F(NatsTest, RoutesSurviveNatsRestartAndStartIsRepublished) {
  RouterConfig config;
  config.nats_reconnect_wait = "1s";  // so our watcher below subscribes before the router is back
  ASSERT_NO_FATAL_FAILURE(start_all(config));
  EchoBackend& echo = start_echo("survivor");
  ASSERT_NO_FATAL_FAILURE(route("survive.example.com", echo.port()));

  nats_->kill();
  // During the outage the table is kept (pruning is suspended).
  for (int i = 0; i < 6; ++i) {
    const HttpResponse response = router_.get("survive.example.com", "/outage");
    EXPECT_EQ(response.status, 200) << "during outage, request " << i << ": " << response.describe();
    sleep_for(milliseconds(250));
  }
  ASSERT_TRUE(nats_->restart()) << nats_->error();
  // A fresh client subscribes as soon as the server is back, before the
  // router's own reconnect (1 s reconnect wait against our 20 ms retry).
  NatsClient watcher;
  ASSERT_TRUE(watcher.connect(nats_->url())) << watcher.error();
  NatsSubscription* starts = watcher.subscribe("router.start");
  ASSERT_NE(starts, nullptr) << watcher.error();
  const auto message = starts->wait_for_message(seconds(15));
  ASSERT_TRUE(message.has_value()) << "no router.start after the NATS restart";
  ASSERT_NO_FATAL_FAILURE(expect_start_payload(message->data));

  const HttpResponse after = router_.get("survive.example.com", "/after");
  EXPECT_EQ(after.status, 200) << after.describe();
  // The router subscribed again: a new registration is routable.
  EchoBackend& late = start_echo("late");
  ASSERT_TRUE(register_route(watcher, late.port(), {"late.example.com"})) << watcher.error();
  EXPECT_TRUE(wait_routable(router_, "late.example.com", 200)) << router_.get("late.example.com").describe();
}

TEST_F(NatsTest, CredentialsAndClassicNatsConfig) {
  NatsServerOptions options;
  options.user = "nats-user";
  options.pass = "nats-pass";
  ASSERT_NO_FATAL_FAILURE(start_nats(options));
  RouterConfig config;
  config.classic_nats = true;
  config.start_response_delay_interval = "0";
  config.droplet_stale_threshold = "120";
  config.prune_stale_droplets_interval = "30";
  ASSERT_NO_FATAL_FAILURE(start_router(config));
  EchoBackend& echo = start_echo("classic");
  ASSERT_NO_FATAL_FAILURE(route("classic.example.com", echo.port()));
}

TEST_F(NatsTest, RegisterUpdatesAndUnregisterRemovesOnlyThatEndpoint) {
  ASSERT_NO_FATAL_FAILURE(start_all());
  EchoBackend& a = start_echo("a");
  EchoBackend& b = start_echo("b");
  ASSERT_NO_FATAL_FAILURE(route("pair.example.com", a.port()));
  ASSERT_TRUE(register_route(client_, b.port(), {"pair.example.com"}));
  // Round robin reaches both.
  ASSERT_TRUE(wait_until([&] { return parse_echo(router_.get("pair.example.com").body).name == "b"; }, seconds(5)));
  ASSERT_TRUE(unregister_route(client_, a.port(), {"pair.example.com"}));
  ASSERT_TRUE(wait_until(
      [&] {
        for (int i = 0; i < 4; ++i) {
          if (parse_echo(router_.get("pair.example.com").body).name != "b") return false;
        }
        return true;
      },
      seconds(5)));
}

}  // namespace
}  // namespace sy::test
