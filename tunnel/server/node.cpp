#include "tunnel/server/node.hpp"

#include <openssl/evp.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <boost/asio/post.hpp>
#include <chrono>

#include "common/log/log.hpp"
#include "router/proxy/worker.hpp"
#include "tunnel/identity/identity.hpp"
#include "tunnel/server/tcp_entry.hpp"

namespace sy::tunnel {

namespace asio = boost::asio;

namespace {

int64_t unix_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t to_int(std::string_view s) {
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return INT64_MAX;  // unreadable: never wins a race
    v = v * 10 + (c - '0');
  }
  return s.empty() ? INT64_MAX : v;
}

}  // namespace

TunnelNode::TunnelNode(const config::TunnelConfig& config, NodeIdentity identity, asio::io_context& control,
                       Publish publish, metrics::Registry& r)
    : config_(config),
      identity_(std::move(identity)),
      control_(control),
      publish_(std::move(publish)),
      heartbeat_timer_(control) {
  ids_ = &r.gauge("tunnel_ids", "Tunnel ids this node holds.").add({});
  sessions_ = &r.gauge("tunnel_sessions", "Agent sessions open on this node.").add({});
  streams_ = &r.gauge("tunnel_streams", "Streams open in this node's agent sessions.").add({});
  auto& bytes = r.counter("tunnel_bytes", "Bytes through this node's tunnels, by direction.");
  bytes_in_ = &bytes.add({{"direction", "in"}});
  bytes_out_ = &bytes.add({{"direction", "out"}});
  streams_opened_ = &r.counter("tunnel_streams_opened", "Streams opened into agent sessions.").add({});
  forwarded_ = &r.counter("tunnel_forwarded_requests", "Requests forwarded to the node holding their tunnel.").add({});
  handshakes_ = &r.counter("tunnel_handshakes", "Agent handshakes, by result.");
  for (const char* result : {"ok", "bad_request", "unauthorized", "conflict", "rejected"})
    handshakes_->add({{"result", result}});
  entries_ = &r.counter("tunnel_entry_connections",
                        "Connections through the entries into tunnels (TCP entry ports, SOCKS5, CONNECT), by result.");
  for (const char* entry : {"tcp", "socks", "connect"})
    for (const char* result : {"ok", "refused", "unreachable"}) entries_->add({{"entry", entry}, {"result", result}});
}

TunnelNode::~TunnelNode() { heartbeat_timer_.cancel(); }

void TunnelNode::count_handshake(std::string_view result) { handshakes_->add({{"result", std::string(result)}}).inc(); }

void TunnelNode::count_entry(std::string_view entry, std::string_view result) {
  entries_->add({{"entry", std::string(entry)}, {"result", std::string(result)}}).inc();
}

// The id's claim is its earliest registration anywhere (a session on a new
// node joins the claim the id already has), else now. Another id's claim in
// the route table refuses it only when that claim is the earlier one: a
// lingering losing claim (its node died before unregistering) must not lock
// the winner out.
std::optional<std::string> TunnelNode::admit(const std::shared_ptr<SessionHandle>& s, const route::RouteTable& routes) {
  std::lock_guard lock(mutex_);
  for (const auto& [id, t] : tunnels_)
    if (t.host == s->host && id != s->tunnel_id) return "host " + s->host + " is held by another tunnel id";
  const int64_t ours = std::min(own_claim(routes, s->host, s->tunnel_id), unix_ns());
  int64_t theirs = 0;
  std::string other;
  if (other_holder(routes, s->host, s->tunnel_id, "", &theirs, &other) &&
      (theirs < ours || (theirs == ours && other < s->tunnel_id)))
    return "host " + s->host + " is held by another tunnel id";
  auto [it, fresh] = tunnels_.try_emplace(s->tunnel_id);
  std::optional<std::string> refused = join(it->second, s, fresh, held_port(routes, s->host));
  if (refused) {
    if (fresh) tunnels_.erase(it);
    return refused;
  }
  if (fresh) {
    it->second.claimed_at_ns = ours;
    publish_later("router.register", registration(it->first, it->second));
    log::info("tunnel-held", log::Fields()("tunnel_id", it->first)("host", it->second.host)(
                                 "tcp_port", it->second.entry ? it->second.entry->port() : 0));
  }
  return std::nullopt;
}

// A session joins its tunnel (the first one makes it: its protocol, declared
// address, edge policy and, for TCP, the entry port); a later one must agree
// on the protocol. Under the mutex.
std::optional<std::string> TunnelNode::join(Tunnel& t, const std::shared_ptr<SessionHandle>& s, bool fresh,
                                            uint16_t preferred_port) {
  if (t.lost) return "host " + s->host + " was lost to another tunnel id";
  if (fresh) {
    t.host = s->host;
    t.tcp = s->tcp;
    t.address = s->address;
    t.policy = s->policy;
    if (t.tcp) {
      t.entry = take_mirror(s->tunnel_id);  // this node's port for it already
      if (!t.entry)
        t.entry = TcpEntry::bind(*s->worker, *this, s->tunnel_id, s->host, identity_.entry_host, preferred_port,
                                 config_.tcp_port_first, config_.tcp_port_last, &port_cursor_);
      if (!t.entry) {
        s->refused_status = 503;
        return "no free TCP entry port in tunnel.tcp_ports";
      }
    }
  } else if (t.tcp != s->tcp) {
    return "tunnel id " + s->tunnel_id + " is already a " + (t.tcp ? "TCP" : "HTTP") + " tunnel here";
  }
  s->tcp_port = t.entry ? t.entry->port() : 0;
  t.sessions.push_back(s);
  return std::nullopt;
}

void TunnelNode::leave(const std::shared_ptr<SessionHandle>& s) {
  std::lock_guard lock(mutex_);
  ended_bytes_in_ += s->bytes_in.load(std::memory_order_relaxed);
  ended_bytes_out_ += s->bytes_out.load(std::memory_order_relaxed);
  auto it = tunnels_.find(s->tunnel_id);
  if (it == tunnels_.end()) return;
  std::erase(it->second.sessions, s);
  if (!it->second.sessions.empty()) return;
  publish_later("router.unregister", registration(it->first, it->second));
  log::info("tunnel-released", log::Fields()("tunnel_id", it->first)("host", it->second.host));
  if (it->second.entry) it->second.entry->stop();
  tunnels_.erase(it);
}

std::shared_ptr<SessionHandle> TunnelNode::pick(std::string_view tunnel_id, const proxy::Worker* prefer) const {
  std::lock_guard lock(mutex_);
  auto it = tunnels_.find(tunnel_id);
  if (it == tunnels_.end() || it->second.lost) return nullptr;
  std::shared_ptr<SessionHandle> best;
  int best_streams = 0;
  bool best_local = false;
  for (const auto& s : it->second.sessions) {
    if (!s->usable.load(std::memory_order_relaxed)) continue;
    const bool local = s->worker == prefer;
    const int streams = s->streams.load(std::memory_order_relaxed);
    if (!best || (local && !best_local) || (local == best_local && streams < best_streams)) {
      best = s;
      best_streams = streams;
      best_local = local;
    }
  }
  return best;
}

bool TunnelNode::holds(std::string_view tunnel_id) const {
  std::lock_guard lock(mutex_);
  auto it = tunnels_.find(tunnel_id);
  return it != tunnels_.end() && !it->second.lost && !it->second.sessions.empty();
}

// SPEC §5.3: an ordinary registration of the host with this node's address.
std::string TunnelNode::registration(const std::string& id, const Tunnel& t) const {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  auto tag = [&w](const char* key, const std::string& value) {
    w.Key(key);
    w.String(value);
  };
  w.StartObject();
  tag("host", identity_.advertise_host);
  w.Key("port");  // a TCP tunnel: its entry port here, raw from the first byte
  w.Uint(t.entry ? t.entry->port() : identity_.advertise_port);
  w.Key("uris");
  w.StartArray();
  w.String(t.host);
  if (!t.address.empty()) w.String(address_host(t.address, config_.domain));
  if (t.tcp) w.String(tcp_directory(config_.domain));
  w.EndArray();
  w.Key("tags");
  w.StartObject();
  tag("component", "tunnel");
  tag("tunnel_id", id);
  tag("node", identity_.node_id);
  tag("claimed_at", std::to_string(t.claimed_at_ns));
  if (t.tcp) {
    tag("protocol", "tcp");
    tag("host", t.host);
    tag("proxy", advertise_address());
  }
  if (!t.address.empty()) tag("address", t.address);
  if (!t.policy.empty()) tag("edge_policy", t.policy);
  w.EndObject();
  tag("private_instance_id", identity_.node_id + "/" + id);
  w.Key("stale_threshold_in_seconds");
  w.Int64(3 * config_.register_interval.count());
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

std::string TunnelNode::policy_of(std::string_view tunnel_id) const {
  std::lock_guard lock(mutex_);
  auto it = tunnels_.find(tunnel_id);
  return it == tunnels_.end() ? std::string() : it->second.policy;
}

void TunnelNode::set_entry_credentials(const std::string& user, const std::string& pass) {
  if (user.empty()) return;
  const std::string plain = user + ":" + pass;
  std::string encoded(4 * ((plain.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()),
                                reinterpret_cast<const unsigned char*>(plain.data()), static_cast<int>(plain.size()));
  encoded.resize(static_cast<size_t>(n));
  entry_authorization_ = "Basic " + encoded;
}

void TunnelNode::publish_later(std::string subject, std::string payload) {
  asio::post(control_, [this, subject = std::move(subject), payload = std::move(payload)] {
    if (!publish_(subject, payload)) log::warn("tunnel-publish-failed", log::Fields()("subject", subject));
  });
}

void TunnelNode::start() { schedule_heartbeat(); }

void TunnelNode::drain() {
  std::lock_guard lock(mutex_);
  draining_ = true;
  for (const auto& [id, t] : tunnels_) {
    if (!t.lost) publish_later("router.unregister", registration(id, t));
    if (t.entry) t.entry->stop();  // new visitors go to the nodes the agents move to
  }
  for (auto& [id, m] : mirrors_)
    if (m.entry) m.entry->stop();
  mirrors_.clear();
}

void TunnelNode::schedule_heartbeat() {
  heartbeat_timer_.expires_after(config_.register_interval);
  heartbeat_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    heartbeat();
    schedule_heartbeat();
  });
}

void TunnelNode::heartbeat() {
  std::vector<std::string> messages;
  {
    std::lock_guard lock(mutex_);
    if (draining_) return;
    for (const auto& [id, t] : tunnels_)
      if (!t.lost && !t.sessions.empty()) messages.push_back(registration(id, t));
  }
  for (const std::string& m : messages) publish_("router.register", m);
}

// Another tunnel id registered for `host` (by any node but `node`, when
// given): its claim time and id.
bool TunnelNode::other_holder(const route::RouteTable& routes, const std::string& host, const std::string& id,
                              std::string_view node, int64_t* claimed_at, std::string* other_id) {
  const route::Pool* pool = routes.find(host, "/");
  if (!pool) return false;
  bool found = false;
  for (const route::EndpointPtr& e : pool->endpoints()) {
    const route::EndpointMeta& m = e->meta();
    if (e->kind() != route::EndpointKind::tunnel || m.tag("tunnel_id") == id) continue;
    if (!node.empty() && m.tag("node") == node) continue;
    const int64_t when = to_int(m.tag("claimed_at"));
    if (!found || when < *claimed_at || (when == *claimed_at && m.tag("tunnel_id") < *other_id)) {
      *claimed_at = when;
      *other_id = std::string(m.tag("tunnel_id"));
      found = true;
    }
  }
  return found;
}

int64_t TunnelNode::own_claim(const route::RouteTable& routes, const std::string& host, const std::string& id) {
  const route::Pool* pool = routes.find(host, "/");
  int64_t earliest = INT64_MAX;
  if (!pool) return earliest;
  for (const route::EndpointPtr& e : pool->endpoints())
    if (e->kind() == route::EndpointKind::tunnel && e->meta().tag("tunnel_id") == id)
      earliest = std::min(earliest, to_int(e->meta().tag("claimed_at")));
  return earliest;
}

void TunnelNode::on_routes(const route::RouteTable& routes) {
  std::lock_guard lock(mutex_);
  update_mirrors(routes);
  for (auto& [id, t] : tunnels_) {
    if (t.lost) continue;
    int64_t theirs = 0;
    std::string other;
    if (!other_holder(routes, t.host, id, "", &theirs, &other)) continue;
    if (theirs < t.claimed_at_ns || (theirs == t.claimed_at_ns && other < id)) evict(id, t);
  }
}

// Lost a race: every session of the id closes with 4409; the last one's
// leave() unregisters the host.
void TunnelNode::evict(const std::string& id, Tunnel& t) {
  t.lost = true;
  log::warn("tunnel-claim-lost", log::Fields()("tunnel_id", id)("host", t.host));
  for (const auto& s : t.sessions) {
    asio::post(s->worker->io(), [s] {
      if (auto core = s->core.lock()) core->queue_close(4409, "host claimed by another tunnel id");
    });
  }
}

void TunnelNode::refresh_metrics() {
  std::lock_guard lock(mutex_);
  double sessions = 0, streams = 0, in = static_cast<double>(ended_bytes_in_), out = static_cast<double>(ended_bytes_out_);
  for (const auto& [id, t] : tunnels_) {
    for (const auto& s : t.sessions) {
      sessions += 1;
      streams += s->streams.load(std::memory_order_relaxed);
      in += static_cast<double>(s->bytes_in.load(std::memory_order_relaxed));
      out += static_cast<double>(s->bytes_out.load(std::memory_order_relaxed));
    }
  }
  ids_->set(static_cast<double>(tunnels_.size()));
  sessions_->set(sessions);
  streams_->set(streams);
  if (in > reported_in_) bytes_in_->inc(in - reported_in_);
  if (out > reported_out_) bytes_out_->inc(out - reported_out_);
  reported_in_ = std::max(reported_in_, in);
  reported_out_ = std::max(reported_out_, out);
}

std::string TunnelNode::describe_json() const {
  std::lock_guard lock(mutex_);
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("node");
  w.String(identity_.node_id);
  w.Key("tunnels");
  w.StartArray();
  for (const auto& [id, t] : tunnels_) {
    w.StartObject();
    w.Key("id");
    w.String(id);
    w.Key("host");
    w.String(t.host);
    w.Key("claimed_at_ns");
    w.Int64(t.claimed_at_ns);
    w.Key("protocol");
    w.String(t.tcp ? "tcp" : "http");
    if (t.entry) {
      w.Key("tcp_port");
      w.Uint(t.entry->port());
    }
    if (!t.address.empty()) {
      w.Key("address");
      w.String(t.address);
    }
    w.Key("sessions");
    w.StartArray();
    for (const auto& s : t.sessions) {
      w.StartObject();
      w.Key("remote");
      w.String(s->remote);
      w.Key("since");
      w.Int64(s->since_unix);
      w.Key("worker");
      w.Int(s->worker->index());
      w.Key("streams");
      w.Int(s->streams.load(std::memory_order_relaxed));
      w.Key("bytes_in");
      w.Uint64(s->bytes_in.load(std::memory_order_relaxed));
      w.Key("bytes_out");
      w.Uint64(s->bytes_out.load(std::memory_order_relaxed));
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace sy::tunnel
