#include "tunnel/server/socks.hpp"

#include <boost/asio/write.hpp>
#include <chrono>

#include "common/log/log.hpp"
#include "router/proxy/body.hpp"
#include "router/proxy/worker.hpp"
#include "tunnel/server/connector.hpp"
#include "tunnel/server/entry.hpp"
#include "tunnel/server/node.hpp"
#include "tunnel/server/socks_codec.hpp"

namespace sy::tunnel {

namespace asio = boost::asio;

namespace {

constexpr std::chrono::seconds kHandshakeTimeout{10};
constexpr size_t kMaxHandshake = 1024;

std::string_view buffered(RawRelay& c) {
  return {static_cast<const char*>(c.in().data().data()), c.in().size()};
}

// More of the handshake from the client; false on EOF, error, timeout or too much.
asio::awaitable<bool> read_more(RawRelay& c) {
  if (c.in().size() >= kMaxHandshake) co_return false;
  auto [ec, n] = co_await c.socket().async_read_some(c.in().prepare(kMaxHandshake - c.in().size()), proxy::use_tuple);
  if (ec) co_return false;
  c.in().commit(n);
  co_return true;
}

asio::awaitable<bool> send(RawRelay& c, std::string_view bytes) {
  auto [ec, n] = co_await asio::async_write(c.socket(), asio::buffer(bytes.data(), bytes.size()), proxy::use_tuple);
  co_return !ec;
}

asio::awaitable<bool> send_reply(RawRelay& c, uint8_t code) {
  const std::array<char, 10> r = socks::reply(code);
  const bool sent = co_await send(c, std::string_view(r.data(), r.size()));
  co_return sent;
}

// Greeting and, with credentials, RFC 1929. True when the client may ask.
asio::awaitable<bool> authenticate(RawRelay& c, const config::SocksConfig& cfg) {
  const bool want = !cfg.user.empty();
  socks::Greeting g;
  while ((g = socks::parse_greeting(buffered(c), want)).status == socks::Parse::more) {
    const bool more = co_await read_more(c);
    if (!more) co_return false;
  }
  if (g.status == socks::Parse::bad) co_return false;
  c.in().consume(g.length);
  const char choice[2] = {static_cast<char>(socks::kVersion), static_cast<char>(g.method)};
  const bool sent = co_await send(c, std::string_view(choice, 2));
  if (!sent || g.method == socks::kNoAcceptable) co_return false;
  if (!want) co_return true;
  socks::Credentials cred;
  while ((cred = socks::parse_credentials(buffered(c))).status == socks::Parse::more) {
    const bool more = co_await read_more(c);
    if (!more) co_return false;
  }
  if (cred.status == socks::Parse::bad) co_return false;
  c.in().consume(cred.length);
  const bool ok = entry_credentials_match(cfg, cred.user, cred.pass);
  const char status[2] = {0x01, static_cast<char>(ok ? 0x00 : 0x01)};
  const bool answered = co_await send(c, std::string_view(status, 2));
  co_return ok && answered;
}

std::string authority(const socks::Request& r) {
  const bool v6 = r.host.find(':') != std::string::npos;
  return (v6 ? "[" + r.host + "]" : r.host) + ":" + std::to_string(r.port);
}

// The destination, if it is a tunnel the visitor may reach, opened; else
// `*code` says why not (0x02 not a tunnel or refused by its edge policy,
// 0x04 no holder could be reached).
asio::awaitable<RawOpen> open_destination(TunnelNode& node, proxy::Worker& worker, const socks::Request& r,
                                          const std::string& client_ip, uint8_t* code) {
  route::RouteTablePtr table = worker.routes();
  const route::Pool* pool = entry_pool(*table, r.host, r.port, node.config().domain);
  std::optional<EntryRefusal> refused;
  if (pool) {
    const route::EndpointMeta& meta = pool->endpoints().front()->meta();
    refused = node.check_entry(meta.tag("tunnel_id"), meta.tag("edge_policy"), client_ip, false);
  }
  if (!pool || refused) {
    log::debug("socks-refused", log::Fields()("client", client_ip)("target", authority(r))(
                                    "reason", refused ? refused->reason : "not a tunnel"));
    *code = socks::kNotAllowed;
    node.count_entry("socks", "refused");
    co_return RawOpen{};
  }
  auto& connector = dynamic_cast<TunnelConnector&>(worker.connector());
  RawOpen opened = co_await connector.open_raw(*pool, authority(r), false);
  node.count_entry("socks", opened.stream ? "ok" : "unreachable");
  if (!opened.stream) {
    log::debug("socks-unreachable", log::Fields()("target", authority(r))("reason", opened.detail));
    *code = socks::kHostUnreachable;
  }
  co_return opened;
}

}  // namespace

asio::awaitable<void> serve_socks(TunnelNode& node, const config::SocksConfig& cfg, proxy::Worker& worker, int fd,
                                  asio::ip::tcp::endpoint peer) {
  RawRelay c(worker, fd);
  c.expect_by(route::Clock::now() + kHandshakeTimeout);
  const std::string client_ip = peer.address().to_string();
  const bool authenticated = co_await authenticate(c, cfg);
  if (!authenticated) co_return;
  socks::Request r;
  while ((r = socks::parse_request(buffered(c))).status == socks::Parse::more) {
    const bool more = co_await read_more(c);
    if (!more) co_return;
  }
  if (r.status == socks::Parse::bad) {
    co_await send_reply(c, r.reply);
    co_return;
  }
  c.in().consume(r.length);
  uint8_t code = socks::kSucceeded;
  RawOpen opened = co_await open_destination(node, worker, r, client_ip, &code);
  if (code != socks::kSucceeded) {
    co_await send_reply(c, code);
    co_return;
  }
  const bool replied = co_await send_reply(c, socks::kSucceeded);
  if (!replied) co_return;
  co_await c.relay(std::move(opened.stream), opened.prefix);
}

}  // namespace sy::tunnel
