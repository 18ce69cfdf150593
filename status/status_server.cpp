#include "status/status_server.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <map>

#include "common/net/accept_backoff.hpp"
#include "common/log/log.hpp"

namespace sy::status {
namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

std::string base64(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  out.resize(n);
  return out;
}

void write_endpoint(rapidjson::Writer<rapidjson::StringBuffer>& w, const route::Endpoint& e) {
  const route::EndpointMeta& m = e.meta();
  w.StartObject();
  w.Key("address");
  w.String(e.address());
  w.Key("availability_zone");
  w.String(m.availability_zone);
  w.Key("protocol");
  w.String(e.protocol() == route::Protocol::http2 ? "http2" : "http1");
  w.Key("tls");
  w.Bool(e.tls());
  w.Key("ttl");
  w.Int64(e.stale_threshold().count());
  w.Key("tags");
  w.StartObject();
  for (const auto& [k, v] : m.tags) {
    w.Key(k.c_str(), static_cast<rapidjson::SizeType>(k.size()));
    w.String(v.c_str(), static_cast<rapidjson::SizeType>(v.size()));
  }
  w.EndObject();
  auto optional = [&](const char* key, const std::string& value) {
    if (value.empty()) return;
    w.Key(key);
    w.String(value);
  };
  optional("private_instance_id", m.private_instance_id);
  optional("route_service_url", m.route_service_url);
  optional("isolation_segment", m.isolation_segment);
  optional("server_cert_domain_san", m.server_cert_domain_san);
  if (e.algorithm()) {
    w.Key("load_balancing_algorithm");
    w.String(*e.algorithm() == route::Algorithm::least_connection ? "least-connection" : "round-robin");
  }
  w.EndObject();
}

}  // namespace

bool basic_auth_ok(std::string_view authorization, const std::string& user, const std::string& pass) {
  if (user.empty() && pass.empty()) return false;  // no credentials configured: /routes stays closed
  constexpr std::string_view kPrefix = "basic ";
  if (authorization.size() < kPrefix.size()) return false;
  for (size_t i = 0; i < kPrefix.size(); ++i)  // the scheme is case-insensitive (RFC 7617)
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != kPrefix[i]) return false;
  std::string expected = base64(user + ":" + pass);
  std::string_view got = authorization.substr(kPrefix.size());
  return got.size() == expected.size() && CRYPTO_memcmp(got.data(), expected.data(), got.size()) == 0;
}

std::string routes_json(const route::RouteTable& table) {
  std::map<std::string, const route::Pool*> sorted;
  table.for_each_pool([&](const route::Pool& p) { sorted.emplace(p.key(), &p); });
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  for (const auto& [key, pool] : sorted) {
    w.Key(key.c_str(), static_cast<rapidjson::SizeType>(key.size()));
    w.StartArray();
    for (const auto& e : pool->endpoints()) write_endpoint(w, *e);
    w.EndArray();
  }
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

StatusServer::StatusServer(asio::io_context& io, StatusOptions options, const route::SnapshotHolder& routes,
                           const metrics::Registry& registry, const std::atomic<Health>& health,
                           std::function<void()> refresh)
    : io_(io),
      options_(std::move(options)),
      routes_(routes),
      registry_(registry),
      health_(health),
      refresh_(std::move(refresh)),
      acceptor_(io) {
  add_builtin_handlers();
}

void StatusServer::start(const tcp::endpoint& endpoint) {
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(asio::socket_base::reuse_address(true));
  acceptor_.bind(endpoint);
  acceptor_.listen();
  asio::co_spawn(io_, accept_loop(), asio::detached);
}

void StatusServer::stop() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
}

uint16_t StatusServer::port() const { return acceptor_.local_endpoint().port(); }

asio::awaitable<void> StatusServer::accept_loop() {
  AcceptBackoff backoff(options_.routes_only ? "routes" : "status");
  asio::steady_timer pause(io_);
  for (;;) {
    auto [ec, socket] = co_await acceptor_.async_accept(use_tuple);
    if (!acceptor_.is_open()) co_return;
    if (ec) {
      auto wait = backoff.failed(ec.value(), std::chrono::steady_clock::now());
      if (wait.count() > 0) {  // out of descriptors: the listener stays readable, so do not spin
        pause.expires_after(wait);
        co_await pause.async_wait(use_tuple);
      }
      continue;
    }
    backoff.succeeded();
    if (open_ >= kMaxConnections && !evict_oldest_waiting()) continue;  // the socket closes as it goes out of scope
    asio::co_spawn(io_, serve(std::move(socket)), asio::detached);
  }
}

// Closes the connection that has waited longest for its head; its serve()
// then ends on the failed read. False when none is waiting.
bool StatusServer::evict_oldest_waiting() {
  if (waiting_.empty()) return false;
  const Waiting oldest = waiting_.front();
  waiting_.pop_front();
  *oldest.listed = false;
  boost::system::error_code ignored;
  oldest.socket->close(ignored);
  return true;
}

StatusResponse plain(int status, std::string body) {
  StatusResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

// GCC 12 reports -Wmismatched-new-delete on this coroutine's frame (Asio's
// awaitable frames pair their own operator new and delete; a known false
// positive of GCC's coroutine lowering with several awaits at -O2).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
asio::awaitable<void> StatusServer::serve(tcp::socket socket) {
  ++open_;
  // A slow or silent client gets 10 s (gorouter's routes listener timeout).
  asio::steady_timer timer(io_, std::chrono::seconds(10));
  auto alive = std::make_shared<bool>(true);
  timer.async_wait([alive, &socket](const boost::system::error_code& ec) {
    if (!ec && *alive) socket.close();
  });
  // Only the head is read: no request here has a body, and one that comes
  // is never buffered (the connection closes after the answer).
  boost::beast::flat_buffer buf(kMaxHead);
  http::request_parser<http::empty_body> parser;
  parser.header_limit(kMaxHead);
  bool listed = true;
  const auto waiting = waiting_.insert(waiting_.end(), Waiting{&socket, &listed});
  auto [rec, rn] = co_await http::async_read_header(socket, buf, parser, use_tuple);
  if (listed) waiting_.erase(waiting);
  const http::request<http::empty_body>& req = parser.get();
  StatusResponse answer;
  if (rec) {
    answer = plain(400, "400 Bad Request\n");
  } else if (req.method() != http::verb::get && req.method() != http::verb::head) {
    answer = plain(405, "405 Method Not Allowed\n");
  } else {
    const std::string_view target = req.target();
    const size_t q = target.find('?');
    const std::string_view query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
    respond(StatusRequest{target.substr(0, q), req[http::field::authorization], query}, answer);
  }
  http::response<http::string_body> res{static_cast<http::status>(answer.status), 11};
  res.keep_alive(false);
  res.set(http::field::content_type, answer.content_type);
  for (const auto& [name, value] : answer.headers) res.set(name, value);
  res.body() = std::move(answer.body);
  res.prepare_payload();
  if (!rec && req.method() == http::verb::head) res.body().clear();  // Content-Length stays: the GET's
  auto written = co_await http::async_write(socket, res, use_tuple);
  (void)written;  // the connection closes either way
  *alive = false;
  timer.cancel();
  boost::system::error_code ignored;
  socket.shutdown(tcp::socket::shutdown_send, ignored);
  --open_;
}
#pragma GCC diagnostic pop

void StatusServer::handle(std::string path, bool needs_auth, Handler handler) {
  handlers_[std::move(path)] = Route{needs_auth, std::move(handler)};
}

void StatusServer::respond(const StatusRequest& req, StatusResponse& res) const {
  auto it = handlers_.find(std::string(req.path));
  if (it == handlers_.end() || (options_.routes_only && req.path != "/routes")) {
    res = plain(404, "404 Not Found\n");
    return;
  }
  if (it->second.needs_auth && !basic_auth_ok(req.authorization, options_.user, options_.pass)) {
    res = plain(401, "401 Unauthorized\n");
    res.headers.emplace_back("WWW-Authenticate", "Basic realm=\"switchyard\"");
    return;
  }
  it->second.handler(req, res);
}

void StatusServer::add_builtin_handlers() {
  auto health = [this](const StatusRequest&, StatusResponse& res) {
    const Health h = health_.load();
    res.status = h == Health::healthy ? 200 : 503;
    res.headers = {{"Cache-Control", "private, max-age=0"}, {"Expires", "0"}};
    res.body = h == Health::healthy ? "ok\n" : h == Health::starting ? "starting\n" : "draining\n";
  };
  handle("/health", false, health);
  handle("/healthz", false, health);
  handle("/is-process-alive-do-not-use-for-loadbalancing", false,
         [](const StatusRequest&, StatusResponse& res) { res.body = "ok\n"; });
  handle("/routes", true, [this](const StatusRequest&, StatusResponse& res) {
    uint64_t generation;
    res.content_type = "application/json";
    res.body = routes_json(*routes_.load(&generation));
  });
  handle("/metrics", false, [this](const StatusRequest&, StatusResponse& res) {
    if (refresh_) refresh_();
    res.content_type = "text/plain; version=0.0.4; charset=utf-8";
    res.body = registry_.serialize();
  });
}

}  // namespace sy::status
