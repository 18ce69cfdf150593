// yamux_interop: our yamux::Session (and ws codec) against hashicorp/yamux
// (and gorilla/websocket) in the Go peer tests/peers/go/yamux-pipe.
//
// Four cases, each N streams × M bytes each way, byte-identical:
//   raw-client  we are the yamux client over the Go process's stdin/stdout
//   raw-server  we are the yamux server, Go opens the streams
//   ws-node     we accept the WebSocket and are the yamux client (the node)
//   ws-agent    we dial the WebSocket (masking) and are the yamux server
// On every stream we write the pattern, half-close at once, and read and
// check the peer's pattern to EOF; a ping of ours must be answered. Exit 0: all passed; 1: a failure; 77: no
// Go peer binary (ctest reports a skip).
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "tests/peers/peer_io.hpp"
#include "tunnel/ws/decoder.hpp"
#include "tunnel/ws/encoder.hpp"
#include "tunnel/yamux/session.hpp"

namespace sy::interop {
namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string peer;
  uint32_t streams = 100;
  size_t bytes = 1 << 20;
  uint32_t window = 256 * 1024;
};

uint8_t pattern(uint32_t id, uint32_t dir, uint32_t i) {
  return static_cast<uint8_t>((i * 2654435761u + (id * 2 + dir) * 40503u) >> 24);
}

struct StreamCheck {
  size_t sent = 0, got = 0;
  bool blocked = false, closed = false, eof = false;
};

// One run: a session over (in_fd, out_fd), optionally WebSocket-framed.
class Driver {
 public:
  Driver(const Options& o, yamux::Role role, int in_fd, int out_fd, const ws::Role* ws_role)
      : o_(o), role_(role), in_(in_fd), out_(out_fd),
        session_(role, config(o), Clock::now()),
        ws_(ws_role != nullptr), dec_(ws_role ? *ws_role : ws::Role::server),
        enc_(ws_role ? *ws_role : ws::Role::server) {}

  void preload(const std::vector<uint8_t>& bytes) { ws_in(bytes.data(), bytes.size()); }

  std::string run() {
    if (role_ == yamux::Role::client)
      for (uint32_t i = 0; i < o_.streams; ++i) streams_[session_.open().id];
    session_.ping(Clock::now());  // Go must answer it (checked at the end)
    const auto deadline = Clock::now() + std::chrono::seconds(120);
    std::vector<uint8_t> buf(256 * 1024);
    while (!done() || wire_pending()) {
      if (!error_.empty()) return error_;
      if (session_.failed()) return "session failed: " + std::to_string(int(session_.failure()));
      if (Clock::now() > deadline) return "timed out: " + progress();
      handle_events();
      write_streams();
      fill_wire();
      pollfd p[2] = {{in_, POLLIN, 0}, {out_, static_cast<short>(wire_pending() ? POLLOUT : 0), 0}};
      if (peer_eof_) p[0].fd = -1;
      if (poll(p, 2, 1000) < 0 && errno != EINTR) return "poll failed";
      if (p[1].revents & (POLLOUT | POLLERR | POLLHUP)) flush_wire();
      if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
        ssize_t n = read(in_, buf.data(), buf.size());
        if (n <= 0) {
          peer_eof_ = true;
          if (!done()) return "peer closed early: " + progress();
        } else {
          received_ += static_cast<size_t>(n);
          ws_ ? ws_in(buf.data(), static_cast<size_t>(n)) : yamux_in(buf.data(), static_cast<size_t>(n));
        }
      }
      if (peer_eof_ && done()) break;  // what is left to send is window updates
    }
    if (session_.rtt() == Clock::duration::zero()) return "our ping was never answered";
    return {};
  }
  size_t received() const { return received_; }

 private:
  static yamux::Config config(const Options& o) {
    yamux::Config c;
    c.max_window = o.window;
    c.max_streams = 4096;
    return c;
  }
  bool done() const {
    if (streams_.size() < o_.streams) return false;
    for (const auto& [id, s] : streams_)
      if (!s.closed || !s.eof) return false;
    return true;
  }
  bool wire_pending() const { return wire_pos_ < wire_.size() || session_.output_size() > 0; }
  std::string progress() const {
    size_t sent = 0, got = 0;
    for (const auto& [id, s] : streams_) sent += s.sent, got += s.got;
    return std::to_string(streams_.size()) + " streams, sent " + std::to_string(sent) + ", got " + std::to_string(got);
  }

  void handle_events() {
    yamux::Event e;
    while (session_.poll(e)) {
      if (e.kind == yamux::EventKind::accepted) streams_[e.stream_id];
      if (e.kind == yamux::EventKind::writable) streams_[e.stream_id].blocked = false;
      if (e.kind == yamux::EventKind::readable) read_stream(e.stream_id);
      if (e.kind == yamux::EventKind::reset) error_ = "stream reset " + std::to_string(e.stream_id);
    }
  }

  void read_stream(uint32_t id) {
    StreamCheck& s = streams_[id];
    const uint32_t dir = role_ == yamux::Role::client ? 1 : 0;  // the peer's direction
    for (;;) {
      auto have = session_.peek(id);
      if (have.empty()) {
        if (session_.consume(id, 0).status == yamux::Status::eof) {
          s.eof = true;
          if (s.got != o_.bytes) error_ = "stream " + std::to_string(id) + ": eof after " + std::to_string(s.got);
        }
        return;
      }
      for (size_t i = 0; i < have.size(); ++i)
        if (have[i] != pattern(id, dir, static_cast<uint32_t>(s.got + i))) {
          error_ = "stream " + std::to_string(id) + ": byte " + std::to_string(s.got + i) + " differs";
          return;
        }
      s.got += have.size();
      session_.consume(id, have.size());
    }
  }

  // Odd-numbered streams write through write(), even ones fill the output
  // queue in place (prepare_write/commit_write): both reach the Go peer.
  void write_streams() {
    const uint32_t dir = role_ == yamux::Role::client ? 0 : 1;
    uint8_t chunk[64 * 1024];
    for (auto& [id, s] : streams_) {
      while (!s.blocked && s.sent < o_.bytes) {
        const size_t want = std::min(sizeof chunk, o_.bytes - s.sent);
        std::span<uint8_t> dst(chunk, want);
        yamux::Status st = yamux::Status::ok;
        const bool in_place = (id / 2) % 2 == 0;
        if (in_place) dst = session_.prepare_write(id, want, &st);
        for (size_t i = 0; i < dst.size(); ++i) dst[i] = pattern(id, dir, static_cast<uint32_t>(s.sent + i));
        size_t n = dst.size();
        if (in_place) session_.commit_write(id, n);
        else n = session_.write(id, dst).n;
        s.sent += n;
        if (n < want) s.blocked = true;
      }
      if (s.sent == o_.bytes && !s.closed) s.closed = session_.close(id);
    }
  }

  // Moves the session's output to wire_ (framed when WebSocket).
  void fill_wire() {
    if (wire_pos_ < wire_.size()) return;
    wire_.clear();
    wire_pos_ = 0;
    auto out = session_.output();
    if (out.empty()) return;
    if (!ws_) {
      wire_.assign(out.begin(), out.end());
    } else {
      wire_.resize(out.size() + ws::kMaxHeaderSize);
      wire_.resize(enc_.binary_frame(wire_.data(), out));
    }
    session_.consumed(out.size());
  }
  void flush_wire() {
    fill_wire();
    if (wire_pos_ == wire_.size()) return;
    ssize_t n = write(out_, wire_.data() + wire_pos_, wire_.size() - wire_pos_);
    if (n > 0) {
      wire_pos_ += static_cast<size_t>(n);
    } else if (n < 0 && errno != EAGAIN) {
      if (!done()) error_ = std::string("write: ") + strerror(errno);
      wire_.clear();  // the peer left after the end: what is left is window updates
      wire_pos_ = 0;
      session_.consumed(session_.output_size());
    }
  }

  void yamux_in(const uint8_t* p, size_t n) {
    pending_.insert(pending_.end(), p, p + n);
    size_t used = session_.feed(pending_, Clock::now());
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<long>(used));
    if (!pending_.empty()) fill_wire();  // over the output bound: the loop drains, then feeds on
  }
  void ws_in(const uint8_t* p, size_t n) {
    std::vector<uint8_t> copy(p, p + n);
    std::span<uint8_t> in(copy);
    while (!in.empty() && error_.empty()) {
      size_t used = 0;
      ws::Event e = dec_.decode(in, used);
      in = in.subspan(used);
      if (e.kind == ws::EventKind::data) yamux_in(e.payload.data(), e.payload.size());
      if (e.kind == ws::EventKind::error) error_ = "websocket error " + std::to_string(e.code);
      if (e.kind == ws::EventKind::close) peer_eof_ = true;
      if (e.kind == ws::EventKind::ping) {
        uint8_t f[ws::kMaxControlFrameSize];
        ctl_.insert(ctl_.end(), f, f + enc_.pong(f, e.payload));
      }
    }
    if (!ctl_.empty() && wire_pos_ == wire_.size()) {
      wire_ = std::move(ctl_);
      wire_pos_ = 0;
      ctl_.clear();
    }
  }

  const Options& o_;
  yamux::Role role_;
  int in_, out_;
  yamux::Session session_;
  bool ws_;
  ws::FrameDecoder dec_;
  ws::FrameEncoder enc_;
  std::map<uint32_t, StreamCheck> streams_;
  std::vector<uint8_t> wire_, pending_, ctl_;
  size_t wire_pos_ = 0, received_ = 0;
  bool peer_eof_ = false;
  std::string error_;
};

std::vector<std::string> peer_args(const Options& o, const char* role) {
  return {o.peer, "--role", role, "--streams", std::to_string(o.streams), "--bytes", std::to_string(o.bytes),
          "--window", std::to_string(o.window), "--timeout", "110s"};
}

std::string run_case(const Options& o, const std::string& name) {
  const bool raw = name.rfind("raw", 0) == 0;
  const bool we_client = name == "raw-client" || name == "ws-node";
  auto args = peer_args(o, we_client ? "server" : "client");
  const yamux::Role role = we_client ? yamux::Role::client : yamux::Role::server;
  std::string err;
  Child child;
  int fd = -1;
  std::vector<uint8_t> leftover;
  ws::Role ws_role = name == "ws-node" ? ws::Role::server : ws::Role::client;
  if (raw) {
    child = spawn(args, true);
  } else if (name == "ws-node") {
    int port = 0, lfd = listen_loopback(&port);
    args.insert(args.end(), {"--ws-dial", "ws://127.0.0.1:" + std::to_string(port) + "/v1/tunnel"});
    child = spawn(args, false);
    fd = accept(lfd, nullptr, nullptr);
    close(lfd);
    if (fd < 0 || !ws_accept(fd, &err)) return "handshake: " + err;
  } else {
    args.insert(args.end(), {"--ws-listen", "127.0.0.1:0"});
    child = spawn(args, false);
    std::string line = read_line(child.from_child);  // "listening 127.0.0.1:PORT"
    fd = connect_loopback(line.substr(line.find(' ') + 1));
    if (fd < 0 || !ws_connect(fd, "127.0.0.1", &leftover, &err)) return "handshake: " + err;
  }
  if (child.pid < 0) return "cannot start " + o.peer;
  const int in = raw ? child.from_child : fd, out = raw ? child.to_child : fd;
  set_nonblocking(in);
  set_nonblocking(out);
  Driver d(o, role, in, out, raw ? nullptr : &ws_role);
  if (!leftover.empty()) d.preload(leftover);
  const auto start = Clock::now();
  err = d.run();
  const double secs = std::chrono::duration<double>(Clock::now() - start).count();
  if (raw) close(child.to_child);
  else shutdown(fd, SHUT_WR);
  const int status = wait_child(child.pid, 30);
  if (fd >= 0) close(fd);
  if (child.from_child >= 0) close(child.from_child);
  if (err.empty() && status != 0) err = "Go peer exited with " + std::to_string(status);
  const double mib = 2.0 * o.streams * o.bytes / (1 << 20);
  std::printf("%-10s %u streams x %zu bytes each way: %s (%.2f s, %.0f MiB/s both ways)\n", name.c_str(),
              o.streams, o.bytes, err.empty() ? "ok" : err.c_str(), secs, mib / secs);
  return err;
}

}  // namespace
}  // namespace sy::interop

int main(int argc, char** argv) {
  using namespace sy::interop;
  signal(SIGPIPE, SIG_IGN);
  Options o;
  std::vector<std::string> cases = {"raw-client", "raw-server", "ws-node", "ws-agent"};
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--peer") o.peer = v;
    else if (k == "--streams") o.streams = static_cast<uint32_t>(std::stoul(v));
    else if (k == "--bytes") o.bytes = std::stoul(v);
    else if (k == "--window") o.window = static_cast<uint32_t>(std::stoul(v));
    else if (k == "--case") cases = {v};
    else return std::fprintf(stderr, "unknown flag %s\n", k.c_str()), 2;
  }
  if (o.peer.empty() || access(o.peer.c_str(), X_OK) != 0) {
    std::printf("SKIP: Go peer %s not built (is `go` installed?)\n", o.peer.c_str());
    return 77;
  }
  int failed = 0;
  for (const auto& c : cases) failed += !run_case(o, c).empty();
  std::printf("%zu passed, %d failed\n", cases.size() - failed, failed);
  return failed ? 1 : 0;
}
