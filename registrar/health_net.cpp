// HTTP and TCP health checks (see health_check.hpp), and the dispatch by kind.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include "registrar/health_check.hpp"

namespace sy::registrar {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

std::string timeout_detail(Millis timeout) { return "timeout after " + std::to_string(timeout.count()) + "ms"; }

struct Resolved {
  std::vector<tcp::endpoint> endpoints;
  std::string error;  // empty when resolved
};

// An IP literal directly; a name through the resolver, bounded by `deadline`.
asio::awaitable<Resolved> resolve(const std::string& host, uint16_t port, Clock::time_point deadline) {
  using namespace asio::experimental::awaitable_operators;
  Resolved out;
  error_code ec;
  asio::ip::address address = asio::ip::make_address(host, ec);
  if (!ec) {
    out.endpoints.emplace_back(address, port);
    co_return out;
  }
  auto executor = co_await asio::this_coro::executor;
  tcp::resolver resolver(executor);
  asio::steady_timer timer(executor, deadline);
  auto raced = co_await (resolver.async_resolve(host, std::to_string(port), use_tuple) || timer.async_wait(use_tuple));
  if (raced.index() == 1) {
    out.error = "resolve: timeout";
    co_return out;
  }
  auto result = std::get<0>(raced);
  auto [rec, results] = result;
  if (rec || results.empty()) {
    out.error = "resolve: " + (rec ? rec.message() : std::string("no addresses"));
    co_return out;
  }
  for (const auto& entry : results) out.endpoints.push_back(entry.endpoint());
  co_return out;
}

// Connects `stream` (whose expiry is already set) to host:port.
asio::awaitable<std::string> connect(beast::tcp_stream& stream, const std::string& host, uint16_t port,
                                     Clock::time_point deadline, Millis timeout) {
  Resolved resolved = co_await resolve(host, port, deadline);
  if (!resolved.error.empty()) co_return resolved.error;
  auto connected = co_await stream.async_connect(resolved.endpoints, use_tuple);
  auto [ec, endpoint] = connected;
  if (ec == beast::error::timeout) co_return timeout_detail(timeout);
  if (ec) co_return "connect: " + ec.message();
  co_return std::string();
}

}  // namespace

asio::awaitable<CheckResult> run_check(const HealthCheck& check) {
  if (const auto* h = std::get_if<HttpCheck>(&check.probe)) {
    CheckResult r = co_await run_http_check(*h, check.timeout);
    co_return r;
  }
  if (const auto* t = std::get_if<TcpCheck>(&check.probe)) {
    CheckResult r = co_await run_tcp_check(*t, check.timeout);
    co_return r;
  }
  CheckResult r = co_await run_script_check(std::get<ScriptCheck>(check.probe), check.timeout);
  co_return r;
}

asio::awaitable<CheckResult> run_tcp_check(const TcpCheck& check, Millis timeout) {
  auto executor = co_await asio::this_coro::executor;
  beast::tcp_stream stream(executor);
  Clock::time_point deadline = Clock::now() + timeout;
  stream.expires_at(deadline);
  std::string error = co_await connect(stream, check.host, check.port, deadline, timeout);
  error_code ignored;
  stream.socket().close(ignored);
  co_return CheckResult{error.empty(), error.empty() ? "connected" : error};
}

asio::awaitable<CheckResult> run_http_check(const HttpCheck& check, Millis timeout) {
  auto executor = co_await asio::this_coro::executor;
  beast::tcp_stream stream(executor);
  Clock::time_point deadline = Clock::now() + timeout;
  stream.expires_at(deadline);
  std::string error = co_await connect(stream, check.host, check.port, deadline, timeout);
  if (!error.empty()) co_return CheckResult{false, error};

  http::request<http::empty_body> request{http::verb::get, check.target, 11};
  bool default_port = check.port == 80;
  bool v6 = check.host.find(':') != std::string::npos;
  std::string host = v6 ? "[" + check.host + "]" : check.host;
  request.set(http::field::host, default_port ? host : host + ":" + std::to_string(check.port));
  request.set(http::field::user_agent, "switchyard-registrar");
  request.set(http::field::connection, "close");
  auto written = co_await http::async_write(stream, request, use_tuple);
  auto [wec, wn] = written;
  if (wec == beast::error::timeout) co_return CheckResult{false, timeout_detail(timeout)};
  if (wec) co_return CheckResult{false, "write: " + wec.message()};

  beast::flat_buffer buffer;
  http::response_parser<http::empty_body> parser;
  parser.header_limit(64 * 1024);
  auto read = co_await http::async_read_header(stream, buffer, parser, use_tuple);
  auto [rec, rn] = read;
  error_code ignored;
  stream.socket().close(ignored);
  if (rec == beast::error::timeout) co_return CheckResult{false, timeout_detail(timeout)};
  if (rec) co_return CheckResult{false, "read: " + rec.message()};
  int status = static_cast<int>(parser.get().result_int());
  co_return CheckResult{status == check.expected_status, "status " + std::to_string(status)};
}

}  // namespace sy::registrar
