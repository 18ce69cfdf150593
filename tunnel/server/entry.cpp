#include "tunnel/server/entry.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <boost/asio/write.hpp>
#include <charconv>
#include <chrono>

#include "common/log/log.hpp"
#include "router/http/message.hpp"
#include "router/proxy/pump.hpp"
#include "router/proxy/worker.hpp"
#include "tunnel/identity/identity.hpp"
#include "tunnel/server/connector.hpp"
#include "tunnel/server/node.hpp"

namespace sy::tunnel {

namespace asio = boost::asio;

namespace {

int64_t unix_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

bool same(std::string_view a, std::string_view b) {
  // Constant time in the contents (the lengths are not secret enough to matter).
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string base64_decode(std::string_view text) {
  if (text.empty() || text.size() % 4 != 0 || text.size() > 1024) return {};
  std::string out(text.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) return {};
  size_t len = static_cast<size_t>(n);
  for (size_t i = text.size(); i > 0 && text[i - 1] == '='; --i) --len;  // EVP_DecodeBlock counts padding
  out.resize(len);
  return out;
}

proxy::ConnectAnswer refuse(int status, std::string router_error, std::string reason) {
  proxy::ConnectAnswer a;
  a.status = status;
  a.router_error = std::move(router_error);
  a.reason = std::move(reason);
  return a;
}

asio::awaitable<proxy::ConnectAnswer> connect_entry(TunnelNode& node, const config::SocksConfig& socks,
                                                    proxy::Worker& worker, const http::RequestHead& head,
                                                    std::string client_ip) {
  std::string host;
  uint16_t port = 0;
  if (!split_host_port(head.target, &host, &port)) co_return refuse(400, "bad_request", "CONNECT wants host:port");
  // From another node (never forwarded again); its edge-policy check stands
  // only when the signature verifies.
  const std::string_view from = head.find(http::FieldKind::switchyard_forwarded_node);
  const ForwardedNode sender = parse_forwarded_node(from, node.config().secrets,
                                                    head.find(http::FieldKind::x_vcap_request_id), unix_seconds());
  if (!from.empty() && sender.node_id == node.node_id())
    co_return refuse(403, "forwarding_loop", "this CONNECT came from this node");
  if (!proxy_authorization_matches(socks, head.find(http::FieldKind::proxy_authorization)))
    co_return refuse(407, "proxy_auth_required", "the entry wants Proxy-Authorization: Basic");
  route::RouteTablePtr table = worker.routes();
  const route::Pool* pool = entry_pool(*table, host, port, node.config().domain);
  if (!pool) {
    node.count_entry("connect", "refused");
    co_return refuse(403, "connect_refused", "not a tunnel: " + std::string(head.target));
  }
  const route::EndpointMeta& meta = pool->endpoints().front()->meta();
  if (std::optional<EntryRefusal> no =
          node.check_entry(meta.tag("tunnel_id"), meta.tag("edge_policy"), client_ip, sender.verified)) {
    node.count_entry("connect", "refused");
    co_return refuse(no->status, no->router_error, no->reason);
  }
  auto& connector = dynamic_cast<TunnelConnector&>(worker.connector());
  RawOpen opened = co_await connector.open_raw(*pool, head.target, !from.empty());
  node.count_entry("connect", opened.stream ? "ok" : "unreachable");
  if (!opened.stream) co_return refuse(502, "endpoint_failure", opened.detail);
  log::debug("connect-entry", log::Fields()("client", client_ip)("target", head.target));
  proxy::ConnectAnswer a;
  a.stream = std::move(opened.stream);
  a.prefix = std::move(opened.prefix);
  co_return a;
}

}  // namespace

const route::Pool* entry_pool(const route::RouteTable& table, std::string_view host, uint16_t port,
                              std::string_view domain) {
  std::string key;
  if (std::optional<std::string> address = canonical_address(host, port)) {
    key = address_host(*address, domain);
  } else {
    key.reserve(host.size());
    for (char c : host) key.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
    if (!key.empty() && key.back() == '.') key.pop_back();
  }
  const route::Pool* pool = key.empty() ? nullptr : table.find(key, "/");
  if (!pool || pool->empty()) return nullptr;
  for (const route::EndpointPtr& e : pool->endpoints())
    if (e->kind() != route::EndpointKind::tunnel) return nullptr;
  return pool;
}

bool entry_credentials_match(const config::SocksConfig& socks, std::string_view user, std::string_view pass) {
  if (socks.user.empty()) return true;
  const bool user_ok = same(user, socks.user);
  const bool pass_ok = same(pass, socks.pass);
  return user_ok && pass_ok;
}

bool proxy_authorization_matches(const config::SocksConfig& socks, std::string_view header) {
  if (socks.user.empty()) return true;
  if (header.size() < 6 || !http::iequals(header.substr(0, 6), "basic ")) return false;
  std::string_view encoded = header.substr(6);
  while (!encoded.empty() && encoded.front() == ' ') encoded.remove_prefix(1);
  const std::string decoded = base64_decode(encoded);
  const size_t colon = decoded.find(':');
  if (colon == std::string::npos) return false;
  return entry_credentials_match(socks, std::string_view(decoded).substr(0, colon),
                                 std::string_view(decoded).substr(colon + 1));
}

proxy::ConnectHandler connect_handler(TunnelNode& node, const config::SocksConfig& socks) {
  return [&node, &socks](proxy::Worker& worker, const http::RequestHead& head, std::string_view client_ip) {
    return connect_entry(node, socks, worker, head, std::string(client_ip));
  };
}

RawRelay::RawRelay(proxy::Worker& worker, int fd)
    : worker_(worker),
      socket_(worker.poller(), fd),
      in_(worker.buffers(), proxy::BufferPool::kBlockSize),
      out_(worker.buffers(), proxy::BufferPool::kBlockSize),
      watch_(socket_) {
  worker_.add(this);
}

RawRelay::~RawRelay() { worker_.remove(this); }

void RawRelay::abort() {
  socket_.close();
  if (up_) up_->close();
}

asio::awaitable<void> RawRelay::relay(std::unique_ptr<upstream::ByteStream> up, std::string_view prefix) {
  watch_.clear();  // a relay may idle as long as both ends like
  up_ = up.get();
  watch_.set_upstream(up_);
  bool ok = true;
  if (!prefix.empty()) {
    auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(prefix), proxy::use_tuple);
    ok = !ec;
  }
  if (ok) co_await proxy::pump_both(socket_, *up, in_, out_);
  watch_.set_upstream(nullptr);
  up_ = nullptr;
  up->close();
  socket_.close();
}

asio::awaitable<void> serve_tcp_visitor(TunnelNode& node, proxy::Worker& worker, std::string tunnel_id,
                                        std::string tunnel_host, uint16_t port, int fd, std::string peer_ip) {
  RawRelay visitor(worker, fd);
  route::RouteTablePtr table = worker.routes();
  const route::Pool* pool = entry_pool(*table, tunnel_host, port, node.config().domain);
  const bool held = node.holds(tunnel_id);
  const std::string policy =
      held ? node.policy_of(tunnel_id) : pool ? std::string(pool->endpoints().front()->meta().tag("edge_policy")) : "";
  if (std::optional<EntryRefusal> no = node.check_entry(tunnel_id, policy, peer_ip, false)) {
    log::debug("tcp-entry-refused", log::Fields()("tunnel_id", tunnel_id)("client", peer_ip)("reason", no->reason));
    node.count_entry("tcp", "refused");
    co_return;
  }
  auto& connector = dynamic_cast<TunnelConnector&>(worker.connector());
  RawOpen opened;
  if (held) opened = co_await connector.open_held(tunnel_id);
  if (!opened.stream && pool)
    opened = co_await connector.open_raw(*pool, tunnel_host + ":" + std::to_string(port), false);
  node.count_entry("tcp", opened.stream ? "ok" : "unreachable");
  if (!opened.stream) {
    log::debug("tcp-entry-unreachable", log::Fields()("tunnel_id", tunnel_id)("reason", opened.detail));
    co_return;
  }
  co_await visitor.relay(std::move(opened.stream), opened.prefix);
}

}  // namespace sy::tunnel
