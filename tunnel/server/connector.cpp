#include "tunnel/server/connector.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>

#include "router/proxy/worker.hpp"
#include "router/upstream/cross_worker.hpp"
#include "tunnel/identity/identity.hpp"
#include "tunnel/server/node.hpp"
#include "tunnel/server/stream.hpp"

namespace sy::tunnel {

namespace asio = boost::asio;
using outcome::Failure;
using upstream::OpenResult;

namespace {

constexpr size_t kMaxIdlePerTunnel = 256;
constexpr std::chrono::seconds kIdleTimeout{90};

int64_t unix_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

OpenResult refuse(Failure f, std::string detail = {}) {
  OpenResult r;
  r.failure = f;
  r.detail = std::move(detail);
  return r;
}

// On the session's own worker: a new stream of it (null when it cannot).
struct Opened {
  std::unique_ptr<YamuxStream> stream;
  std::shared_ptr<const std::atomic<bool>> usable;  // for a caller on another worker
};

asio::awaitable<Opened> open_on_owner(std::shared_ptr<SessionHandle> handle) {
  std::shared_ptr<SessionCore> core = handle->core.lock();
  if (!core) co_return Opened{};
  yamux::OpenResult opened = core->open_stream();
  if (opened.error != yamux::OpenError::none) co_return Opened{};
  co_return Opened{std::make_unique<YamuxStream>(core, opened.id), core->usable_flag(opened.id)};
}

}  // namespace

TunnelConnector::TunnelConnector(proxy::Worker& worker, TunnelNode& node, upstream::TcpConnectorOptions options)
    : worker_(worker), node_(node), tcp_(worker.io(), worker.poller(), std::move(options)) {}

asio::awaitable<OpenResult> TunnelConnector::open(const route::Endpoint& endpoint,
                                                  const upstream::OpenRequest& request) {
  const std::string_view forwarded = request.head->find(http::FieldKind::switchyard_forwarded_node);
  if (!forwarded.empty()) {
    const ForwardedNode from = parse_forwarded_node(forwarded, node_.config().secrets,
                                                    request.head->find(http::FieldKind::x_vcap_request_id),
                                                    unix_seconds());
    if (from.node_id == node_.node_id()) co_return refuse(Failure::forwarding_loop);
    if (endpoint.kind() == route::EndpointKind::tunnel) {  // served here, or nowhere
      // A signed forward was checked against the edge policy by the first node.
      if (!from.verified)
        if (std::optional<Failure> refused = edge_refusal(endpoint, request)) co_return refuse(*refused);
      OpenResult r = co_await open_local(endpoint.meta().tag("tunnel_id"), request.allow_reuse);
      if (r.failure) co_return refuse(Failure::tunnel_not_here);
      r.keep_forwarded_for = from.verified;
      co_return r;
    }
  }
  if (endpoint.kind() != route::EndpointKind::tunnel) {
    OpenResult r = co_await tcp_.open(endpoint, request);
    co_return r;
  }
  if (std::optional<Failure> refused = edge_refusal(endpoint, request)) co_return refuse(*refused);
  // tcp.entries.<domain> lists every TCP tunnel for the nodes; it is no name to reach one by.
  if (request.head && http::iequals(request.head->host.substr(0, 12), "tcp.entries."))
    co_return refuse(Failure::unknown_route);
  // A tunnel this node holds is served here, whichever holder the pool
  // picked (SPEC §5.3); another node's endpoint is the way out only when no
  // local session can take the stream.
  const std::string_view tunnel_id = endpoint.meta().tag("tunnel_id");
  const bool ours = endpoint.meta().tag("node") == node_.node_id();
  if (ours || node_.holds(tunnel_id)) {
    OpenResult r = co_await open_local(tunnel_id, request.allow_reuse);
    if (ours || !r.failure) co_return r;
  }
  OpenResult r = co_await open_remote(endpoint, request);
  co_return r;
}

asio::awaitable<OpenResult> TunnelConnector::open_local(std::string_view tunnel_id, bool allow_reuse) {
  OpenResult r;
  if (allow_reuse) {
    if ((r.stream = reuse(tunnel_id))) {
      r.reused = true;
      co_return r;
    }
  }
  std::shared_ptr<SessionHandle> session = node_.pick(tunnel_id, &worker_);
  if (!session) co_return refuse(Failure::no_tunnel);
  Opened opened;
  if (session->worker == &worker_) {
    opened = co_await open_on_owner(session);
  } else {  // the session lives on another worker: open it there, use it from here
    opened = co_await asio::co_spawn(session->worker->io(), open_on_owner(session), asio::use_awaitable);
  }
  if (!opened.stream) co_return refuse(Failure::no_tunnel);
  node_.count_stream_opened();
  if (session->worker == &worker_) {
    r.stream = std::move(opened.stream);
  } else {
    r.stream = std::make_unique<upstream::CrossWorkerStream>(
        worker_.io().get_executor(), std::shared_ptr<upstream::ByteStream>(std::move(opened.stream)),
        std::move(opened.usable));
  }
  co_return r;
}

asio::awaitable<RawOpen> TunnelConnector::open_held(std::string_view tunnel_id) {
  OpenResult local = co_await open_local(tunnel_id, false);
  RawOpen r;
  if (local.failure) {
    r.detail = "no live session here";
  } else {
    r.stream = std::move(local.stream);
  }
  co_return r;
}

asio::awaitable<OpenResult> TunnelConnector::open_remote(const route::Endpoint& endpoint,
                                                         const upstream::OpenRequest& request) {
  OpenResult r = co_await tcp_.open(endpoint, request);
  if (r.failure) co_return r;
  if (node_.peers_take_proxy() && !r.reused) {
    // PROXY v2, command LOCAL, no addresses: the other node reads the
    // connection's own peer (this node); the client's address travels in the
    // signed forwarded-node header and X-Forwarded-For (SPEC §5.3).
    static constexpr char kProxyV2Local[16] = {'\r', '\n', '\r', '\n', '\0', '\r', '\n', 'Q',
                                               'U',  'I',  'T',  '\n', 0x20, 0x00, 0x00, 0x00};
    auto [ec, n] = co_await asio::async_write(*r.stream, asio::buffer(kProxyV2Local, sizeof kProxyV2Local),
                                              asio::as_tuple(asio::use_awaitable));
    if (ec) {
      r.stream->close();
      co_return refuse(Failure::dial_failed, ec.message());
    }
  }
  r.to_node = true;
  const std::vector<std::string>& secrets = node_.config().secrets;
  const std::string value = secrets.empty() ? node_.node_id()
                                            : forwarded_node_value(secrets.front(), node_.node_id(), unix_seconds(),
                                                                   request.request_id);
  r.extra_headers = std::string(kForwardedNodeHeader) + ": " + value + "\r\n";
  node_.count_forwarded();
  co_return r;
}

std::unique_ptr<upstream::ByteStream> TunnelConnector::reuse(std::string_view tunnel_id) {
  auto it = idle_.find(std::string(tunnel_id));
  if (it == idle_.end()) return nullptr;
  while (!it->second.empty()) {
    Idle idle = std::move(it->second.back());
    it->second.pop_back();
    if (idle.stream->idle_usable()) return std::move(idle.stream);
    idle.stream->close();
  }
  return nullptr;
}

void TunnelConnector::release(const route::Endpoint& endpoint, std::unique_ptr<upstream::ByteStream> stream) {
  const bool tunnel_stream = dynamic_cast<YamuxStream*>(stream.get()) != nullptr ||
                             dynamic_cast<upstream::CrossWorkerStream*>(stream.get()) != nullptr;
  if (!tunnel_stream) {
    tcp_.release(endpoint, std::move(stream));
    return;
  }
  std::vector<Idle>& stack = idle_[std::string(endpoint.meta().tag("tunnel_id"))];
  if (stack.size() >= kMaxIdlePerTunnel) {
    stack.front().stream->close();
    stack.erase(stack.begin());
  }
  stack.push_back(Idle{std::move(stream), route::Clock::now()});
}

void TunnelConnector::sweep(route::TimePoint now) {
  tcp_.sweep(now);
  for (auto it = idle_.begin(); it != idle_.end();) {
    std::erase_if(it->second, [&](Idle& idle) {
      if (now - idle.since < kIdleTimeout && idle.stream->idle_usable()) return false;
      idle.stream->close();
      return true;
    });
    it = it->second.empty() ? idle_.erase(it) : std::next(it);
  }
}

}  // namespace sy::tunnel
