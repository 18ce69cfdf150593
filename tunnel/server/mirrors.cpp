// A TCP tunnel's port on every node (SPEC §7): each holder registers its
// entry port under the tunnel's host and under the TCP directory
// (tcp.entries.<domain>); every other node opens the same port number for
// the tunnel — a mirror, whose visitors are relayed to a holder — so a
// client (or a load balancer in front of the nodes) may use any node. A
// holder picks the port the others already use when it is free; a node that
// becomes a holder keeps its mirror's port as its own entry.
#include <boost/asio/post.hpp>

#include "common/log/log.hpp"
#include "router/proxy/worker.hpp"
#include "tunnel/identity/identity.hpp"
#include "tunnel/server/node.hpp"
#include "tunnel/server/tcp_entry.hpp"

namespace sy::tunnel {

namespace asio = boost::asio;

std::string TunnelNode::advertise_address() const {
  const bool v6 = identity_.advertise_host.find(':') != std::string::npos;
  return (v6 ? "[" + identity_.advertise_host + "]" : identity_.advertise_host) + ":" +
         std::to_string(identity_.advertise_port);
}

// The entry port other holders of `host` use (0: none).
uint16_t TunnelNode::held_port(const route::RouteTable& routes, const std::string& host) {
  const route::Pool* pool = routes.find(host, "/");
  if (!pool) return 0;
  for (const route::EndpointPtr& e : pool->endpoints())
    if (e->kind() == route::EndpointKind::tunnel && e->meta().tag("protocol") == "tcp") return e->port();
  return 0;
}

// Control thread, under the mutex: a mirror for every TCP tunnel another
// node holds and this one does not; none for the rest.
void TunnelNode::update_mirrors(const route::RouteTable& routes) {
  if (!entry_worker_ || draining_ || config_.tcp_port_first == 0) return;
  std::map<std::string, std::pair<std::string, uint16_t>, std::less<>> wanted;  // id -> host, port
  if (const route::Pool* dir = routes.find(tcp_directory(config_.domain), "/")) {
    for (const route::EndpointPtr& e : dir->endpoints()) {
      const route::EndpointMeta& m = e->meta();
      if (e->kind() != route::EndpointKind::tunnel || m.tag("node") == identity_.node_id) continue;
      const std::string id(m.tag("tunnel_id"));
      if (tunnels_.count(id) == 0 && e->port() >= config_.tcp_port_first && e->port() <= config_.tcp_port_last)
        wanted.try_emplace(id, std::string(m.tag("host")), e->port());
    }
  }
  for (auto it = mirrors_.begin(); it != mirrors_.end();) {
    auto w = wanted.find(it->first);
    if (w != wanted.end() && w->second.second == it->second.port) {
      wanted.erase(w);
      ++it;
      continue;
    }
    if (it->second.entry) it->second.entry->stop();
    it = mirrors_.erase(it);
  }
  for (const auto& [id, where] : wanted) open_mirror(id, where.first, where.second);
}

void TunnelNode::open_mirror(const std::string& id, const std::string& host, uint16_t port) {
  mirrors_[id] = Mirror{host, port, nullptr};
  asio::post(entry_worker_->io(), [this, id, host, port] {
    uint16_t cursor = port;
    std::shared_ptr<TcpEntry> entry =
        TcpEntry::bind(*entry_worker_, *this, id, host, identity_.entry_host, port, port, port, &cursor);
    std::lock_guard lock(mutex_);
    auto it = mirrors_.find(id);
    if (!entry) {  // (a later route table tries again)
      log::warn("tcp-mirror-failed", log::Fields()("tunnel_id", id)("port", port));
      if (it != mirrors_.end() && it->second.port == port && !it->second.entry) mirrors_.erase(it);
    } else if (it != mirrors_.end() && it->second.port == port && !it->second.entry) {
      it->second.entry = std::move(entry);
      log::info("tcp-mirror-open", log::Fields()("tunnel_id", id)("host", host)("port", port));
    } else {
      entry->stop();  // no longer wanted
    }
  });
}

std::shared_ptr<TcpEntry> TunnelNode::take_mirror(const std::string& id) {
  auto it = mirrors_.find(id);
  if (it == mirrors_.end()) return nullptr;
  std::shared_ptr<TcpEntry> entry = std::move(it->second.entry);
  mirrors_.erase(it);
  return entry;
}

void TunnelNode::close_entries() {
  std::lock_guard lock(mutex_);
  draining_ = true;  // no mirror opens again
  for (auto& [id, t] : tunnels_)
    if (t.entry) t.entry->stop();
  for (auto& [id, m] : mirrors_)
    if (m.entry) m.entry->stop();
  mirrors_.clear();
}

}  // namespace sy::tunnel
