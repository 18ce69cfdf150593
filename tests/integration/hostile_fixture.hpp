#pragma once
// The hostile-input tests' fixture: the real router (RouterTest) routing one
// host to a RawBackend, which frames what the router forwards as an RFC 9112
// backend must, so a smuggled or altered request shows up in its log. Each
// case starts a new backend epoch; what the backend logged in it is then
// compared with what a correct server reads from the client's bytes
// (frame_stream + forwarded_check).
#include <chrono>
#include <string>
#include <vector>

#include "tests/integration/integration_fixture.hpp"
#include "tests/support/forwarded_check.hpp"
#include "tests/support/raw_backend.hpp"
#include "tests/support/raw_socket.hpp"
#include "tests/support/rfc9112_framer.hpp"

namespace sy::test {

class HostileTest : public RouterTest {
 protected:
  static constexpr const char* kHost = "hostile.example.com";

  void TearDown() override {
    RouterTest::TearDown();
    if (HasFailure()) std::fprintf(stderr, "---- raw backend log: %s\n", dir_.file("backend.jsonl").c_str());
  }

  // nats-server, the router, the raw backend and its route.
  void start_with_backend(const RouterConfig& config = {}) {
    ASSERT_NO_FATAL_FAILURE(start_all(config));
    ASSERT_TRUE(backend_.start());
    ASSERT_NO_FATAL_FAILURE(route(kHost, backend_.port()));
    ASSERT_TRUE(backend_.settle());
  }

  // A new epoch: what the backend logs from now on belongs to this case.
  uint64_t begin_case() {
    backend_.set_epoch(++epoch_);
    return epoch_;
  }

  // Sends `bytes` on a new connection and reads one response.
  RawResponse exchange(const std::string& bytes, RawSocket& socket,
                       std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    EXPECT_TRUE(socket.connect(router_.port()));
    EXPECT_TRUE(socket.send_while_open(bytes, timeout));
    return socket.read_response(timeout);
  }
  RawResponse exchange(const std::string& bytes) {
    RawSocket socket;
    return exchange(bytes, socket);
  }

  // The status `bytes` get on a new connection, 0 when none; asserts
  // nothing, so it can be retried (wait_until) while the router refuses.
  int probe(const std::string& bytes, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    RawSocket socket;
    if (!socket.connect(router_.port())) return 0;
    socket.send_while_open(bytes, timeout);
    return socket.read_response(timeout).status;
  }

  // Once the backend has framed everything sent to it: it saw nothing in
  // this epoch.
  void expect_nothing_forwarded(uint64_t epoch, const std::string& what) {
    ASSERT_TRUE(backend_.settle()) << what;
    const std::vector<BackendEntry> seen = backend_.entries_since(epoch);
    EXPECT_TRUE(seen.empty()) << what << ": the backend saw " << seen.size() << " request(s), the first "
                              << (seen.empty() ? "" : seen[0].request.describe() + " " + seen[0].error);
  }

  // Once the backend has framed everything sent to it: it saw exactly the
  // requests a correct server reads from `client_bytes` (the first
  // `expected` of them), each as the client sent it, and nothing else.
  void expect_forwarded_exactly(uint64_t epoch, const std::string& client_bytes, size_t expected,
                                const std::string& what) {
    ASSERT_TRUE(backend_.settle()) << what;
    const FramedStream sent = frame_stream(client_bytes);
    ASSERT_GE(sent.requests.size(), expected) << what << ": the client sent fewer requests (" << sent.stop << ")";
    std::vector<FramedRequest> seen;
    for (const BackendEntry& e : backend_.entries_since(epoch)) {
      EXPECT_TRUE(e.complete) << what << ": the backend got a broken request: " << e.error;
      if (e.complete) seen.push_back(e.request);
    }
    ASSERT_EQ(seen.size(), expected) << what;
    for (size_t i = 0; i < expected; ++i)
      EXPECT_EQ(forwarding_difference(sent.requests[i], seen[i]), "") << what << ", request " << i + 1;
  }

  static std::string request(const std::string& method, const std::string& target, const std::string& fields,
                             const std::string& body = {}) {
    return method + " " + target + " HTTP/1.1\r\nHost: " + kHost + "\r\n" + fields + "\r\n" + body;
  }

  static std::string smuggled() { return std::string("GET /smuggled HTTP/1.1\r\nHost: ") + kHost + "\r\n\r\n"; }

  RawBackend backend_{dir_.file("backend.jsonl")};
  uint64_t epoch_ = 0;
};

}  // namespace sy::test
