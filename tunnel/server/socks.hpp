#pragma once
// The SOCKS5 entry (`socks:`, SPEC §7): a listener on every worker where a
// client asks, by RFC 1928 (with RFC 1929 username/password when the entry
// has credentials), to CONNECT to a tunnel host or an address an agent
// declared; it is relayed into that tunnel on whichever node holds it. Any
// other destination is refused with reply 0x02: never an open proxy. The
// handshake must be done within 10 s and 1 KiB.
//
// Threading: the accepting worker.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "config/config.hpp"

namespace sy::proxy {
class Worker;
}

namespace sy::tunnel {

class TunnelNode;

boost::asio::awaitable<void> serve_socks(TunnelNode& node, const config::SocksConfig& socks, proxy::Worker& worker,
                                         int fd, boost::asio::ip::tcp::endpoint peer);

}  // namespace sy::tunnel
