#pragma once
// The entries into tunnels beside HTTP routing (SPEC §7): the TCP entry
// ports, SOCKS5 and CONNECT on the proxy port. Here: what a destination
// names (a tunnel host, or an address an agent declared — never anything
// else: the entries are not an open proxy), the entry credentials, the
// CONNECT handler main installs, and RawRelay, a visitor's connection
// relayed raw into a tunnel stream.
//
// Threading: the worker that accepted the visitor; entry_pool() anywhere.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <memory>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "router/io/socket.hpp"
#include "router/proxy/connection.hpp"
#include "router/proxy/io_buffer.hpp"
#include "router/proxy/proxy_context.hpp"
#include "router/proxy/watchdog.hpp"
#include "router/route/route_table.hpp"
#include "router/upstream/byte_stream.hpp"

namespace sy::proxy {
class Worker;
}

namespace sy::tunnel {

class TunnelNode;

// The tunnel a destination names: a tunnel host (whatever the port: the
// agent dials its own target), or an IP literal and port an agent declared
// (`--advertise-address`). Null for anything else, including routes of
// ordinary backends.
const route::Pool* entry_pool(const route::RouteTable& table, std::string_view host, uint16_t port,
                              std::string_view domain);

// The entry credentials (`socks.user`/`socks.pass`), compared in constant
// time; true when none are configured.
bool entry_credentials_match(const config::SocksConfig& socks, std::string_view user, std::string_view pass);
// The same from a `Proxy-Authorization: Basic ...` value.
bool proxy_authorization_matches(const config::SocksConfig& socks, std::string_view header);

// CONNECT on the proxy port: credentials (407), the destination (403 when it
// is not a tunnel), then a raw stream into it (502 when none opens).
proxy::ConnectHandler connect_handler(TunnelNode& node, const config::SocksConfig& socks);

// A visitor's connection, relayed raw into a tunnel stream. A worker
// Connection: its deadline (a handshake's, before the relay) is enforced by
// the worker's tick; a drain lets the relay finish; abort closes both sides.
class RawRelay final : public proxy::Connection {
 public:
  RawRelay(proxy::Worker& worker, int fd);
  ~RawRelay() override;
  io::Socket& socket() { return socket_; }
  proxy::IoBuffer& in() { return in_; }  // bytes from the visitor not yet relayed
  void expect_by(route::TimePoint deadline) { watch_.set(deadline, proxy::Watchdog::Target::client); }
  // Writes `prefix` to the visitor, then relays both ways until both end.
  boost::asio::awaitable<void> relay(std::unique_ptr<upstream::ByteStream> up, std::string_view prefix);

  void check_deadline(route::TimePoint now) override { watch_.check(now); }
  void drain() override {}
  void abort() override;

 private:
  proxy::Worker& worker_;
  io::Socket socket_;
  proxy::IoBuffer in_, out_;
  proxy::Watchdog watch_;
  upstream::ByteStream* up_ = nullptr;
};

// A visitor on a TCP tunnel's entry port (`port`): the tunnel's edge policy
// (allow list, rate), then into a local session, or — a mirror's visitor —
// to a node that holds the tunnel.
boost::asio::awaitable<void> serve_tcp_visitor(TunnelNode& node, proxy::Worker& worker, std::string tunnel_id,
                                               std::string tunnel_host, uint16_t port, int fd, std::string peer_ip);

}  // namespace sy::tunnel
