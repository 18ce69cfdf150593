#pragma once
// Session internals shared by session.cpp (request loop) and forward.cpp
// (attempts, response relay). Not part of the proxy's interface.
#include <optional>
#include <string>

#include "router/proxy/body.hpp"
#include "router/proxy/errors.hpp"
#include "router/http/chunked.hpp"
#include "router/http/head_parser.hpp"
#include "router/proxy/http_head.hpp"
#include "router/proxy/watchdog.hpp"
#include "router/proxy/worker.hpp"
#include "router/route/pool.hpp"

namespace sy::proxy {

using tcp = boost::asio::ip::tcp;

// Bodies with at least this much still to come move by splice (see splice.hpp).
inline constexpr uint64_t kSpliceMin = 32 * 1024;
// How long a client that got an early response may go on sending its body
// before the connection is closed (see Session::linger).
inline constexpr std::chrono::seconds kLinger{2};
// Response heads are read this much at a time (see relay_response).
inline constexpr size_t kHeadRead = 8 * 1024;
// The largest response head accepted from an upstream.
inline constexpr size_t kMaxResponseHead = 1024 * 1024;

// Outcome of one attempt at one endpoint.
struct Attempt {
  enum class Result {
    done,          // a response was relayed (or the client went away mid-response)
    retry,         // nothing reached the backend (or idempotent EOF): try another endpoint
    retry_fresh,   // a pooled connection was dead: same endpoint, new connection
    fail,          // give up: answer with `failure`
  } result = Result::fail;
  Failure failure = Failure::endpoint_failure;
  std::string detail;    // endpoint_failure (<detail>)
  bool keep_client = true;  // false when the client connection must close
};

// The instances an X-CF-APP-INSTANCE (app guid + index) or
// X-CF-PROCESS-INSTANCE (tags.process_id, optional index) request may reach.
// Views into the request head, valid until its body starts streaming.
struct InstanceFilter {
  enum class Kind : uint8_t { any, app, process } kind = Kind::any;
  std::string_view guid, index;
  bool matches(const route::Endpoint& e) const {
    const route::EndpointMeta& m = e.meta();
    if (kind == Kind::app) return m.app_id == guid && m.private_instance_index == index;
    if (!index.empty() && m.private_instance_index != index) return false;
    for (const auto& [key, value] : m.tags)
      if (key == "process_id") return value == guid;
    return false;
  }
  bool in(const route::Pool& pool) const {
    for (const route::EndpointPtr& e : pool.endpoints())
      if (matches(*e)) return true;
    return false;
  }
};

// A request body streamed up while the response is awaited (see attempt()).
struct Exchange {
  route::TimePoint deadline;  // the whole upload must be done by then (endpoint_timeout)
  bool upload_done = false;
  bool response_done = false;
  bool upload_stopped = false;  // the response side ended first and cut the upload short
};

class Session {
 public:
  Session(Worker& worker, int fd);  // takes the accepted, non-blocking fd
  ~Session();
  boost::asio::awaitable<void> run();
  void close_if_idle();
  void abort();  // close both sides now (worker shutdown)
  void check_deadline(route::TimePoint now) { watch_.check(now); }
  void set_peer(const tcp::endpoint& peer);
  void take_scratch();
  void give_scratch();

 private:
  enum class HeadStatus { ok, closed, bad };  // bad: head_error_ says why

  boost::asio::awaitable<bool> read_proxy_header();
  boost::asio::awaitable<HeadStatus> read_head();
  boost::asio::awaitable<bool> serve_request();
  boost::asio::awaitable<bool> forward(const route::Pool& pool, InstanceFilter wanted);
  const route::EndpointPtr* sticky_endpoint(const route::Pool& pool, const route::Tried& tried) const;
  boost::asio::awaitable<Attempt> attempt(const route::EndpointPtr& endpoint, bool allow_reuse);
  boost::asio::awaitable<Attempt> body_and_response(upstream::ByteStream& up, Framing& framing, route::TimePoint deadline,
                                                    const route::Endpoint& endpoint, bool* reusable);
  boost::asio::awaitable<RelayResult> upload_body(upstream::ByteStream& up, Framing& framing, Exchange& ex);
  boost::asio::awaitable<Attempt> response_during_upload(upstream::ByteStream& up, const route::Endpoint& endpoint,
                                                         bool* reusable, Exchange& ex);
  Attempt settle_incomplete_body(Attempt response, const RelayResult& body, const Exchange& ex);
  boost::asio::awaitable<void> linger();
  boost::asio::awaitable<Attempt> relay_response(upstream::ByteStream& up, const route::Endpoint& endpoint,
                                                 bool* upstream_reusable);
  boost::asio::awaitable<void> tunnel_upgraded(upstream::ByteStream& up);
  boost::asio::awaitable<RelayResult> relay_large_or_small(upstream::ByteStream& up, Framing& framing);
  boost::asio::awaitable<bool> send_error(Failure f, std::string_view detail);
  void build_upstream_head(const route::Endpoint& endpoint, std::string_view extra_headers);
  void finish_request(int status, const route::Endpoint* endpoint, std::string_view router_error);
  bool client_keep_alive() const;
  void consume_head();
  http::HeadLimits head_limits() const;
  const route::Pool* lookup(const route::RouteTable& table);

  Worker& worker_;
  ProxyContext& ctx_;
  const config::Config& cfg_;
  io::Socket client_;
  Watchdog watch_;
  IoBuffer cbuf_;  // bytes from the client
  IoBuffer ubuf_;  // bytes from the upstream
  RequestHead req_;
  ResponseHead resp_;
  http::HeadScanner scanner_;
  http::HeadError head_error_ = http::HeadError::none;
  bool head_parsed_ = false;  // req_ holds a valid head
  http::ChunkedDecoder req_chunked_;
  http::ChunkedDecoder resp_chunked_;
  size_t head_len_ = 0;        // request head bytes at the front of cbuf_
  bool body_started_ = false;  // request body bytes were consumed: no retry, head views invalid
  bool request_idempotent_ = false;
  bool request_has_body_ = false;
  bool request_keep_alive_ = true;
  bool request_is_head_ = false;
  bool request_upgrade_ = false;
  bool expect_continue_ = false;  // client sent Expect: 100-continue, not answered yet
  int request_version_ = 11;
  std::string out_;  // the head being written
  std::string host_;
  std::string client_ip_;
  uint16_t client_port_ = 0;
  std::string client_addr() const;  // ip:port for logs
  std::string request_id_;
  std::string sticky_requested_;  // __VCAP_ID__ of a sticky request ("" if none)
  std::string_view route_path_;   // path of the pool's route key ("/" for host-only), for __VCAP_ID__
  route::TimePoint start_;
  long long start_unix_ms_ = 0;
  uint64_t bytes_received_ = 0;
  uint64_t bytes_sent_ = 0;
  route::Clock::duration backend_time_{};  // finished attempts of this request
  route::TimePoint attempt_started_{};      // the attempt in progress, or zero
  bool idle_ = false;
  bool uploading_ = false;  // the request body is being streamed up
  bool linger_ = false;  // a response went out before the request body was all read
  uint32_t lookups_ = 0;
  uint64_t served_ = 0;  // requests on this connection
  bool nodelay_ = false;  // TCP_NODELAY set on the client socket
  bool has_scratch_ = false;
  // Copied from the head for the access log, only when it is on.
  std::string log_method_, log_target_, log_referer_, log_agent_, log_xff_, log_xfp_;
  std::vector<std::pair<std::string, std::string>> log_extra_;
};

}  // namespace sy::proxy
