#pragma once
// ByteStream: a bidirectional byte stream to an upstream (a TCP connection to
// a backend or another node, or a yamux stream inside a tunnel). It is the one
// seam between the proxy and the ways of reaching an endpoint.
//
// Threading — the contract every implementation keeps:
// - Every call (read, write, shutdown_send, close, idle_usable) is made on the
//   worker that opened the stream, the one whose executor get_executor()
//   reports; every completion is delivered on that worker, never inside the
//   initiating call.
// - A stream whose resource lives on another worker (a yamux stream of a
//   tunnel session owned by the worker that accepted the agent's WebSocket)
//   forwards each operation to the owner (post), and posts the completion
//   back to the caller's worker. The caller's buffers stay valid until the
//   completion runs (Asio's rule), so the owner may read and write them in
//   between; close() is forwarded the same way and pending operations then
//   complete with operation_aborted. CrossWorkerStream (cross_worker.hpp) is
//   that adapter, tested with two workers in tests/unit/upstream/.
// - At most one read and one write may be in flight.
// Errors are reported through error_code, never exceptions. close() cancels
// pending operations (they complete with operation_aborted) and is idempotent.
//
// The templated async_read_some/async_write_some make it an Asio
// AsyncReadStream/AsyncWriteStream, so asio::async_write etc. work on it.
#include <array>
#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>
#include <cstddef>

#include "router/io/socket.hpp"

namespace sy::upstream {

namespace asio = boost::asio;
using boost::system::error_code;

// Up to four buffers for one gathered write (head + body piece, say).
struct BufferList {
  std::array<asio::const_buffer, 4> items{};
  size_t count = 0;
  const asio::const_buffer* begin() const { return items.data(); }
  const asio::const_buffer* end() const { return items.data() + count; }
};

using IoHandler = asio::any_completion_handler<void(error_code, size_t)>;

class ByteStream {
 public:
  using executor_type = asio::any_io_executor;
  virtual ~ByteStream() = default;

  virtual executor_type get_executor() = 0;
  virtual void close() = 0;
  // Half-close: no more writes; the peer reads EOF.
  virtual void shutdown_send() = 0;
  // Cheap liveness probe for an idle pooled stream: false if the peer closed
  // it or sent unexpected bytes.
  virtual bool idle_usable() = 0;
  // The splice capability: a stream that is a plain TCP socket offers it, so
  // the proxy can move large bodies socket to socket inside the kernel
  // (splice(2)); TLS and tunnel streams offer none (nullptr) and bodies go
  // through the proxy's buffer.
  virtual io::Socket* splice_socket() { return nullptr; }

  template <typename MutableBufferSequence, typename Token>
  auto async_read_some(const MutableBufferSequence& buffers, Token&& token) {
    asio::mutable_buffer first = *asio::buffer_sequence_begin(buffers);
    return asio::async_initiate<Token, void(error_code, size_t)>(
        [this, first](auto handler) { do_read_some(first, IoHandler(std::move(handler))); }, token);
  }

  template <typename ConstBufferSequence, typename Token>
  auto async_write_some(const ConstBufferSequence& buffers, Token&& token) {
    BufferList list;
    for (auto it = asio::buffer_sequence_begin(buffers); it != asio::buffer_sequence_end(buffers); ++it) {
      if (list.count == list.items.size()) break;
      if (asio::const_buffer(*it).size() > 0) list.items[list.count++] = *it;
    }
    return asio::async_initiate<Token, void(error_code, size_t)>(
        [this, list](auto handler) { do_write_some(list, IoHandler(std::move(handler))); }, token);
  }

 protected:
  virtual void do_read_some(asio::mutable_buffer buffer, IoHandler handler) = 0;
  virtual void do_write_some(BufferList buffers, IoHandler handler) = 0;
};

}  // namespace sy::upstream
