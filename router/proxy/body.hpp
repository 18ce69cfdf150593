#pragma once
// Body framing and relay: moves one message body from a source stream to a
// destination with its original framing (Content-Length, chunked, or until
// EOF), through a bounded buffer, writing what it has before reading more.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <array>
#include <cstdint>

#include "router/http/chunked.hpp"
#include "router/proxy/io_buffer.hpp"
#include "router/proxy/watchdog.hpp"

namespace sy::proxy {

namespace asio = boost::asio;
using boost::system::error_code;
inline constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
inline constexpr size_t kReadChunk = 64 * 1024;

// How the body being relayed ends. Chunked bodies are checked byte for byte
// by their decoder (router/http/chunked.hpp) as they pass.
struct Framing {
  enum class Kind { none, length, chunked, until_eof } kind = Kind::none;
  uint64_t remaining = 0;
  http::ChunkedDecoder* chunked = nullptr;  // chunked only
  // chunked only: relay the chunk data alone (an HTTP/1.0 client cannot read
  // chunked; its response is delimited by the close instead).
  bool dechunk = false;

  bool done() const {
    if (kind == Kind::none) return true;
    if (kind == Kind::length) return remaining == 0;
    if (kind == Kind::chunked) return chunked->done();
    return false;
  }
  // How many leading bytes of `data` belong to this body. Sets ec on a
  // framing error (bad chunk syntax).
  size_t take(asio::const_buffer data, error_code& ec) {
    ec = {};
    switch (kind) {
      case Kind::none: return 0;
      case Kind::length: {
        size_t n = static_cast<size_t>(std::min<uint64_t>(remaining, data.size()));
        remaining -= n;
        return n;
      }
      case Kind::until_eof: return data.size();
      case Kind::chunked: {
        http::ChunkedDecoder::Result r = chunked->feed(static_cast<const char*>(data.data()), data.size());
        if (r.status == http::ChunkedDecoder::Status::error) ec = make_error_code(boost::system::errc::bad_message);
        return r.consumed;
      }
    }
    return 0;
  }
  // dechunk: how many leading bytes of `data` belong to the body; the chunk
  // data among them is moved to the front, `*payload` bytes of it.
  size_t take_payload(char* data, size_t size, size_t* payload, error_code& ec) {
    ec = {};
    http::ChunkedDecoder::Result r = chunked->feed_payload(data, size, payload);
    if (r.status == http::ChunkedDecoder::Status::error) ec = make_error_code(boost::system::errc::bad_message);
    return r.consumed;
  }
};

struct RelayResult {
  error_code read_error;   // from the source (eof counts as clean for until_eof)
  error_code write_error;  // to the destination
  uint64_t bytes = 0;
  bool framing_error = false;
  bool ok() const { return !read_error && !write_error && !framing_error; }
};

// Relays the body. `buf` holds bytes already read from `src`; bytes past the
// body's end stay in `buf` (a pipelined next message). `prefix` (the message
// head, say) goes out in the same write as the first body bytes. Every read
// and write must make progress within `patience`: the watchdog closes the
// side that stalls. RelayResult::bytes counts body bytes only.
template <typename Src, typename Dst>
asio::awaitable<RelayResult> relay_body(Src& src, Dst& dst, IoBuffer& buf, Framing& framing,
                                        Watchdog& watch, Watchdog::Target src_side, Watchdog::Target dst_side,
                                        Patience patience, asio::const_buffer prefix = {}) {
  RelayResult r;
  for (;;) {
    error_code ec;
    size_t send = 0;  // of the n body bytes at the front of buf, those that go out
    size_t n = framing.dechunk ? framing.take_payload(buf.mutable_data(), buf.size(), &send, ec)
                               : (send = framing.take(buf.data(), ec));
    if (ec) {
      r.framing_error = true;
      co_return r;
    }
    if (send > 0 || prefix.size() > 0) {
      patience.arm(watch, dst_side);
      std::array<asio::const_buffer, 2> out{prefix, asio::buffer(buf.data().data(), send)};
      auto [wec, written] = co_await asio::async_write(dst, out, use_tuple);
      if (wec) {
        r.write_error = wec;
        co_return r;
      }
      r.bytes += written - prefix.size();
      prefix = {};
    }
    buf.consume(n);
    if (framing.done()) co_return r;
    if (buf.size() + kReadChunk > buf.max_size()) {
      r.framing_error = true;
      co_return r;
    }
    patience.arm(watch, src_side);
    auto [rec, got] = co_await src.async_read_some(buf.prepare(kReadChunk), use_tuple);
    if (rec) {
      if (!(rec == asio::error::eof && framing.kind == Framing::Kind::until_eof)) r.read_error = rec;
      co_return r;
    }
    buf.commit(got);
  }
}

}  // namespace sy::proxy
