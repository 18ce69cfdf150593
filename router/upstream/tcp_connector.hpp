#pragma once
// TcpConnector: TCP (TLS for endpoints registered with tls_port) to
// `host:port`, with a per-worker keep-alive pool
// (LIFO per address, bounded, idle connections dropped after idle_timeout or
// when the backend closed them). Not thread-safe: one per worker.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <atomic>
#include <chrono>
#include <string>
#include <unordered_map>
#include <vector>

#include "router/upstream/connector.hpp"
#include "router/upstream/tcp_stream.hpp"
#include "router/upstream/tls_stream.hpp"

namespace sy::upstream {

struct TcpConnectorOptions {
  TlsOptions tls;  // for endpoints registered with tls_port
  std::chrono::milliseconds dial_timeout{5000};
  std::chrono::seconds idle_timeout{90};
  size_t max_idle_per_host = 100;  // 0 disables keep-alive to backends
  // Kept equal to the idle connections in the pool, for the metrics (one per worker; optional).
  std::atomic<int64_t>* idle_gauge = nullptr;
};

class TcpConnector final : public Connector {
 public:
  TcpConnector(asio::io_context& io, io::Poller& poller, TcpConnectorOptions options);
  asio::awaitable<OpenResult> open(const route::Endpoint& endpoint, const OpenRequest& request) override;
  void release(const route::Endpoint& endpoint, std::unique_ptr<ByteStream> stream) override;
  // Drops idle connections older than idle_timeout (called from a worker timer).
  void sweep(route::TimePoint now) override;

 private:
  struct Idle {
    std::unique_ptr<ByteStream> stream;
    route::TimePoint since;
  };
  struct Stream {
    std::unique_ptr<ByteStream> stream;  // null on failure (ec)
    io::Socket* socket = nullptr;
    TlsStream* tls = nullptr;
    error_code ec;
  };
  Stream make_stream(bool tls);
  asio::awaitable<OpenResult> dial(const route::Endpoint& endpoint, route::TimePoint deadline);
  asio::awaitable<OpenResult> handshake(TlsStream& tls, const route::Endpoint& endpoint, asio::steady_timer& timer);
  void count_idle(int64_t delta);

  asio::io_context& io_;
  io::Poller& poller_;
  TcpConnectorOptions options_;
  std::unique_ptr<asio::ssl::context> tls_context_;  // built on the first TLS endpoint
  std::unordered_map<std::string, std::vector<Idle>> idle_;
  int64_t idle_count_ = 0;
};

}  // namespace sy::upstream
