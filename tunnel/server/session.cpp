#include "tunnel/server/session.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <chrono>

#include "common/log/log.hpp"
#include "router/http/head_parser.hpp"
#include "router/proxy/session.hpp"
#include "router/proxy/worker.hpp"
#include "tunnel/server/handshake.hpp"
#include "tunnel/server/node.hpp"

namespace sy::tunnel {

namespace asio = boost::asio;
using boost::system::error_code;
using tcp = asio::ip::tcp;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

namespace {

constexpr size_t kReadChunk = 64 * 1024;
constexpr size_t kMaxFrame = 1024 * 1024;  // yamux output per WebSocket frame

int64_t unix_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

yamux::Config mux_config(const config::TunnelConfig& c) {
  yamux::Config m;
  m.max_window = 1024 * 1024;  // 1 MiB per stream: loopback-fast bulk, bounded memory
  m.ping_interval = c.ping_interval;
  return m;
}

std::string_view result_name(int status) {
  switch (status) {
    case 101: return "ok";
    case 401: return "unauthorized";
    case 409: return "conflict";
    case 400: return "bad_request";
    default: return "rejected";
  }
}

}  // namespace

asio::awaitable<void> serve_agent(TunnelNode& node, proxy::Worker& worker, int fd, tcp::endpoint peer,
                                  std::shared_ptr<const tls::ServerContexts> tls) {
  TunnelSession session(node, worker, fd, peer, std::move(tls));
  co_await session.run();
}

TunnelSession::TunnelSession(TunnelNode& node, proxy::Worker& worker, int fd, const tcp::endpoint& peer,
                             std::shared_ptr<const tls::ServerContexts> tls)
    : node_(node),
      worker_(worker),
      socket_(worker.poller(), fd),
      tls_(std::move(tls)),
      in_(worker.buffers(), kReadChunk + kMaxHandshake),
      handshake_deadline_(route::Clock::now() + kHandshakeTimeout) {
  proxy::format_peer(peer, &remote_);
  remote_ += ":" + std::to_string(peer.port());
  // Many small yamux frames go to the agent (stream opens, window updates,
  // request heads): with Nagle one would wait for the ACK of another.
  socket_.set_nodelay();
  worker_.add(this);
}

TunnelSession::~TunnelSession() { worker_.remove(this); }

void TunnelSession::check_deadline(route::TimePoint now) {
  if (!running_) {
    if (now >= handshake_deadline_) socket_.close();
    return;
  }
  core_->tick(now);
  if (!core_->alive()) socket_.close();  // a ping went unanswered: the session is dead
  if (core_->closing()) {  // a close frame went out: the agent has a few seconds to close
    if (close_deadline_ == route::TimePoint{}) close_deadline_ = now + kCloseGrace;
    if (now >= close_deadline_) socket_.close();
  }
}

void TunnelSession::drain() {
  if (!running_) {
    socket_.close();
  } else if (!drained_) {
    drained_ = true;
    core_->go_away();  // the agent opens a replacement, then closes this one
  }
}

void TunnelSession::abort() { socket_.close(); }

// wss://: the TLS handshake, within the opening handshake's deadline.
asio::awaitable<bool> TunnelSession::tls_handshake() {
  socket_.start_tls(std::move(tls_));
  auto [ec] = co_await socket_.tls_stream()->async_handshake(asio::ssl::stream_base::server, use_tuple);
  if (ec) log::debug("tunnel-tls-handshake-failed", log::Fields()("remote", remote_)("error", ec.message()));
  co_return !ec;
}

asio::awaitable<void> TunnelSession::run() {
  bool admitted = true;
  if (tls_) admitted = co_await tls_handshake();
  if (admitted) admitted = co_await handshake();
  if (admitted) {
    running_ = true;
    log::info("tunnel-session-started", log::Fields()("tunnel_id", handle_->tunnel_id)("remote", remote_)(
                                            "worker", worker_.index()));
    using namespace asio::experimental::awaitable_operators;
    co_await (read_loop() && write_loop());
    node_.leave(handle_);
    log::info("tunnel-session-ended", log::Fields()("tunnel_id", handle_->tunnel_id)("remote", remote_));
  }
  socket_.close();
}

asio::awaitable<bool> TunnelSession::answer(const std::string& response) {
  auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(response), use_tuple);
  co_return !ec;
}

// The opening request: a strict head, the protocol's checks, then admission
// to the tunnel (409 when its host belongs to another id).
// GCC 12 reports -Wmismatched-new-delete on this coroutine's frame (Asio's
// awaitable frames pair their own operator new and delete; a known false
// positive of GCC's coroutine lowering at -O2, as in tcp_connector.cpp).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
asio::awaitable<bool> TunnelSession::handshake() {
  http::HeadScanner scanner(kMaxHandshake);
  http::HeadScanner::Result found;
  for (;;) {
    found = scanner.scan(std::string_view(static_cast<const char*>(in_.data().data()), in_.size()));
    if (found.status != http::HeadScanner::Status::incomplete) break;
    auto [ec, n] = co_await socket_.async_read_some(in_.prepare(4096), use_tuple);
    if (ec) co_return false;
    in_.commit(n);
  }
  http::RequestHead head;
  HandshakeVerdict verdict;
  const std::string_view text(static_cast<const char*>(in_.data().data()), found.length);
  if (found.status == http::HeadScanner::Status::error ||
      http::parse_request_head(text, http::HeadLimits{kMaxHandshake}, &head) != http::HeadError::none) {
    verdict.status = 400;
    verdict.reason = "malformed request";
  } else {
    const config::TunnelConfig& c = node_.config();
    verdict = check_handshake(head, HandshakeSettings{c.domain, c.secrets, c.tcp_port_first != 0}, unix_seconds());
  }
  if (verdict.status == 101) admit(verdict);
  node_.count_handshake(result_name(verdict.status));
  if (verdict.status != 101) {
    log::info("tunnel-refused", log::Fields()("remote", remote_)("status", verdict.status)("reason", verdict.reason));
    co_await answer(handshake_response(verdict));
    co_return false;
  }
  core_ = std::make_shared<SessionCore>(worker_.io().get_executor(), mux_config(node_.config()), route::Clock::now(),
                                        handle_);
  handle_->core = core_;
  in_.consume(found.length);  // what the agent sent after the request is the session's
  const bool sent = co_await answer(handshake_response(verdict));
  if (!sent) node_.leave(handle_);
  co_return sent;
}
#pragma GCC diagnostic pop

// A session that passed the checks joins its tunnel, or the verdict becomes
// the node's refusal (409; 503 when no TCP entry port is free).
void TunnelSession::admit(HandshakeVerdict& verdict) {
  handle_ = std::make_shared<SessionHandle>();
  handle_->worker = &worker_;
  handle_->tunnel_id = verdict.id;
  handle_->host = verdict.host;
  handle_->remote = remote_;
  handle_->since_unix = unix_seconds();
  handle_->tcp = verdict.tcp;
  handle_->address = verdict.address;
  handle_->policy = verdict.policy;
  if (std::optional<std::string> refused = node_.admit(handle_, *worker_.routes())) {
    verdict.status = handle_->refused_status;
    verdict.reason = *refused;
  } else {
    verdict.tcp_port = handle_->tcp_port;
  }
}

// Decodes what `in_` holds into yamux; false once the session is over.
asio::awaitable<bool> TunnelSession::take_input() {
  while (in_.size() > 0) {
    size_t consumed = 0;
    std::span<uint8_t> bytes(reinterpret_cast<uint8_t*>(in_.mutable_data()), in_.size());
    ws::Event ev = core_->decoder().decode(bytes, consumed);
    if (ev.kind == ws::EventKind::data) {
      std::span<const uint8_t> payload = ev.payload;  // a view into in_: fed before in_ moves
      while (!payload.empty()) {
        payload = payload.subspan(core_->feed(payload, yamux::Clock::now()));
        if (payload.empty() || !core_->alive()) break;
        core_->dispatch();  // the writer drains the output, then input resumes
        auto [ec] = co_await core_->room_wake().async_wait(use_tuple);
        if (ec) co_return false;
      }
    } else if (ev.kind == ws::EventKind::ping) {
      core_->queue_pong(ev.payload);
    } else if (ev.kind == ws::EventKind::close) {
      core_->queue_close(ws::kCloseNormal, "");
      co_return false;
    } else if (ev.kind == ws::EventKind::error) {
      core_->queue_close(ev.code, "protocol error");
      co_return false;
    }
    in_.consume(consumed);
    if (ev.kind == ws::EventKind::none) break;  // a frame is still arriving
    if (core_->mux().failed()) co_return false;
  }
  co_return core_->alive() && !core_->closing();
}

asio::awaitable<void> TunnelSession::read_loop() {
  error_code ec;
  for (;;) {
    const bool going = co_await take_input();
    core_->dispatch();
    if (!going) break;
    if (in_.size() == 0 && !socket_.tls()) {  // idle: hold no buffer while waiting (TLS may hold bytes: read)
      in_.release_if_empty();
      auto [wec] = co_await socket_.socket().async_wait(io::Socket::wait_read, use_tuple);
      if ((ec = wec)) break;
    }
    auto [rec, n] = co_await socket_.async_read_some(in_.prepare(kReadChunk), use_tuple);
    if ((ec = rec)) break;
    in_.commit(n);
  }
  core_->end(ec ? ec : error_code(asio::error::eof));
}

// yamux output and control frames to the agent, gathered into one write.
// The write may suspend while streams queue more output and the reader
// queues pongs: the control frames go from the writer's own string and the
// yamux output stays pinned until the write is done.
asio::awaitable<void> TunnelSession::write_loop() {
  uint8_t header[ws::kMaxHeaderSize];
  std::string& control = core_->control();
  std::string sending;
  yamux::Session& mux = core_->mux();
  for (;;) {
    const bool closing = core_->closing() || !core_->alive();
    const size_t n = closing ? 0 : std::min(mux.output_size(), kMaxFrame);
    if (control.empty() && n == 0) {
      if (closing) break;
      auto [ec] = co_await core_->writer_wake().async_wait(use_tuple);
      if (ec && control.empty()) break;
      continue;
    }
    sending.clear();
    sending.swap(control);
    std::span<uint8_t> out = mux.output();
    const size_t header_len = n ? core_->encoder().binary_header(header, n, nullptr) : 0;
    std::array<asio::const_buffer, 3> bufs{asio::buffer(sending), asio::buffer(header, header_len),
                                           asio::buffer(out.data(), n)};
    mux.pin_output();
    auto [ec, written] = co_await asio::async_write(socket_, bufs, use_tuple);
    mux.unpin_output();
    if (ec) {
      socket_.close();  // the reader ends too
      break;
    }
    if (n) mux.consumed(n);
    core_->room_wake().notify();
    core_->dispatch();  // output drained: writable streams may go on
  }
  socket_.shutdown(SHUT_WR);  // after a close frame or a dead session: the reader ends on the agent's close
}

}  // namespace sy::tunnel
