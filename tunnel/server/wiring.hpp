#pragma once
// How the tunnel side plugs into a node (router/main.cpp calls these; the
// router itself never includes tunnel/): the TunnelNode with this node's
// identity, its listeners on each worker (agents; SOCKS5 when configured),
// CONNECT on the proxy port, /tunnels, and the control thread's callbacks.
//
// Threading: main thread, at start-up.
#include <memory>

#include "config/config.hpp"
#include "router/control/control.hpp"
#include "router/proxy/proxy_context.hpp"
#include "router/tls/server_contexts.hpp"
#include "status/metrics.hpp"
#include "status/status_server.hpp"
#include "tunnel/server/node.hpp"

namespace sy::proxy {
class Worker;
}

namespace sy::tunnel {

// Null when `tunnel:` is not configured. Installs the CONNECT entry in `ctx`.
std::unique_ptr<TunnelNode> make_tunnel_node(const config::Config& cfg, control::Control& control,
                                             metrics::Registry& registry, proxy::ProxyContext& ctx);
// The agents' listener (wss:// with `wss`) and, with `socks:`, the SOCKS5 entry.
void bind_listeners(proxy::Worker& worker, TunnelNode& node, const config::Config& cfg, tls::ServerTls* wss);
// /tunnels, the ownership check on every new route table, announcements.
void wire_tunnels(TunnelNode& node, control::Control& control, status::StatusServer& status);

}  // namespace sy::tunnel
