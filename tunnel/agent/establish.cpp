// Agent::establish: connect to a node and run the upgrade handshake, bounded
// in time (kHandshakeBound, a timer closes the connection) and size (the
// head at most kMaxResponseHead, a refusal's body at most kMaxReasonBody).
#include <openssl/rand.h>

#include <algorithm>
#include <boost/asio/use_awaitable.hpp>

#include "router/http/head_parser.hpp"
#include "tunnel/agent/agent.hpp"
#include "tunnel/ws/handshake.hpp"

namespace sy::agent {

namespace {

constexpr std::chrono::seconds kHandshakeBound{10};

std::string random_key() {
  unsigned char random[16];
  if (RAND_bytes(random, sizeof random) != 1)
    for (auto& b : random) b = static_cast<unsigned char>(std::random_device{}());
  return ws::make_client_key(std::span<const unsigned char, 16>(random));
}

// The body a refusal announces, capped: what is still to be read after the head.
size_t reason_bytes_wanted(const char* head, size_t length) {
  std::string copy(head, length);  // the parser joins folded lines in place
  http::ResponseHead response;
  http::HeadLimits limits;
  limits.max_bytes = kMaxResponseHead;
  if (http::parse_response_head(copy.data(), copy.size(), limits, &response) != http::HeadError::none) return 0;
  if (response.status == 101) return 0;
  const uint64_t declared = response.chunked ? kMaxReasonBody : response.content_length;
  return static_cast<size_t>(std::min<uint64_t>(declared, kMaxReasonBody));
}

}  // namespace

asio::awaitable<Agent::Established> Agent::establish(const ServerUrl& server,
                                                     std::shared_ptr<NodeConnection> connection) {
  Established out;
  NodeConnection::arm_deadline(connection, kHandshakeBound);
  const error_code connect_ec = co_await connection->connect(server);
  if (connect_ec) {
    out.result.reason = "connect: " + connect_ec.message();
    co_return out;
  }
  const std::string key = random_key();
  const std::string request = upgrade_request(server, options_, key);
  const error_code write_ec = co_await connection->write(asio::buffer(request));
  if (write_ec) {
    out.result.reason = "sending the upgrade: " + write_ec.message();
    co_return out;
  }
  std::vector<char> buffer(kMaxResponseHead + kMaxReasonBody);
  http::HeadScanner scanner(kMaxResponseHead);
  size_t have = 0, head = 0, want = 0;
  for (;;) {
    if (head != 0 && have >= head + want) break;
    auto got = co_await connection->read_some(asio::buffer(buffer.data() + have, buffer.size() - have));
    const auto& [ec, n] = got;
    if (ec && head != 0) break;  // a refusal's body cut short: its reason is what came
    if (ec) {
      out.result.reason = "reading the upgrade response: " + ec.message();
      co_return out;
    }
    have += n;
    if (head != 0) continue;
    const auto scanned = scanner.scan(std::string_view(buffer.data(), have));
    if (scanned.status == http::HeadScanner::Status::error) {
      out.result.reason = "bad upgrade response: " + std::string(http::to_string(scanned.error));
      co_return out;
    }
    if (scanned.status == http::HeadScanner::Status::complete) {
      head = scanned.length;
      want = reason_bytes_wanted(buffer.data(), head);
    }
  }
  connection->disarm_deadline();
  const std::string_view body(buffer.data() + head, std::min(have - head, want));
  out.result = check_upgrade_response(buffer.data(), head, key, body);
  if (out.result.verdict == Verdict::accepted)
    out.leftover.assign(buffer.begin() + static_cast<std::ptrdiff_t>(head),
                        buffer.begin() + static_cast<std::ptrdiff_t>(have));
  co_return out;
}

}  // namespace sy::agent
