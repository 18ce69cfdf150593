// switchyard-echo: a small HTTP/1.1 + WebSocket backend for the tests and the
// demo. One thread, one coroutine per connection, keep-alive, bodies streamed
// in both directions with constant memory.
//
//   switchyard-echo [--host 127.0.0.1] [--port N (0 = any)] [--name NAME]
//
// Prints exactly one line `listening HOST:PORT` on stdout once accepting.
// Endpoints: /download?bytes=N[&chunked=1], /upload*, /status/CODE,
// /slow?ms=N, /stats (slow=<requests waiting in /slow>), /close, /reject
// (413 before reading the body), /ws (WebSocket echo),
// /headers-set?name=X&value=Y, and anything else echoes the request
// (name, method, target, headers).
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <array>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr size_t kChunk = 64 * 1024;

struct EchoConfig {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  std::string name = "echo";
};

struct Target {
  std::string path;
  std::map<std::string, std::string> query;
};

std::string percent_decode(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      const std::string hex(text.substr(i + 1, 2));
      char* end = nullptr;
      const long value = std::strtol(hex.c_str(), &end, 16);
      if (end == hex.c_str() + 2) {
        out.push_back(static_cast<char>(value));
        i += 2;
        continue;
      }
    }
    out.push_back(text[i] == '+' ? ' ' : text[i]);
  }
  return out;
}

Target parse_target(std::string_view target) {
  Target result;
  const size_t question = target.find('?');
  result.path = std::string(target.substr(0, question));
  if (question == std::string_view::npos) return result;
  std::string_view query = target.substr(question + 1);
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const size_t eq = pair.find('=');
    const std::string key = percent_decode(pair.substr(0, eq));
    result.query[key] = eq == std::string_view::npos ? "" : percent_decode(pair.substr(eq + 1));
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
  }
  return result;
}

uint64_t query_number(const Target& target, const std::string& key) {
  const auto it = target.query.find(key);
  return it == target.query.end() ? 0 : std::strtoull(it->second.c_str(), nullptr, 10);
}

// 64 KiB of a 64-byte repeating pattern, so consecutive chunks continue it.
char* pattern_chunk() {
  static std::array<char, kChunk> chunk = [] {
    std::array<char, kChunk> bytes{};
    constexpr std::string_view kPattern = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-\n";
    for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = kPattern[i % kPattern.size()];
    return bytes;
  }();
  return chunk.data();
}

std::string echo_text(const EchoConfig& config, const http::request_header<>& req) {
  std::string body = "name=" + config.name + "\nmethod=" + std::string(req.method_string()) +
                     "\ntarget=" + std::string(req.target()) + "\n";
  for (const auto& field : req) {
    std::string name(field.name_string());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    body += name + ": " + std::string(field.value()) + "\n";
  }
  return body;
}

asio::awaitable<bool> send_text(beast::tcp_stream& stream, http::response<http::string_body>& res) {
  res.prepare_payload();
  auto result = co_await http::async_write(stream, res, use_tuple);
  auto [ec, written] = result;
  co_return !ec;
}

// Streams `bytes` bytes of the pattern without holding more than one chunk.
asio::awaitable<bool> send_download(beast::tcp_stream& stream, const EchoConfig& config, unsigned version,
                                    bool keep_alive, uint64_t bytes, bool chunked) {
  http::response<http::buffer_body> res{http::status::ok, version};
  res.set(http::field::content_type, "application/octet-stream");
  res.set("X-Echo-Name", config.name);
  res.keep_alive(keep_alive);
  if (chunked) {
    res.chunked(true);
  } else {
    res.content_length(bytes);
  }
  res.body().data = nullptr;
  res.body().more = true;
  http::response_serializer<http::buffer_body> serializer{res};
  auto head_result = co_await http::async_write_header(stream, serializer, use_tuple);
  auto [head_ec, head_n] = head_result;
  if (head_ec) co_return false;
  uint64_t remaining = bytes;
  bool last = false;
  while (!last) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(remaining, kChunk));
    last = n == 0;
    res.body().data = last ? nullptr : pattern_chunk();
    res.body().size = n;
    res.body().more = !last;
    auto write_result = co_await http::async_write(stream, serializer, use_tuple);
    auto [ec, written] = write_result;
    if (ec && ec != http::error::need_buffer) co_return false;
    remaining -= n;
  }
  co_return true;
}

// Reads (and counts) the request body in 64 KiB pieces.
asio::awaitable<std::optional<uint64_t>> read_body(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                                  http::request_parser<http::buffer_body>& parser) {
  std::array<char, kChunk> chunk;
  uint64_t total = 0;
  while (!parser.is_done()) {
    parser.get().body().data = chunk.data();
    parser.get().body().size = chunk.size();
    auto read_result = co_await http::async_read(stream, buffer, parser, use_tuple);
    auto [ec, n] = read_result;
    if (ec && ec != http::error::need_buffer) co_return std::nullopt;
    total += chunk.size() - parser.get().body().size;
  }
  co_return total;
}

asio::awaitable<void> run_websocket(beast::tcp_stream stream, http::request<http::empty_body> req) {
  websocket::stream<beast::tcp_stream> ws(std::move(stream));
  ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
  ws.read_message_max(64 * 1024 * 1024);
  auto accept_result = co_await ws.async_accept(req, use_tuple);
  auto [accept_ec] = accept_result;
  if (accept_ec) co_return;
  beast::flat_buffer buffer;
  while (true) {
    auto read_result = co_await ws.async_read(buffer, use_tuple);
    auto [read_ec, n] = read_result;
    if (read_ec) co_return;  // closed by the peer (websocket::error::closed) or broken
    ws.text(ws.got_text());
    auto write_result = co_await ws.async_write(buffer.data(), use_tuple);
    auto [write_ec, written] = write_result;
    if (write_ec) co_return;
    buffer.consume(buffer.size());
  }
}

// /slow requests waiting right now (one thread: no lock).
int slow_in_flight = 0;

// Answers one request whose head has been read and body consumed.
asio::awaitable<bool> respond(beast::tcp_stream& stream, const EchoConfig& config, const http::request_header<>& req,
                              const Target& target, uint64_t body_bytes, bool keep_alive) {
  if (target.path == "/download") {
    const bool chunked = target.query.count("chunked") != 0 && target.query.at("chunked") == "1";
    co_return co_await send_download(stream, config, req.version(), keep_alive, query_number(target, "bytes"), chunked);
  }
  http::response<http::string_body> res{http::status::ok, req.version()};
  res.set(http::field::content_type, "text/plain");
  res.set("X-Echo-Name", config.name);
  res.keep_alive(keep_alive);
  if (target.path.rfind("/upload", 0) == 0) {
    res.body() = "received=" + std::to_string(body_bytes) + "\n";
  } else if (target.path.rfind("/status/", 0) == 0) {
    const unsigned code = static_cast<unsigned>(std::strtoul(target.path.c_str() + 8, nullptr, 10));
    if (code < 200 || code > 599) {
      res.result(http::status::bad_request);
      res.body() = "bad status code\n";
    } else {
      res.result(code);
      if (code != 204 && code != 304) res.body() = "status=" + std::to_string(code) + "\n";
    }
  } else if (target.path == "/slow") {
    asio::steady_timer timer(stream.get_executor());
    timer.expires_after(std::chrono::milliseconds(query_number(target, "ms")));
    ++slow_in_flight;
    auto wait_result = co_await timer.async_wait(use_tuple);
    --slow_in_flight;
    auto [wait_ec] = wait_result;
    if (wait_ec) co_return false;
    res.body() = echo_text(config, req);
  } else if (target.path == "/stats") {  // for tests: a positive signal that requests arrived
    res.body() = "slow=" + std::to_string(slow_in_flight) + "\n";
  } else if (target.path == "/headers-set") {
    const auto name = target.query.find("name");
    const auto value = target.query.find("value");
    if (name != target.query.end() && !name->second.empty() && value != target.query.end()) {
      res.set(name->second, value->second);
    }
    res.body() = echo_text(config, req);
  } else {
    res.body() = echo_text(config, req);
  }
  co_return co_await send_text(stream, res);
}

asio::awaitable<bool> send_continue(beast::tcp_stream& stream, unsigned version) {
  http::response<http::empty_body> res{http::status::continue_, version};
  auto result = co_await http::async_write(stream, res, use_tuple);
  auto [ec, n] = result;
  co_return !ec;
}

// /reject: 413 right after the head, without reading the body (as a server
// enforcing an upload limit does), then half-close and hold the connection
// for 3 s without reading, so the peer sees a FIN rather than a reset.
asio::awaitable<void> reject_early(beast::tcp_stream& stream, unsigned version) {
  http::response<http::string_body> res{http::status::payload_too_large, version};
  res.set(http::field::connection, "close");
  res.body() = "rejected\n";
  res.prepare_payload();
  auto [ec, n] = co_await http::async_write(stream, res, use_tuple);
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  if (!ec) {
    asio::steady_timer hold(stream.get_executor(), std::chrono::seconds(3));
    co_await hold.async_wait(use_tuple);
  }
  stream.socket().close(ignored);
}

asio::awaitable<void> run_session(tcp::socket socket, const EchoConfig& config) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  buffer.reserve(kChunk);  // Beast reads at most the buffer's free capacity: keep reads large
  while (true) {
    http::request_parser<http::buffer_body> parser;
    parser.body_limit(boost::none);
    parser.header_limit(1024 * 1024);
    auto head_result = co_await http::async_read_header(stream, buffer, parser, use_tuple);
    auto [head_ec, head_n] = head_result;
    if (head_ec) break;
    const http::request_header<>& req = parser.get().base();
    const Target target = parse_target(req.target());
    if (websocket::is_upgrade(parser.get())) {
      http::request<http::empty_body> upgrade(req);
      co_await run_websocket(std::move(stream), std::move(upgrade));
      co_return;
    }
    if (target.path == "/close") break;
    if (target.path == "/reject") {  // answers before reading the body, then stops reading
      co_await reject_early(stream, req.version());
      co_return;
    }
    if (beast::iequals(req[http::field::expect], "100-continue") && !parser.is_done()) {
      const bool sent = co_await send_continue(stream, req.version());
      if (!sent) break;
    }
    const std::optional<uint64_t> body_bytes = co_await read_body(stream, buffer, parser);
    if (!body_bytes) break;
    const bool ok = co_await respond(stream, config, req, target, *body_bytes, parser.get().keep_alive());
    if (!ok || !parser.get().keep_alive()) break;
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  stream.socket().close(ignored);
}

asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, const EchoConfig& config) {
  while (true) {
    auto accept_result = co_await acceptor.async_accept(use_tuple);
    auto& [ec, socket] = accept_result;
    if (ec == asio::error::operation_aborted) co_return;
    if (ec) continue;
    asio::co_spawn(acceptor.get_executor(), run_session(std::move(socket), config), asio::detached);
  }
}

bool parse_args(int argc, char** argv, EchoConfig& config) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--port" && has_value) {
      config.port = static_cast<uint16_t>(std::strtoul(argv[++i], nullptr, 10));
    } else if (arg == "--host" && has_value) {
      config.host = argv[++i];
    } else if (arg == "--name" && has_value) {
      config.name = argv[++i];
    } else {
      std::fprintf(stderr, "usage: switchyard-echo [--host 127.0.0.1] [--port N] [--name NAME]\n");
      return false;
    }
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  EchoConfig config;
  if (!parse_args(argc, argv, config)) return 2;
  asio::io_context ioc(1);
  beast::error_code ec;
  const auto address = asio::ip::make_address(config.host, ec);
  if (ec) {
    std::fprintf(stderr, "switchyard-echo: bad --host %s: %s\n", config.host.c_str(), ec.message().c_str());
    return 2;
  }
  tcp::acceptor acceptor(ioc);
  const tcp::endpoint endpoint(address, config.port);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    std::fprintf(stderr, "switchyard-echo: cannot listen on %s:%u: %s\n", config.host.c_str(),
                 static_cast<unsigned>(config.port), ec.message().c_str());
    return 1;
  }
  const uint16_t port = acceptor.local_endpoint().port();
  std::printf("listening %s:%u\n", config.host.c_str(), static_cast<unsigned>(port));
  std::fflush(stdout);
  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&ioc](const beast::error_code&, int) { ioc.stop(); });
  asio::co_spawn(ioc, accept_loop(acceptor, config), asio::detached);
  ioc.run();
  return 0;
}
