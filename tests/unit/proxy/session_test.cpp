// The request path's decisions, driven end to end through a real Session on
// an unstarted Worker: the client is one end of a socketpair, upstreams are
// in-memory streams from a scripted connector, and time is whatever `now`
// the test hands to the worker's deadline check. Nothing sleeps; nothing
// touches the network.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <chrono>
#include <string>

#include "router/proxy/session.hpp"
#include "router/proxy/worker.hpp"
#include "router/route/registry.hpp"
#include "tests/support/fake_connector.hpp"
#include "tests/support/http_text.hpp"
#include "tests/support/route_builder.hpp"

namespace sy::proxy {
namespace {

namespace asio = boost::asio;
using outcome::Failure;
using std::chrono::seconds;
using test::Step;

class SessionTest : public ::testing::Test {
 protected:
  SessionTest() {
    cfg_.max_attempts = 3;
    cfg_.endpoint_timeout = std::chrono::milliseconds(60000);
    route::Registry registry(route::RegistryOptions{}, 1);
    registry.apply_register(test::route_msg("10.0.0.1", 80, {"app.test"}), route::Clock::now());
    registry.apply_register(test::route_msg("10.0.0.2", 80, {"app.test"}), route::Clock::now());
    snapshots_.publish(registry.publish());
    ConnectorFactory factory = [this](Worker& w) {
      auto c = std::make_unique<test::FakeConnector>(w.io());
      connector_ = c.get();
      return c;
    };
    worker_ = std::make_unique<Worker>(0, ctx_, snapshots_, factory);
    worker_->poller().start();
  }
  ~SessionTest() override {
    if (client_ >= 0) ::close(client_);
  }

  // A new client connection served by a Session.
  void connect() {
    int fds[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
    if (client_ >= 0) ::close(client_);
    client_ = fds[0];
    asio::co_spawn(worker_->io(), serve_connection(*worker_, fds[1], tcp::endpoint(asio::ip::make_address("10.9.9.9"), 5555)),
                   asio::detached);
  }

  void send(const std::string& text) { ASSERT_EQ(::send(client_, text.data(), text.size(), 0), ssize_t(text.size())); }

  // Runs the worker until one whole response (head + Content-Length body)
  // has arrived, or the connection closed; bounded.
  std::unique_ptr<test::ParsedResponse> response() {
    const auto give_up = std::chrono::steady_clock::now() + seconds(5);
    while (std::chrono::steady_clock::now() < give_up) {
      worker_->io().run_one_for(std::chrono::milliseconds(20));
      char buf[8192];
      ssize_t n = ::recv(client_, buf, sizeof buf, MSG_DONTWAIT);
      if (n > 0) received_.append(buf, static_cast<size_t>(n));
      if (n == 0) closed_ = true;
      auto p = test::parse_response(received_);
      if (p->complete && received_.size() >= p->consumed + p->head.content_length) {
        received_.erase(0, p->consumed + p->head.content_length);
        return p;
      }
      if (closed_) break;
    }
    return nullptr;
  }

  // True once the proxy closed the client connection (bounded wait).
  bool closed() {
    const auto give_up = std::chrono::steady_clock::now() + seconds(5);
    while (!closed_ && std::chrono::steady_clock::now() < give_up) {
      worker_->io().run_one_for(std::chrono::milliseconds(20));
      char buf[512];
      ssize_t n = ::recv(client_, buf, sizeof buf, MSG_DONTWAIT);
      if (n == 0) closed_ = true;
      if (n > 0) received_.append(buf, static_cast<size_t>(n));
    }
    return closed_;
  }

  void run_pending() {
    for (int i = 0; i < 100; ++i) worker_->io().poll();
  }

  config::Config cfg_;
  metrics::Registry registry_;
  ProxyContext ctx_{cfg_, registry_, nullptr};
  route::SnapshotHolder snapshots_;
  test::FakeConnector* connector_ = nullptr;
  std::unique_ptr<Worker> worker_;
  int client_ = -1;
  std::string received_;
  bool closed_ = false;
};

const std::string kGet = "GET /x HTTP/1.1\r\nHost: app.test\r\n\r\n";
const std::string kPost = "POST /x HTTP/1.1\r\nHost: app.test\r\nContent-Length: 5\r\n\r\nhello";

TEST_F(SessionTest, ConnectFailureIsRetriedOnAnotherEndpoint) {
  connector_->push(Step{Failure::dial_failed});
  connector_->push(Step{std::nullopt, test::answer_ok});
  connect();
  send(kGet);
  auto r = response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->head.status, 200);
  ASSERT_EQ(connector_->opened.size(), 2u);
  EXPECT_NE(connector_->opened[0], connector_->opened[1]) << "never the same endpoint twice";
}

TEST_F(SessionTest, FailedEndpointIsSkippedByTheNextRequest) {
  connector_->push(Step{Failure::dial_failed});
  connector_->push(Step{std::nullopt, test::answer_ok});
  connector_->push(Step{std::nullopt, test::answer_ok});
  connect();
  send(kGet);
  ASSERT_TRUE(response());
  send(kGet);
  ASSERT_TRUE(response());
  ASSERT_EQ(connector_->opened.size(), 3u);
  EXPECT_EQ(connector_->opened[2], connector_->opened[1]) << "the failed one is marked for droplet_stale_threshold/4";
}

TEST_F(SessionTest, NoRetryOnceANonReplayableRequestReachedTheBackend) {
  connector_->push(Step{std::nullopt, test::close_after_head});
  connector_->push(Step{std::nullopt, test::answer_ok});
  connect();
  send(kPost);
  auto r = response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->head.status, 502);
  EXPECT_EQ(r->head.find("x-cf-routererror"), "endpoint_failure (EOF)");
  EXPECT_EQ(connector_->opened.size(), 1u) << "the POST reached the backend: it is not sent again";
}

TEST_F(SessionTest, IdempotentRequestIsRetriedAfterEofBeforeAnyResponseByte) {
  connector_->push(Step{std::nullopt, test::close_after_head});
  connector_->push(Step{std::nullopt, test::answer_ok});
  connect();
  send(kGet);
  auto r = response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->head.status, 200);
  EXPECT_EQ(connector_->opened.size(), 2u);
}

TEST_F(SessionTest, DeadPooledStreamIsRetriedFreshOnTheSameEndpoint) {
  connector_->push(Step{std::nullopt, test::close_after_head, /*reused=*/true});
  connector_->push(Step{std::nullopt, test::answer_ok});
  connect();
  send(kGet);
  auto r = response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->head.status, 200);
  ASSERT_EQ(connector_->opened.size(), 2u);
  EXPECT_EQ(connector_->opened[0], connector_->opened[1]);
}

// SPEC §5.3: a node's 502 tunnel_not_here means nothing reached the app,
// so another holder is tried whatever the method — unless body bytes were
// already streamed, which cannot be sent twice.
TEST_F(SessionTest, TunnelNotHereFromANodeIsRetriedUnlessTheBodyStarted) {
  connector_->push(Step{std::nullopt, test::answer_tunnel_not_here, false, true});
  connector_->push(Step{std::nullopt, test::answer_ok});
  connect();
  send("DELETE /x HTTP/1.1\r\nHost: app.test\r\n\r\n");
  auto retried = response();
  ASSERT_TRUE(retried);
  EXPECT_EQ(retried->head.status, 200) << "not idempotent, but nothing reached the app";
  EXPECT_EQ(connector_->opened.size(), 2u);

  connector_->push(Step{std::nullopt, test::answer_tunnel_not_here, false, true});
  connector_->push(Step{std::nullopt, test::answer_ok});
  connect();
  send(kPost);
  auto final_answer = response();
  ASSERT_TRUE(final_answer);
  EXPECT_EQ(final_answer->head.status, 502) << "the body went up already: no second attempt";
  EXPECT_EQ(final_answer->head.find("x-cf-routererror"), "tunnel_not_here");
  EXPECT_EQ(connector_->opened.size(), 3u);
}

TEST_F(SessionTest, ForwardingLoopIsNeverRetried) {
  connector_->push(Step{Failure::forwarding_loop});
  connect();
  send(kGet);
  auto r = response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->head.status, 502);
  EXPECT_EQ(r->head.find("x-cf-routererror"), "forwarding_loop");
  EXPECT_EQ(connector_->opened.size(), 1u);
}

TEST_F(SessionTest, BadGatewayCarriesConnectionCloseAndCloses) {
  for (int i = 0; i < 3; ++i) connector_->push(Step{Failure::dial_failed});
  connect();
  send(kGet);
  auto r = response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->head.status, 502);
  EXPECT_EQ(r->head.find("connection"), "close");
  EXPECT_TRUE(closed());
}

TEST_F(SessionTest, NotFoundKeepsTheConnection) {
  connector_->push(Step{std::nullopt, test::answer_ok});
  connect();
  send("GET / HTTP/1.1\r\nHost: nowhere.test\r\n\r\n");
  auto r = response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->head.status, 404);
  EXPECT_EQ(r->head.find("connection"), "");
  send(kGet);  // the same connection serves the next request
  auto next = response();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->head.status, 200);
}

TEST_F(SessionTest, EmptyHostKeepsTheConnectionAMalformedHeadDoesNot) {
  connect();
  send("GET / HTTP/1.1\r\nHost:\r\n\r\n");
  auto empty = response();
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->head.status, 400);
  EXPECT_EQ(empty->head.find("x-cf-routererror"), "empty_host");
  EXPECT_EQ(empty->head.find("connection"), "");
  send("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n");
  auto bad = response();
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->head.status, 400);
  EXPECT_EQ(bad->head.find("connection"), "close");
  EXPECT_TRUE(closed());
}

TEST_F(SessionTest, BackendTimeoutIs504AndCloses) {
  connector_->push(Step{std::nullopt, test::never_answer});
  connect();
  send(kGet);
  while (connector_->seen.empty() || connector_->seen[0].find("\r\n\r\n") == std::string::npos)
    worker_->io().run_one_for(std::chrono::milliseconds(20));
  worker_->check_deadlines(route::Clock::now() + cfg_.endpoint_timeout + seconds(1));  // the manual clock
  auto r = response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->head.status, 504);
  EXPECT_EQ(r->head.find("x-cf-routererror"), "endpoint_failure (timeout)");
  EXPECT_EQ(r->head.find("connection"), "close");
  EXPECT_EQ(connector_->opened.size(), 1u) << "a timeout is not retried";
  EXPECT_TRUE(closed());
}

TEST_F(SessionTest, CleanExchangeReturnsTheStreamToThePool) {
  connector_->push(Step{std::nullopt, test::answer_after_body});
  connect();
  send(kPost);
  auto r = response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->head.status, 200);
  run_pending();
  EXPECT_EQ(connector_->released, 1u);
  ASSERT_EQ(connector_->seen.size(), 1u);
  EXPECT_NE(connector_->seen[0].find("Content-Length: 5\r\n"), std::string::npos) << connector_->seen[0];
  EXPECT_TRUE(connector_->seen[0].ends_with("\r\n\r\nhello"));
}

}  // namespace
}  // namespace sy::proxy
