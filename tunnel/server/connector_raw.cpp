// TunnelConnector's raw streams for the entries (SPEC §7): a TCP entry
// port, SOCKS5 and CONNECT reach a tunnel here — a local session when this
// node holds it, else the node that does: its TCP entry port for a TCP
// tunnel, or CONNECT through its proxy port, signed like any node-to-node
// forwarding, for an HTTP one.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <charconv>
#include <chrono>
#include <optional>

#include "common/ids/uuid.hpp"
#include "router/http/head_parser.hpp"
#include "router/proxy/worker.hpp"
#include "tunnel/identity/identity.hpp"
#include "tunnel/server/connector.hpp"
#include "tunnel/server/node.hpp"

namespace sy::tunnel {

namespace asio = boost::asio;
using upstream::OpenResult;

namespace {

constexpr size_t kMaxConnectAnswer = 8 * 1024;
constexpr int kMaxRemoteTries = 3;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

int64_t unix_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

RawOpen refused(std::string detail) {
  RawOpen r;
  r.detail = std::move(detail);
  return r;
}

}  // namespace

asio::awaitable<RawOpen> TunnelConnector::open_raw(const route::Pool& pool, std::string_view authority,
                                                   bool forwarded) {
  if (pool.empty() || pool.endpoints().front()->kind() != route::EndpointKind::tunnel)
    co_return refused("not a tunnel");
  const std::string tunnel_id(pool.endpoints().front()->meta().tag("tunnel_id"));
  if (node_.holds(tunnel_id)) {
    OpenResult local = co_await open_local(tunnel_id, false);
    if (!local.failure) {
      RawOpen r;
      r.stream = std::move(local.stream);
      co_return r;
    }
  }
  if (forwarded) co_return refused("tunnel not held here");  // the loop guard: never a second hop
  std::string why = "no node holds the tunnel";
  const auto& endpoints = pool.endpoints();
  const size_t start = static_cast<size_t>(std::rand()) % endpoints.size();
  int tries = 0;
  for (size_t i = 0; i < endpoints.size() && tries < kMaxRemoteTries; ++i) {
    const route::Endpoint& e = *endpoints[(start + i) % endpoints.size()];
    if (e.kind() != route::EndpointKind::tunnel || e.meta().tag("node") == node_.node_id()) continue;
    ++tries;
    RawOpen r = co_await open_raw_remote(e, authority);
    if (r.stream) co_return r;
    why = std::move(r.detail);
  }
  co_return refused(why);
}

// Another node: always a CONNECT through its proxy port (for a TCP tunnel the
// registration's `proxy` tag names it), signed, so the holder serves it from
// a local session and never passes it on: no relay can loop between nodes.
asio::awaitable<RawOpen> TunnelConnector::open_raw_remote(const route::Endpoint& endpoint,
                                                          std::string_view authority) {
  upstream::OpenRequest request;
  request.allow_reuse = false;
  request.deadline = route::Clock::now() + worker_.context().config.endpoint_timeout;
  std::optional<route::Endpoint> proxy;
  if (endpoint.meta().tag("protocol") == "tcp") {
    route::EndpointSpec spec;
    if (!split_host_port(endpoint.meta().tag("proxy"), &spec.host, &spec.port))
      co_return refused(endpoint.address() + ": no proxy address in its registration");
    proxy.emplace(spec, route::Clock::now());
  }
  OpenResult opened = co_await tcp_.open(proxy ? *proxy : endpoint, request);
  if (opened.failure) co_return refused(endpoint.address() + ": " + opened.detail);
  RawOpen r;
  std::string problem = co_await connect_through(*opened.stream, authority, r);
  if (!problem.empty()) {
    opened.stream->close();
    co_return refused(endpoint.address() + ": " + problem);
  }
  node_.count_forwarded();
  r.stream = std::move(opened.stream);
  co_return r;
}

// CONNECT through another node's proxy port, as node-to-node forwarding
// (PROXY v2 LOCAL first when the nodes take PROXY, the signed
// Switchyard-Forwarded-Node header); "" once it answered 200.
asio::awaitable<std::string> TunnelConnector::connect_through(upstream::ByteStream& stream,
                                                              std::string_view authority, RawOpen& out) {
  static constexpr char kProxyV2Local[16] = {'\r', '\n', '\r', '\n', '\0', '\r', '\n', 'Q',
                                             'U',  'I',  'T',  '\n', 0x20, 0x00, 0x00, 0x00};
  std::string head;
  if (node_.peers_take_proxy()) head.assign(kProxyV2Local, sizeof kProxyV2Local);
  const std::string request_id = new_uuid();
  const std::vector<std::string>& secrets = node_.config().secrets;
  const std::string signature = secrets.empty() ? node_.node_id()
                                                : forwarded_node_value(secrets.front(), node_.node_id(),
                                                                       unix_seconds(), request_id);
  head.append("CONNECT ").append(authority).append(" HTTP/1.1\r\nHost: ").append(authority);
  head.append("\r\nX-Vcap-Request-Id: ").append(request_id).append("\r\n");
  if (!node_.entry_authorization().empty())
    head.append("Proxy-Authorization: ").append(node_.entry_authorization()).append("\r\n");
  head.append(kForwardedNodeHeader).append(": ").append(signature).append("\r\n\r\n");
  auto [wec, wn] = co_await asio::async_write(stream, asio::buffer(head), use_tuple);
  if (wec) co_return "CONNECT not sent: " + wec.message();
  std::string answer(kMaxConnectAnswer, '\0');
  size_t have = 0;
  http::HeadScanner scanner(kMaxConnectAnswer);
  for (;;) {
    auto [rec, n] = co_await stream.async_read_some(asio::buffer(answer.data() + have, answer.size() - have),
                                                    use_tuple);
    if (rec) co_return "no answer to CONNECT: " + rec.message();
    have += n;
    http::HeadScanner::Result found = scanner.scan(std::string_view(answer.data(), have));
    if (found.status == http::HeadScanner::Status::error) co_return "malformed answer to CONNECT";
    if (found.status == http::HeadScanner::Status::incomplete) continue;
    http::ResponseHead response;
    if (http::parse_response_head(answer.data(), found.length, http::HeadLimits{kMaxConnectAnswer}, &response) !=
        http::HeadError::none)
      co_return "malformed answer to CONNECT";
    if (response.status != 200) co_return "CONNECT answered " + std::to_string(response.status);
    out.prefix.assign(answer.data() + found.length, have - found.length);
    co_return std::string();
  }
}

}  // namespace sy::tunnel
