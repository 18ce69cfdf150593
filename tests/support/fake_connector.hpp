#pragma once
// A Connector for unit tests: every open() follows the next scripted step —
// fail with a Failure row, or hand out an in-memory stream whose far end is
// driven by a backend coroutine (a "backend" made of a few lines of test
// code). It records which endpoints were opened and what each backend read.
//
// Threading: the worker's io_context, like any connector.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "router/upstream/connector.hpp"
#include "tests/support/memory_stream.hpp"

namespace sy::test {

// What a scripted backend does with its end of the stream.
using Backend = boost::asio::awaitable<void> (*)(MemoryStream& stream, std::string* seen);

// Reads one request head, then answers `200 OK` with "ok" and keeps the stream.
boost::asio::awaitable<void> answer_ok(MemoryStream& stream, std::string* seen);
// Reads one request head, then closes without a byte of response.
boost::asio::awaitable<void> close_after_head(MemoryStream& stream, std::string* seen);
// Reads one request head and never answers.
boost::asio::awaitable<void> never_answer(MemoryStream& stream, std::string* seen);
// Reads the head and a 5-byte body, then answers 200.
boost::asio::awaitable<void> answer_after_body(MemoryStream& stream, std::string* seen);
// Reads one request head and answers as a node that no longer holds the
// tunnel: 502 with X-Cf-Routererror: tunnel_not_here.
boost::asio::awaitable<void> answer_tunnel_not_here(MemoryStream& stream, std::string* seen);

struct Step {
  std::optional<outcome::Failure> fail;  // set: open() answers with this row
  Backend backend = nullptr;             // else: the far end runs this
  bool reused = false;                   // the stream claims to come from the pool
  bool to_node = false;                  // the stream claims to lead to another node
};

class FakeConnector final : public upstream::Connector {
 public:
  explicit FakeConnector(boost::asio::io_context& io) : io_(io) {}
  void push(Step step) { steps_.push_back(step); }
  boost::asio::awaitable<upstream::OpenResult> open(const route::Endpoint& endpoint,
                                                    const upstream::OpenRequest& request) override;
  void release(const route::Endpoint& endpoint, std::unique_ptr<upstream::ByteStream> stream) override;

  std::vector<std::string> opened;  // endpoint addresses, in order of open()
  std::deque<std::string> seen;     // what each backend has read (in order of the streams handed out)
  size_t released = 0;

 private:
  boost::asio::io_context& io_;
  std::deque<Step> steps_;
  std::vector<std::unique_ptr<MemoryStream>> far_ends_;
  std::vector<std::unique_ptr<upstream::ByteStream>> pooled_;
};

}  // namespace sy::test
