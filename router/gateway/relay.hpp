#pragma once
// One direction of the gateway's relay, from one socket to the other until
// EOF, then shutdown(SHUT_WR) on the destination (the half-close reaches the
// other side). Two ways, chosen by sealed_gateway.relay:
// - splice: socket -> pipe (from the worker's pool) -> socket inside the
//   kernel, never with SPLICE_F_MORE (seed 004: it corks small messages for
//   200 ms);
// - copy: read/write through a 64 KiB buffer.
// Bytes are counted as they are written to the destination.
//
// Threading: the owning worker only. An error comes back as error_code
// (empty = clean EOF and the half-close was passed on).
#include <fcntl.h>

#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>

#include "router/io/socket.hpp"
#include "router/proxy/splice.hpp"
#include "status/metrics.hpp"

namespace sy::gateway {

// The flags of every splice(2) the relay makes: never SPLICE_F_MORE.
inline constexpr unsigned kRelaySpliceFlags = SPLICE_F_MOVE | SPLICE_F_NONBLOCK;

boost::asio::awaitable<boost::system::error_code> relay_splice(io::Socket& from, io::Socket& to,
                                                               proxy::PipePool& pipes, metrics::Counter* bytes);
boost::asio::awaitable<boost::system::error_code> relay_copy(io::Socket& from, io::Socket& to,
                                                             metrics::Counter* bytes);

}  // namespace sy::gateway
