#pragma once
// Session: one client connection, served by one coroutine that owns it
// (Beast's do_session shape). A request goes through phases, each a function
// with one owner, in the files named here:
//
//   read head        session.cpp   strict parse (router/http), PROXY header
//   route            route.cpp     pure: host, instance headers, pool
//   choose endpoint  forward.cpp   pool + affinity + tried set, retries by the outcome table
//   open, send       exchange.cpp  Connector::open, head + body up (while the answer is awaited)
//   relay response   response.cpp  head rewrite, body, 1xx, upgrade
//   finish           finish.cpp    access log, metrics; keep-alive or close
//
// Failures anywhere become an outcome::Failure, answered from its table row
// (router/outcome). State is a few structs, one per lifetime: the client
// connection, the current request, the current attempt's upstream, and the
// record the access log gets.
//
// Threading: the accepting worker only.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "router/http/chunked.hpp"
#include "router/http/head_parser.hpp"
#include "router/outcome/outcome.hpp"
#include "router/proxy/access_log.hpp"
#include "router/proxy/body.hpp"
#include "router/proxy/client_stream.hpp"
#include "router/proxy/connection.hpp"
#include "router/proxy/http_head.hpp"
#include "router/proxy/io_buffer.hpp"
#include "router/proxy/route.hpp"
#include "router/proxy/watchdog.hpp"
#include "router/route/pool.hpp"
#include "router/upstream/connector.hpp"

namespace sy::proxy {

class Worker;
struct ProxyContext;
using outcome::Failure;
using tcp = boost::asio::ip::tcp;

// "a.b.c.d" for IPv4 (by hand: inet_ntop goes through sprintf), else Asio's text.
void format_peer(const tcp::endpoint& peer, std::string* out);

// Serves the accepted socket `fd` (non-blocking, from `peer`) until the
// connection ends; takes ownership of it. Never throws.
boost::asio::awaitable<void> serve_connection(Worker& worker, int fd, boost::asio::ip::tcp::endpoint peer);
// The same on the HTTPS listener: a TLS handshake with `tls` first (after the
// PROXY header when enable_proxy is on).
boost::asio::awaitable<void> serve_tls_connection(Worker& worker, int fd, boost::asio::ip::tcp::endpoint peer,
                                                  std::shared_ptr<const tls::ServerContexts> tls);

// How long a client has for its TLS handshake (gorouter's Go server: 10 s).
inline constexpr std::chrono::seconds kTlsHandshakeTimeout{10};
// How long a closing TLS connection waits for the client's close_notify.
inline constexpr std::chrono::seconds kTlsCloseWait{1};

// Bodies with at least this much still to come move by splice (see splice.hpp).
inline constexpr uint64_t kSpliceMin = 32 * 1024;
// How long a client that got an early answer may go on sending its body
// before the connection is closed (see Session::linger).
inline constexpr std::chrono::seconds kLinger{2};
// Response heads are read this much at a time, so a large body stays in the
// socket for splice.
inline constexpr size_t kHeadRead = 8 * 1024;
// The largest response head accepted from an upstream.
inline constexpr size_t kMaxResponseHead = 1024 * 1024;

// The client connection, for as long as it is open.
struct ClientSide {
  ClientSide(io::Poller& poller, int fd, BufferPool& buffers, size_t max_buffer)
      : stream(poller, fd), in(buffers, max_buffer) {}
  ClientStream stream;  // plain, or TLS on the HTTPS listener
  std::string client_cert;  // TLS with a client certificate: X-Forwarded-Client-Cert's value
  IoBuffer in;        // bytes from the client
  std::string ip;     // X-Forwarded-For and logs (the PROXY header's source when enabled)
  uint16_t port = 0;
  uint64_t served = 0;    // requests on this connection
  bool nodelay = false;   // TCP_NODELAY set
  bool idle = false;      // waiting for a request: a drain may close it
  bool linger = false;    // an answer went out before the request body was all read
  std::string address() const { return ip + ':' + std::to_string(port); }
};

// One request, from its head to the end of its answer. The head's views
// point into ClientSide::in and are valid until the body starts streaming;
// what is needed after that is in `facts`.
struct RequestState {
  explicit RequestState(size_t max_head) : scanner(max_head) {}
  struct Facts {
    bool idempotent = false, has_body = false, keep_alive = true, is_head = false, upgrade = false;
    int version = 11;
  };
  http::RequestHead head;
  http::HeadScanner scanner;
  http::HeadError error = http::HeadError::none;
  http::ChunkedDecoder chunked;  // a chunked body, checked as it is relayed
  size_t head_len = 0;           // head bytes at the front of ClientSide::in
  bool parsed = false;
  bool body_started = false;     // body bytes consumed: no replay, head views invalid
  bool expect_continue = false;  // 100 Continue still owed before the body
  Facts facts;
  std::string host;              // normalised: lower case, no port
  std::string id;                // X-Vcap-Request-Id
  std::string sticky;            // the __VCAP_ID__ asked for ("" if none)
  std::string_view route_path;   // the pool's path ("/" for host-only), for __VCAP_ID__
  route::TimePoint start;
  long long start_unix_ms = 0;
};

// The upstream side of the current attempt.
struct UpstreamSide {
  UpstreamSide(BufferPool& buffers, size_t max_buffer) : in(buffers, max_buffer) {}
  IoBuffer in;  // bytes from the upstream
  http::ResponseHead head;
  http::ChunkedDecoder chunked;
};

// What the access log and metrics get when the request ends.
struct RequestRecord {
  uint64_t bytes_received = 0;
  uint64_t bytes_sent = 0;
  route::Clock::duration backend_time{};     // finished attempts
  route::TimePoint attempt_started{};        // the attempt in progress, or zero
  uint8_t component_slot = route::ComponentSlots::kNone;  // the last endpoint tried (metrics)
  // gorouter's attempt details (logging.enable_attempts_details).
  uint32_t failed_attempts = 0;
  route::Clock::duration failed_attempts_time{};
  std::chrono::nanoseconds dns_time{}, dial_time{}, tls_time{};  // how the last stream was made (0: pooled)
  // Copied from the head, only when the access log is on.
  std::string method, target, referer, user_agent, forwarded_for, forwarded_proto;
  std::vector<std::pair<std::string, std::string>> extra_headers;
};

// What one attempt at one endpoint came to.
struct AttemptResult {
  bool answered = false;     // the client got a response (or part of one): the request is over
  bool keep_client = false;  // answered: the connection may serve another request
  Failure failure = Failure::dial_failed;  // not answered: why
  std::string detail;                      // endpoint_failure (<detail>)
  bool stale_pooled = false;  // failed on a pooled connection: the same endpoint may be tried fresh
};

// The attempt in progress: the stream, where it leads, until when.
struct Attempt {
  upstream::ByteStream& up;
  const route::Endpoint& endpoint;
  bool to_node;               // the stream leads to another Switchyard node
  bool keep_forwarded_for;    // a node forwarded the request: X-Forwarded-For already names the client
  bool reused_stream;         // the stream came from the keep-alive pool (may be stale)
  route::TimePoint deadline;  // endpoint_timeout from the attempt's start
  bool reusable = false;      // the stream may go back to the pool afterwards
  bool uploading = false;     // the request body is still streaming up
};

// A request body streamed up while the response is awaited (exchange.cpp).
struct Upload {
  bool done = false;
  bool answered = false;   // the response side finished
  bool cut_short = false;  // the response side ended first and stopped the upload
  RelayResult body;
};

class Session final : public Connection {
 public:
  Session(Worker& worker, int fd, const boost::asio::ip::tcp::endpoint& peer,
          std::shared_ptr<const tls::ServerContexts> tls = nullptr);
  ~Session() override;
  boost::asio::awaitable<void> run();

  void check_deadline(route::TimePoint now) override { watch_.check(now); }
  void drain() override;
  void abort() override;

 private:
  enum class HeadStatus { ok, closed, bad };  // bad: req_.error says why

  // session.cpp: the connection loop and its first phase.
  boost::asio::awaitable<bool> read_proxy_header();
  boost::asio::awaitable<bool> tls_handshake();
  boost::asio::awaitable<void> close_client(bool client_gone);
  boost::asio::awaitable<HeadStatus> read_head();
  boost::asio::awaitable<bool> serve();
  boost::asio::awaitable<bool> serve_connect();  // connect.cpp
  boost::asio::awaitable<bool> answer(Failure f, std::string_view detail);
  boost::asio::awaitable<void> linger();
  bool client_keep_alive() const;
  void consume_head();
  void take_scratch();
  void give_scratch();
  // forward.cpp: choose endpoints, retry by the outcome table.
  boost::asio::awaitable<bool> forward(const RouteDecision& route);
  bool buffered_body_valid() const;
  const route::EndpointPtr* sticky_endpoint(const route::Pool& pool, const route::Tried& tried) const;
  boost::asio::awaitable<AttemptResult> attempt(const route::EndpointPtr& endpoint, bool allow_reuse);
  void count_tls_failure(upstream::TlsFailure why);
  // exchange.cpp: send head and body, await the answer.
  boost::asio::awaitable<AttemptResult> exchange(Attempt& at, std::string_view extra_headers);
  Framing request_framing();
  boost::asio::awaitable<bool> send_continue();
  boost::asio::awaitable<AttemptResult> body_and_response(Attempt& at, Framing& framing, Upload& upload);
  boost::asio::awaitable<void> upload_body(Attempt& at, Framing& framing, Upload& upload);
  boost::asio::awaitable<AttemptResult> response_during_upload(Attempt& at, Upload& upload);
  AttemptResult settle_upload(AttemptResult response, const Upload& upload);
  void write_upstream_head(const Attempt& at, std::string_view extra_headers);
  // response.cpp: the answer.
  boost::asio::awaitable<AttemptResult> relay_response(Attempt& at);
  boost::asio::awaitable<AttemptResult> relay_upgrade(Attempt& at, size_t head_len);
  Framing response_framing();
  boost::asio::awaitable<std::optional<AttemptResult>> read_response_head(Attempt& at, size_t* head_len);
  boost::asio::awaitable<RelayResult> relay_response_body(Attempt& at, Framing& framing);
  boost::asio::awaitable<void> pump_upgraded(Attempt& at);
  // finish.cpp: the record.
  void begin_request();
  void finish_request(int status, const route::Endpoint* endpoint, std::string_view router_error);
  void count(int status, double ms, double backend_s);
  void attempt_details(AccessRecord* r) const;

  Worker& worker_;
  ProxyContext& ctx_;
  const config::Config& cfg_;
  ClientSide client_;
  Watchdog watch_;
  RequestState req_;
  UpstreamSide up_;
  RequestRecord rec_;
  std::string out_;  // the head being written (recycled storage)
  bool has_scratch_ = false;
  bool draining_ = false;
  std::shared_ptr<const tls::ServerContexts> tls_;  // the HTTPS listener's contexts, until the handshake
};

}  // namespace sy::proxy
