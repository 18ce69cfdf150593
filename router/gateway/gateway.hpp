#pragma once
// The sealed-address TCP gateway (SPEC §7; seed 004 = xindong/frontd's
// protocol): a client connects, sends one line — base64 of an `openssl enc
// -aes-256-cbc -salt` sealed "host:port" — and `\n`; the gateway answers one
// line, `200` (then relays raw bytes both ways, the bytes sent after the line
// first), `400` (the line could not be read: error, EOF, over 4 KiB, or not
// within read_timeout), `401` (cannot decrypt), `502` (connect refused or
// unreachable, or a name that does not resolve) or `504` (connect timed out).
//
// Gateway: what every worker's gateway listener shares (the config and the
// counters; immutable apart from the counters' atomics). GatewaySession: one
// accepted client, a proxy::Connection of the worker that accepted it, so the
// worker's tick enforces its read and connect deadlines and drain/stop reach
// it.
//
// Threading: Gateway is built on the main thread and read by every worker;
// a GatewaySession lives on its accepting worker's thread only.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <array>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "router/gateway/sealed.hpp"
#include "router/io/socket.hpp"
#include "router/proxy/connection.hpp"
#include "router/proxy/worker.hpp"
#include "status/metrics.hpp"

namespace sy::gateway {

enum class Status : uint16_t { ok = 200, bad_request = 400, cannot_decrypt = 401, bad_gateway = 502, timeout = 504 };

// sealed_gateway_connections_total{result} and sealed_gateway_bytes_total{direction}.
struct GatewayMetrics {
  explicit GatewayMetrics(metrics::Registry& registry);
  void count(Status status);
  std::array<metrics::Counter*, 5> results{};  // 200, 400, 401, 502, 504
  metrics::Counter* up = nullptr;    // client -> target
  metrics::Counter* down = nullptr;  // target -> client
};

class Gateway {
 public:
  Gateway(const config::SealedGatewayConfig& config, metrics::Registry& registry);
  // Null when `sealed_gateway:` is not configured.
  static std::unique_ptr<Gateway> from_config(const config::Config& config, metrics::Registry& registry);

  // The listener every worker binds (SO_REUSEPORT: the workers share the port).
  proxy::ListenerSpec listener();
  const config::SealedGatewayConfig& config() const { return config_; }
  GatewayMetrics& metrics() { return metrics_; }

 private:
  config::SealedGatewayConfig config_;
  GatewayMetrics metrics_;
};

class GatewaySession final : public proxy::Connection {
 public:
  static constexpr size_t kMaxLine = 4096;  // the line with its '\n'
  static constexpr std::chrono::seconds kLinger{1};  // after an error answer
  static constexpr size_t kLingerBytes = 64 * 1024;

  GatewaySession(Gateway& gateway, proxy::Worker& worker, int fd);
  ~GatewaySession() override;
  GatewaySession(const GatewaySession&) = delete;
  GatewaySession& operator=(const GatewaySession&) = delete;
  boost::asio::awaitable<void> run();

  void check_deadline(route::TimePoint now) override;
  void drain() override;
  void abort() override;

 private:
  enum class Phase : uint8_t { line, connect, relay };
  // The line without its '\n' (what follows it stays in in_ from rest_); nullopt = 400.
  boost::asio::awaitable<std::optional<std::string>> read_line();
  boost::asio::awaitable<Status> connect(const Target& target);
  boost::asio::awaitable<std::optional<std::vector<boost::asio::ip::tcp::endpoint>>> resolve(const Target& target);
  boost::asio::awaitable<bool> connect_one(const boost::asio::ip::tcp::endpoint& endpoint);
  boost::asio::awaitable<bool> answer(Status status);
  boost::asio::awaitable<void> linger();
  boost::asio::awaitable<void> relay();
  boost::asio::awaitable<void> pump(io::Socket& from, io::Socket& to, metrics::Counter* bytes);
  void fail_relay();

  Gateway& gateway_;
  proxy::Worker& worker_;
  io::Socket client_;
  std::unique_ptr<io::Socket> upstream_;
  std::unique_ptr<boost::asio::ip::tcp::resolver> resolver_;
  std::string in_;    // the line and what came with it
  size_t rest_ = 0;   // in_[rest_..] came after the line
  Phase phase_ = Phase::line;
  route::TimePoint deadline_;
  bool timed_out_ = false;
  bool stopped_ = false;  // aborted, or drained before the relay: end without an answer
};

// The gateway listener's ServeFn body: one session, to its end.
boost::asio::awaitable<void> serve(Gateway& gateway, proxy::Worker& worker, int fd);

}  // namespace sy::gateway
