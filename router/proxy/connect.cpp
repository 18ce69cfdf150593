// CONNECT host:port on the proxy listener (SPEC §7): the handler main wired
// in (the tunnel entry) answers a raw stream or a refusal; with a stream the
// client gets 200 and the connection becomes a relay both ways until both
// sides are done. Without a handler CONNECT stays a 400 (route.cpp).
#include "common/log/log.hpp"
#include "router/proxy/pump.hpp"
#include "router/proxy/session.hpp"
#include "router/proxy/worker.hpp"

namespace sy::proxy {

ConnectAnswer::ConnectAnswer() = default;
ConnectAnswer::ConnectAnswer(ConnectAnswer&&) noexcept = default;
ConnectAnswer& ConnectAnswer::operator=(ConnectAnswer&&) noexcept = default;
ConnectAnswer::~ConnectAnswer() = default;

namespace {

std::string_view phrase(int status) {
  switch (status) {
    case 400: return "Bad Request";
    case 407: return "Proxy Authentication Required";
    case 429: return "Too Many Requests";
    case 502: return "Bad Gateway";
    default: return "Forbidden";
  }
}

std::string refusal(const ConnectAnswer& a, std::string_view request_id) {
  const std::string body = std::to_string(a.status) + " " + std::string(phrase(a.status)) + ": " + a.reason + "\n";
  std::string out = "HTTP/1.1 " + std::to_string(a.status) + " " + std::string(phrase(a.status)) + "\r\n";
  if (a.status == 407) out += "Proxy-Authenticate: Basic realm=\"switchyard\"\r\n";
  out += "Content-Type: text/plain; charset=utf-8\r\nX-Cf-Routererror: " + a.router_error +
         "\r\nX-Vcap-Request-Id: " + std::string(request_id) + "\r\nConnection: close\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
  return out;
}

}  // namespace

// The connection ends with the CONNECT (false): either refused, or relayed
// until both directions are done.
asio::awaitable<bool> Session::serve_connect() {
  begin_request();
  ConnectAnswer a = co_await ctx_.connect(worker_, req_.head, client_.ip);
  req_.host = std::string(req_.head.target);
  consume_head();
  if (!a.stream) {
    log::debug("connect-refused", log::Fields()("remote", client_.address())("target", req_.host)("reason", a.reason));
    out_ = refusal(a, req_.id);
    watch_.set(route::Clock::now() + cfg_.endpoint_timeout, Watchdog::Target::client);
    co_await asio::async_write(client_.stream, asio::buffer(out_), use_tuple);
    finish_request(a.status, nullptr, a.router_error);
    co_return false;
  }
  out_ = "HTTP/1.1 200 Connection Established\r\n\r\n" + a.prefix;
  watch_.set(route::Clock::now() + cfg_.endpoint_timeout, Watchdog::Target::client);
  auto [ec, n] = co_await asio::async_write(client_.stream, asio::buffer(out_), use_tuple);
  finish_request(200, nullptr, "");
  if (ec) {
    a.stream->close();
    co_return false;
  }
  watch_.clear();  // a relay may idle as long as both ends like
  watch_.set_upstream(a.stream.get());
  co_await pump_both(client_.stream, *a.stream, client_.in, up_.in);
  watch_.set_upstream(nullptr);
  a.stream->close();
  co_return false;
}

}  // namespace sy::proxy
