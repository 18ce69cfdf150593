// The request loop of a client connection: PROXY header, request heads,
// routing, errors, keep-alive, access log. Forwarding is in forward.cpp.
#include <chrono>

#include "router/base/log.hpp"
#include "router/base/uuid.hpp"
#include "router/proxy/affinity.hpp"
#include "router/proxy/proxy_protocol.hpp"
#include "router/proxy/session.hpp"
#include "router/proxy/session_impl.hpp"
#include "router/route/route_message.hpp"

namespace sy::proxy {

Session::Session(Worker& worker, int fd)
    : worker_(worker),
      ctx_(worker.context()),
      cfg_(worker.context().config),
      client_(worker.poller(), fd),
      watch_(client_),
      cbuf_(worker.buffers(), cfg_.max_request_header_bytes + 2 * kReadChunk),
      ubuf_(worker.buffers(), 1024 * 1024 + 2 * kReadChunk),
      scanner_(worker.context().config.max_request_header_bytes) {
  take_scratch();
  worker_.session_started(this);
}

Session::~Session() {
  give_scratch();
  worker_.session_finished(this);
}

// The growable head storage is the worker's while the connection is idle,
// like the read buffers: an idle keep-alive connection holds neither.
void Session::take_scratch() {
  if (has_scratch_) return;
  SessionScratch scratch = worker_.take_scratch();
  out_ = std::move(scratch.out);
  request_id_ = std::move(scratch.request_id);
  req_.fields = std::move(scratch.request_fields);
  resp_.fields = std::move(scratch.response_fields);
  has_scratch_ = true;
}

void Session::give_scratch() {
  if (!has_scratch_) return;
  req_.fields.clear();
  resp_.fields.clear();
  worker_.give_scratch(SessionScratch{std::move(out_), std::move(request_id_), std::move(req_.fields),
                                      std::move(resp_.fields)});
  out_ = std::string();
  request_id_ = std::string();
  req_.fields = std::vector<Field>();
  resp_.fields = std::vector<Field>();
  has_scratch_ = false;
}

void Session::abort() {
  watch_.set(route::TimePoint::min(), Watchdog::Target::upstream);
  watch_.check(route::Clock::now());  // closes the upstream, if any
  client_.close();
}

void Session::close_if_idle() {
  if (!idle_) return;
  client_.close();
}

asio::awaitable<void> serve_connection(Worker& worker, int fd, tcp::endpoint peer) {
  Session session(worker, fd);
  session.set_peer(peer);
  co_await session.run();
}

// The client address, formatted by hand for IPv4 (inet_ntop goes through
// sprintf, a visible share of a new connection's cost). ip:port for the logs
// is built only when something logs it.
void Session::set_peer(const tcp::endpoint& peer) {
  client_port_ = peer.port();
  if (!peer.address().is_v4()) {
    client_ip_ = peer.address().to_string();
    return;
  }
  auto bytes = peer.address().to_v4().to_bytes();
  char text[16];
  char* p = text;
  for (int i = 0; i < 4; ++i) {
    unsigned v = bytes[i];
    if (v >= 100) *p++ = static_cast<char>('0' + v / 100);
    if (v >= 10) *p++ = static_cast<char>('0' + v / 10 % 10);
    *p++ = static_cast<char>('0' + v % 10);
    if (i < 3) *p++ = '.';
  }
  client_ip_.assign(text, p);
}

std::string Session::client_addr() const { return client_ip_ + ':' + std::to_string(client_port_); }

asio::awaitable<void> Session::run() {
  if (cfg_.enable_proxy) {
    bool ok = co_await read_proxy_header();
    if (!ok) co_return;
  }
  for (;;) {
    HeadStatus status = co_await read_head();
    if (status == HeadStatus::closed) break;
    if (status != HeadStatus::ok) {
      ctx_.metrics.rejected_requests->inc();
      ctx_.metrics.total_requests->inc();
      start_ = route::Clock::now();
      host_.clear();
      request_id_ = new_uuid();
      log_method_ = log_target_ = "-";
      log::debug("request-rejected", log::Fields()("remote", client_addr())("error", http::to_string(head_error_)));
      co_await send_error(request_failure(head_error_), "");
      break;
    }
    bool keep = co_await serve_request();
    if (!keep || ctx_.draining.load(std::memory_order_relaxed)) break;
  }
  if (linger_) co_await linger();
  watch_.clear();
  // A client that asked for Connection: close and sent nothing more gets a
  // plain close (FIN); otherwise shut down sending first, so unread input
  // cannot turn the close into a reset that destroys the last response.
  if (request_keep_alive_ || cbuf_.size() > 0) client_.shutdown(SHUT_WR);
  client_.close();
}

// The response went out before the request body was all read (the backend
// answered early). Closing with body bytes unread sends a reset, which can
// destroy that response in the client's kernel before it is read; so, like
// nginx's lingering close, stop sending and drop what the client still sends
// until it closes or kLinger passes.
asio::awaitable<void> Session::linger() {
  client_.shutdown(SHUT_WR);
  watch_.set(route::Clock::now() + kLinger, Watchdog::Target::client);
  for (;;) {
    cbuf_.clear();
    auto [ec, n] = co_await client_.async_read_some(cbuf_.prepare(16 * 1024), use_tuple);
    if (ec) break;
  }
  cbuf_.clear();
}

asio::awaitable<bool> Session::read_proxy_header() {
  watch_.set(route::Clock::now() + cfg_.read_header_timeout, Watchdog::Target::client);
  for (;;) {
    std::string_view data(static_cast<const char*>(cbuf_.data().data()), cbuf_.size());
    ProxyHeader h = parse_proxy_header(data);
    if (h.status == ProxyHeader::Status::invalid) {
      log::debug("proxy-protocol-invalid", log::Fields()("remote", client_addr()));
      co_return false;
    }
    if (h.status == ProxyHeader::Status::ok) {
      cbuf_.consume(h.length);
      if (!h.source_ip.empty()) {
        client_ip_ = h.source_ip;
        client_port_ = h.source_port;
      }
      co_return true;
    }
    auto [ec, n] = co_await client_.async_read_some(cbuf_.prepare(512), use_tuple);
    if (ec) co_return false;
    cbuf_.commit(n);
  }
}

asio::awaitable<Session::HeadStatus> Session::read_head() {
  req_.clear();
  scanner_.reset();
  req_chunked_.reset();
  head_parsed_ = false;
  head_error_ = http::HeadError::none;
  body_started_ = false;
  bool timing_head = false;
  idle_ = cbuf_.size() == 0;
  watch_.set(route::Clock::now() + cfg_.frontend_idle_timeout, Watchdog::Target::client);
  if (idle_ && served_ > 0) {  // a new connection's first request is usually there already
    // Between requests the connection holds no buffer: wait for readability
    // first (the reactor re-arms the descriptor, so data that came early is
    // seen), and borrow storage only to read.
    cbuf_.release_if_empty();
    ubuf_.release_if_empty();
    give_scratch();
    auto [wec] = co_await client_.async_wait(io::Socket::wait_read, use_tuple);
    if (wec) {
      idle_ = false;
      co_return HeadStatus::closed;
    }
    take_scratch();
  }
  for (;;) {
    if (cbuf_.size() > 0) {
      idle_ = false;
      std::string_view data(static_cast<const char*>(cbuf_.data().data()), cbuf_.size());
      http::HeadScanner::Result found = scanner_.scan(data);
      if (found.status == http::HeadScanner::Status::complete) {
        head_error_ = http::parse_request_head(data.substr(0, found.length), head_limits(), &req_);
        if (head_error_ != http::HeadError::none) co_return HeadStatus::bad;
        head_len_ = found.length;
        head_parsed_ = true;
        co_return HeadStatus::ok;
      }
      head_error_ = found.error;
      if (found.status == http::HeadScanner::Status::error) co_return HeadStatus::bad;
      if (!plausible_request_start(data)) {
        head_error_ = http::HeadError::bad_start_line;
        co_return HeadStatus::bad;
      }
      if (!timing_head) {
        timing_head = true;
        watch_.set(route::Clock::now() + cfg_.read_header_timeout, Watchdog::Target::client);
      }
    }
    asio::mutable_buffer space = cbuf_.prepare(16 * 1024);
    if (space.size() == 0) {  // the worker's budget for large heads is spent
      head_error_ = http::HeadError::too_large;
      co_return HeadStatus::bad;
    }
    auto [ec, n] = co_await client_.async_read_some(space, use_tuple);
    if (ec) {
      idle_ = false;
      co_return HeadStatus::closed;  // EOF, reset, idle or header timeout: just close
    }
    cbuf_.commit(n);
  }
}

http::HeadLimits Session::head_limits() const {
  http::HeadLimits limits;
  limits.max_bytes = cfg_.max_request_header_bytes;
  return limits;
}

// Route lookup; every 16th one is timed for route_lookup_time (two clock
// reads per request would cost more than most lookups).
const route::Pool* Session::lookup(const route::RouteTable& table) {
  if ((++lookups_ & 15) != 0) return table.find(host_, req_.path());
  auto t0 = route::Clock::now();
  const route::Pool* pool = table.find(host_, req_.path());
  ctx_.metrics.route_lookup_time->observe(
      static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(route::Clock::now() - t0).count()));
  return pool;
}

void Session::consume_head() {
  cbuf_.consume(head_len_);
  head_len_ = 0;
}

bool Session::client_keep_alive() const {
  return request_keep_alive_ && request_version_ == 11 && !ctx_.draining.load(std::memory_order_relaxed);
}

asio::awaitable<bool> Session::serve_request() {
  ++served_;
  start_ = route::Clock::now();
  start_unix_ms_ = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch()).count();
  bytes_received_ = bytes_sent_ = 0;
  backend_time_ = {};
  attempt_started_ = {};
  ctx_.metrics.total_requests->inc();
  request_idempotent_ = req_.idempotent();
  request_has_body_ = req_.has_body();
  request_keep_alive_ = req_.keep_alive;
  request_is_head_ = req_.method == "HEAD";
  request_upgrade_ = req_.upgrade;
  request_version_ = req_.version;
  if (!nodelay_ && client_keep_alive()) {
    // Only a connection that stays open needs Nagle off (a later small write
    // must not wait for an ACK); a one-request connection saves the syscall.
    client_.set_nodelay();
    nodelay_ = true;
  }
  expect_continue_ = iequals(req_.find("expect"), "100-continue");
  request_id_.resize(36);
  new_uuid(request_id_.data());
  if (ctx_.access_log) {
    log_method_ = req_.method;
    log_target_ = req_.target;
    log_referer_ = req_.find("referer");
    log_agent_ = req_.find("user-agent");
    log_xff_ = req_.find("x-forwarded-for");
    log_xfp_ = req_.find("x-forwarded-proto");
    log_extra_.clear();
    for (const auto& name : cfg_.extra_headers_to_log) log_extra_.emplace_back(name, req_.find(name));
  }
  bool keep;
  route::RouteTablePtr table = worker_.routes();  // pinned: the pool must outlive the request
  const route::Pool* pool = nullptr;
  InstanceFilter wanted;
  std::string_view instance_header;
  Failure invalid = Failure::invalid_app_instance, unknown = Failure::unknown_instance;
  if (instance_header = req_.find(FieldKind::x_cf_app_instance); !instance_header.empty()) {
    wanted.kind = parse_app_instance(instance_header, &wanted.guid, &wanted.index) ? InstanceFilter::Kind::app
                                                                                   : InstanceFilter::Kind::any;
  } else if (instance_header = req_.find(FieldKind::x_cf_process_instance); !instance_header.empty()) {
    invalid = Failure::invalid_process_instance;
    unknown = Failure::unknown_process_instance;
    wanted.kind = parse_process_instance(instance_header, &wanted.guid, &wanted.index)
                      ? InstanceFilter::Kind::process
                      : InstanceFilter::Kind::any;
  }
  if (!req_.has_host || !route::normalize_host(req_.host, &host_) || host_ == client_ip_) {
    host_.clear();
    keep = co_await send_error(Failure::empty_host, "");
  } else if (req_.form == http::TargetForm::authority) {  // CONNECT: not a proxy for arbitrary hosts
    keep = co_await send_error(Failure::bad_request, "");
  } else if (!instance_header.empty() && wanted.kind == InstanceFilter::Kind::any) {
    keep = co_await send_error(invalid, "");
  } else if (pool = lookup(*table); !instance_header.empty() && !(pool && wanted.in(*pool))) {
    keep = co_await send_error(unknown, instance_header);
  } else if (!pool) {
    keep = co_await send_error(Failure::unknown_route, "");
  } else if (pool->empty()) {
    keep = co_await send_error(Failure::no_endpoints, "");
  } else {
    keep = co_await forward(*pool, wanted);
  }
  co_return keep;
}

// Answers with an error from the table. The request body (if any) is not
// read, so the connection closes unless the request had none.
asio::awaitable<bool> Session::send_error(Failure f, std::string_view detail) {
  const ErrorInfo& info = error_info(f);
  bool keep = client_keep_alive() && !body_started_ && !request_has_body_ && head_parsed_;
  out_ = error_response(f, host_, detail, request_id_, !keep);
  bytes_sent_ = out_.size() - (out_.find("\r\n\r\n") + 4);
  if (info.counts_as_bad_gateway) ctx_.metrics.bad_gateways->inc();
  if (f == Failure::backend_timeout || f == Failure::endpoint_failure) keep = false;
  watch_.set(route::Clock::now() + cfg_.endpoint_timeout, Watchdog::Target::client);
  auto [ec, n] = co_await asio::async_write(client_, asio::buffer(out_), use_tuple);
  consume_head();
  finish_request(info.status, nullptr, router_error_value(f, detail));
  co_return keep && !ec;
}

void Session::finish_request(int status, const route::Endpoint* endpoint, std::string_view router_error) {
  auto now = route::Clock::now();
  auto elapsed = now - start_;
  auto backend = backend_time_ + (attempt_started_ != route::TimePoint{} ? now - attempt_started_ : route::Clock::duration{});
  double ms = std::chrono::duration<double, std::milli>(elapsed).count();
  ctx_.metrics.count_response(status);
  ctx_.metrics.latency->observe(ms);
  if (!ctx_.access_log) return;
  AccessRecord r;
  r.host = host_;
  r.method = log_method_;
  r.target = log_target_;
  r.version = request_version_;
  r.referer = log_referer_;
  r.user_agent = log_agent_;
  r.forwarded_for = log_xff_;
  r.forwarded_proto = log_xfp_;
  r.status = status;
  r.bytes_received = bytes_received_;
  r.bytes_sent = bytes_sent_;
  std::string remote = client_addr();
  r.remote_addr = remote;
  r.request_id = request_id_;
  if (endpoint) {
    r.backend_addr = endpoint->address();
    r.app_id = endpoint->meta().app_id;
    r.app_index = endpoint->meta().private_instance_index;
    r.instance_id = endpoint->instance_id();
  }
  r.router_error = router_error;
  r.response_time_s = ms / 1000.0;
  r.backend_time_s = std::chrono::duration<double>(backend).count();
  r.start_unix_ms = start_unix_ms_;
  for (const auto& [name, value] : log_extra_) r.extra_headers.emplace_back(name, value);
  ctx_.access_log->write(r);
}

}  // namespace sy::proxy
