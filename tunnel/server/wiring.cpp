#include "tunnel/server/wiring.hpp"

#include <unistd.h>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>

#include "common/log/log.hpp"
#include "router/proxy/worker.hpp"
#include "tunnel/server/entry.hpp"
#include "tunnel/server/session.hpp"
#include "tunnel/server/socks.hpp"

namespace sy::tunnel {

namespace asio = boost::asio;

namespace {

NodeIdentity identity(const config::Config& cfg) {
  NodeIdentity id;
  id.node_id = cfg.tunnel.node_id;
  if (id.node_id.empty()) {
    char name[256] = {};
    ::gethostname(name, sizeof name - 1);
    id.node_id = name;
  }
  std::string advertise = cfg.tunnel.advertise;
  if (advertise.empty()) advertise = control::local_ip() + ":" + std::to_string(cfg.port);
  const size_t colon = advertise.rfind(':');
  id.advertise_host = advertise.substr(0, colon);
  if (id.advertise_host.size() > 1 && id.advertise_host.front() == '[')
    id.advertise_host = id.advertise_host.substr(1, id.advertise_host.size() - 2);
  id.advertise_port = static_cast<uint16_t>(std::stoi(advertise.substr(colon + 1)));
  id.peers_take_proxy = cfg.enable_proxy;  // nodes are configured alike
  id.entry_host = cfg.bind_address;
  log::info("tunnel-node", log::Fields()("node_id", id.node_id)("advertise", advertise)("domain", cfg.tunnel.domain)(
                               "tcp_ports", cfg.tunnel.tcp_port_first == 0 ? std::string("off")
                                                                           : std::to_string(cfg.tunnel.tcp_port_first) +
                                                                                 "-" +
                                                                                 std::to_string(cfg.tunnel.tcp_port_last)));
  return id;
}

}  // namespace

std::unique_ptr<TunnelNode> make_tunnel_node(const config::Config& cfg, control::Control& control,
                                             metrics::Registry& registry, proxy::ProxyContext& ctx) {
  if (!cfg.tunnel.enabled) return nullptr;
  auto node = std::make_unique<TunnelNode>(
      cfg.tunnel, identity(cfg), control.io(),
      [&control](const std::string& subject, const std::string& payload) { return control.publish(subject, payload); },
      registry);
  node->set_entry_credentials(cfg.socks.user, cfg.socks.pass);
  ctx.connect = connect_handler(*node, cfg.socks);
  return node;
}

void bind_listeners(proxy::Worker& worker, TunnelNode& node, const config::Config& cfg, tls::ServerTls* wss) {
  if (worker.index() == 0) node.set_entry_worker(worker);  // TCP tunnels' mirrored ports listen there
  auto agents = asio::ip::tcp::endpoint(asio::ip::make_address(cfg.tunnel.host), cfg.tunnel.port);
  worker.bind(proxy::ListenerSpec{"tunnel", agents,
                                  [&node, wss](proxy::Worker& w, int fd, asio::ip::tcp::endpoint peer) {
                                    return serve_agent(node, w, fd, peer, wss ? wss->current() : nullptr);
                                  }});
  if (!cfg.socks.enabled) return;
  auto socks = asio::ip::tcp::endpoint(asio::ip::make_address(cfg.socks.host), cfg.socks.port);
  worker.bind(proxy::ListenerSpec{"socks", socks,
                                  [&node, &cfg](proxy::Worker& w, int fd, asio::ip::tcp::endpoint peer) {
                                    return serve_socks(node, cfg.socks, w, fd, peer);
                                  }});
}

void wire_tunnels(TunnelNode& node, control::Control& control, status::StatusServer& status) {
  status.handle("/tunnels", true, [&node](const status::StatusRequest&, status::StatusResponse& res) {
    res.content_type = "application/json";
    res.body = node.describe_json();
  });
  control.on_published([&node](const route::RouteTable& table) { node.on_routes(table); });
  control.on_router_start([&node] { node.on_router_start(); });
  asio::post(control.io(), [&node] { node.start(); });
}

}  // namespace sy::tunnel
