#pragma once
// TcpEntry: a TCP tunnel's entry port on this node (SPEC §7). The node binds
// a free port of `tunnel.tcp_ports` on its bind address when the first
// session of a TCP tunnel arrives (the port other holders already use, when
// it is free here), publishes it in the tunnel's registration, and closes it
// when the last session ends or the node drains. Every other node opens the
// same port for the tunnel (a mirror, TunnelNode::on_routes), so a visitor
// may reach it on any node, as behind a load balancer. Each visitor is
// relayed raw (serve_tcp_visitor): into a local session, else to a holder.
//
// Threading: bind() and the accept loop on the worker of the session that
// brought the tunnel; stop() from any thread (posted to that worker). The
// accept loop owns the listening socket, so it goes with the worker's
// io_context whatever happens first.
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <memory>
#include <string>

namespace sy::proxy {
class Worker;
}

namespace sy::tunnel {

class TunnelNode;

class TcpEntry {
 public:
  // `preferred` when it binds, else the first port from `*cursor` on
  // (wrapping within [first, last]) that binds on `address`; null when none
  // does. Advances `*cursor` past it. `tunnel_host` names the tunnel.
  static std::shared_ptr<TcpEntry> bind(proxy::Worker& worker, TunnelNode& node, std::string tunnel_id,
                                        std::string tunnel_host, const std::string& address, uint16_t preferred,
                                        uint16_t first, uint16_t last, uint16_t* cursor);
  uint16_t port() const { return port_; }
  void stop();

 private:
  using Acceptor = boost::asio::ip::tcp::acceptor;
  TcpEntry(proxy::Worker& worker, uint16_t port, std::weak_ptr<Acceptor> acceptor)
      : worker_(worker), port_(port), acceptor_(std::move(acceptor)) {}

  proxy::Worker& worker_;
  uint16_t port_;
  std::weak_ptr<Acceptor> acceptor_;
};

}  // namespace sy::tunnel
