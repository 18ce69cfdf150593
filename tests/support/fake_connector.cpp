#include "tests/support/fake_connector.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace sy::test {
namespace {

namespace asio = boost::asio;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// Reads until `seen` holds a whole head (and `body` more bytes); false on EOF.
asio::awaitable<bool> read_head(MemoryStream& stream, std::string* seen, size_t body = 0) {
  char buf[4096];
  for (;;) {
    size_t end = seen->find("\r\n\r\n");
    if (end != std::string::npos && seen->size() >= end + 4 + body) co_return true;
    auto [ec, n] = co_await stream.async_read_some(asio::buffer(buf), use_tuple);
    if (ec) co_return false;
    seen->append(buf, n);
  }
}

}  // namespace

// (co_await results are bound to names first: GCC 12 miscompiles some
// co_await expressions used directly as conditions.)
asio::awaitable<void> answer_ok(MemoryStream& stream, std::string* seen) {
  const bool got = co_await read_head(stream, seen);
  if (!got) co_return;
  static constexpr std::string_view kOk = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
  co_await asio::async_write(stream, asio::buffer(kOk), use_tuple);
}

asio::awaitable<void> close_after_head(MemoryStream& stream, std::string* seen) {
  const bool got = co_await read_head(stream, seen);
  if (got) stream.close();
}

asio::awaitable<void> never_answer(MemoryStream& stream, std::string* seen) {
  const bool got = co_await read_head(stream, seen);
  if (!got) co_return;
  char buf[64];
  co_await stream.async_read_some(asio::buffer(buf), use_tuple);  // until the proxy closes it
}

asio::awaitable<void> answer_after_body(MemoryStream& stream, std::string* seen) {
  const bool got = co_await read_head(stream, seen, 5);
  if (!got) co_return;
  static constexpr std::string_view kOk = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
  co_await asio::async_write(stream, asio::buffer(kOk), use_tuple);
}

asio::awaitable<void> answer_tunnel_not_here(MemoryStream& stream, std::string* seen) {
  const bool got = co_await read_head(stream, seen);
  if (!got) co_return;
  static constexpr std::string_view k502 =
      "HTTP/1.1 502 Bad Gateway\r\nX-Cf-Routererror: tunnel_not_here\r\nContent-Length: 0\r\n\r\n";
  co_await asio::async_write(stream, asio::buffer(k502), use_tuple);
}

asio::awaitable<upstream::OpenResult> FakeConnector::open(const route::Endpoint& endpoint,
                                                          const upstream::OpenRequest&) {
  opened.push_back(endpoint.address());
  upstream::OpenResult r;
  Step step = steps_.empty() ? Step{outcome::Failure::dial_failed} : steps_.front();
  if (!steps_.empty()) steps_.pop_front();
  if (step.fail) {
    r.failure = *step.fail;
    r.detail = "scripted";
    co_return r;
  }
  auto [near, far] = MemoryStream::pair(io_.get_executor());
  seen.emplace_back();
  asio::co_spawn(io_, step.backend(*far, &seen.back()), asio::detached);
  far_ends_.push_back(std::move(far));
  r.stream = std::move(near);
  r.reused = step.reused;
  r.to_node = step.to_node;
  co_return r;
}

void FakeConnector::release(const route::Endpoint&, std::unique_ptr<upstream::ByteStream> stream) {
  ++released;
  pooled_.push_back(std::move(stream));
}

}  // namespace sy::test
