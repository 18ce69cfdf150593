#pragma once
// Raw bytes both ways, for whatever stops being HTTP: a 101 upgrade, a
// CONNECT, and the tunnel entries (TCP entry ports, SOCKS5). Each direction
// copies until EOF, then half-closes the other side (so a client's
// shutdown(SHUT_WR) reaches the target and its answer still comes back); an
// error on either closes both, which ends the opposite direction too.
//
// Threading: the worker that owns both ends.
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/write.hpp>
#include <sys/socket.h>

#include "router/io/socket.hpp"
#include "router/proxy/body.hpp"
#include "router/proxy/client_stream.hpp"
#include "router/proxy/io_buffer.hpp"
#include "router/upstream/byte_stream.hpp"

namespace sy::proxy {

namespace pump_detail {
inline void half_close(ClientStream& s) { s.shutdown(SHUT_WR); }
inline void half_close(upstream::ByteStream& s) { s.shutdown_send(); }
inline void half_close(io::Socket& s) { s.shutdown(SHUT_WR); }
inline void close_both(auto& a, auto& b) {
  a.close();
  b.close();
}
}  // namespace pump_detail

// One direction. Bytes already in `buf` are written first.
template <typename From, typename To>
boost::asio::awaitable<void> pump(From& from, To& to, IoBuffer& buf) {
  for (;;) {
    if (buf.size() > 0) {
      auto [wec, n] = co_await boost::asio::async_write(to, buf.data(), use_tuple);
      if (wec) break;
      buf.consume(n);
    }
    auto [rec, n] = co_await from.async_read_some(buf.prepare(kReadChunk), use_tuple);
    if (rec == boost::asio::error::eof) {
      pump_detail::half_close(to);
      co_return;
    }
    if (rec) break;
    buf.commit(n);
  }
  pump_detail::close_both(from, to);
}

// Both directions, until both have ended.
template <typename A, typename B>
boost::asio::awaitable<void> pump_both(A& a, B& b, IoBuffer& from_a, IoBuffer& from_b) {
  using namespace boost::asio::experimental::awaitable_operators;
  co_await (pump(a, b, from_a) && pump(b, a, from_b));
}

}  // namespace sy::proxy
