#pragma once
// TunnelSession: one established tunnel session of the agent — a WebSocket
// (we are its client: every frame we send is masked) carrying a yamux
// session in which we are the *server*: the node opens a stream per proxied
// connection and we relay it to the local target (--to).
//
// Coroutines, all on the agent's one io_context thread, all owned by run():
//   reader   node socket -> ws::FrameDecoder -> yamux::Session::feed; answers
//            WebSocket pings (pong queued for the writer); a close frame ends
//            the session (code 4409 is reported to the owner as fatal).
//   writer   the only writer of the node socket. Woken by a flag, it takes
//            queued control frames plus up to kWriteChunk bytes of yamux
//            output, masks them into one WebSocket frame in its own buffer
//            (masking touches every byte anyway, so the copy is the mask
//            pass) and writes header + payload in one write. Whatever
//            accumulated meanwhile goes in the next write: writes coalesce.
//   ticker   every second: yamux keepalive (a ping every 5 s, the session
//            is dead when one stays unanswered 5 s), GoAway drain bound,
//            close-handshake bound.
//   relay    per stream: connect to the target, then node->target (peek the
//            stream's buffer, send(), consume) and, in a second coroutine,
//            target->node (prepare_write: recv() straight into the yamux
//            output queue, commit_write). Both directions use non-blocking
//            syscalls and wait for readiness only on EAGAIN, so no buffer
//            pointer lives across a suspension.
//
// Backpressure: a stream never reads more from its target than its yamux
// send window allows (prepare_write), and waits for a `writable` event when
// the window or the output queue is full. Input from the node is bounded by
// the windows we grant (256 KiB per stream): a slow target only leaves its
// own stream's buffer full, and the node stops sending on that stream alone.
// feed() stops when the output queue is over its bound (a peer pinging or
// opening streams faster than we write); the reader then waits for the
// writer to drain it before it reads the node again.
//
// Half-close and reset: yamux FIN -> shutdown(SHUT_WR) on the target; the
// target's EOF -> FIN. yamux RST -> the target is closed with a TCP reset
// (SO_LINGER 0); a target error (reset, EPIPE) or a refused connect -> RST.
//
// GoAway from the node: the owner is told (it opens the replacement), new
// streams are refused by the node anyway, and the session closes itself
// close_linger after it has no streams left and the owner said the
// replacement is up (mark_replaced), or drain_bound after the GoAway,
// whichever comes first.
// shutdown() (SIGTERM): GoAway and a WebSocket close now; open streams are
// reset. run() returns once every coroutine of the session has finished;
// only then may the owner destroy it.
//
// Threading: the agent's io_context thread only.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "router/io/poller.hpp"
#include "router/io/socket.hpp"
#include "tunnel/agent/node_connection.hpp"
#include "common/asio/wakeup.hpp"
#include "tunnel/ws/decoder.hpp"
#include "tunnel/ws/encoder.hpp"
#include "tunnel/yamux/session.hpp"

namespace sy::agent {

using sy::Wakeup;

using Clock = std::chrono::steady_clock;

class TunnelSession;

// What a session reports to its owner (the Agent). Called on the io thread,
// never from inside a session call that the owner made.
class SessionObserver {
 public:
  virtual void on_go_away(TunnelSession& session) = 0;
  // The WebSocket was closed by the node with this code (4409: lost an
  // ownership race; the agent exits 3).
  virtual void on_close_code(TunnelSession& session, uint16_t code) = 0;

 protected:
  ~SessionObserver() = default;
};

struct SessionConfig {
  std::vector<boost::asio::ip::tcp::endpoint> targets;  // --to, resolved
  yamux::Config yamux;
  std::chrono::seconds tick{1};
  std::chrono::seconds drain_bound{30};   // after a GoAway
  std::chrono::seconds close_bound{2};    // waiting for the node's close reply
  std::chrono::seconds close_linger{1};   // drained after a GoAway: wait this long before closing
};

SessionConfig default_session_config();

class TunnelSession {
 public:
  static constexpr size_t kReadBuffer = 128 * 1024;
  static constexpr size_t kWriteChunk = 256 * 1024;
  static constexpr size_t kRecvMax = 256 * 1024;  // one recv() from a target (also capped by max_frame)

  // `leftover`: bytes read after the 101 head (the first frames).
  TunnelSession(io::Poller& poller, const SessionConfig& config, std::shared_ptr<NodeConnection> connection,
                std::vector<uint8_t> leftover, SessionObserver& observer, int slot, std::string host);
  ~TunnelSession();
  TunnelSession(const TunnelSession&) = delete;
  TunnelSession& operator=(const TunnelSession&) = delete;

  boost::asio::awaitable<void> run();
  void shutdown();       // SIGTERM: close now
  void mark_replaced();  // after a GoAway: the replacement is up
  bool going_away() const { return go_away_at_.has_value(); }

  int slot() const { return slot_; }
  const std::string& host() const { return host_; }
  Clock::time_point started() const { return started_; }
  const std::string& end_reason() const { return end_reason_; }
  size_t relay_count() const { return relays_.size(); }

 private:
  // One accepted stream and its target connection; owned by relay().
  struct Relay {
    Relay(io::Poller& poller, uint32_t stream_id)
        : target(poller, -1), id(stream_id), readable(poller.context().get_executor()),
          writable(poller.context().get_executor()), done(poller.context().get_executor()) {}
    io::Socket target;
    uint32_t id;
    Wakeup readable;  // the stream has data or EOF
    Wakeup writable;  // the stream's window or the output queue opened
    Wakeup done;      // from_target() finished
    bool reset = false;          // both ways stop; the target is (being) aborted
    bool from_target_done = false;
    uint64_t to_target_bytes = 0;
    uint64_t from_target_bytes = 0;
  };
  struct ChildGuard {
    TunnelSession* session;
    ~ChildGuard() { session->child_done(); }
  };

  // session.cpp: the node side
  boost::asio::awaitable<void> reader();
  boost::asio::awaitable<void> writer();
  boost::asio::awaitable<void> ticker();
  bool process_input();
  bool on_ws_event(const ws::Event& event);
  size_t fill_write_buffer();
  void dispatch_events();
  void wake_writer() { writer_wake_.notify(); }
  void queue_control(size_t (ws::FrameEncoder::*make)(uint8_t*, std::span<const uint8_t>),
                     std::span<const uint8_t> payload);
  void begin_close(uint16_t code, const char* reason);
  void terminate(const std::string& reason);
  void check_drained(Clock::time_point now);
  void child_done();

  // relay.cpp: one yamux stream <-> one target connection
  void on_accepted(uint32_t id);
  boost::asio::awaitable<void> relay(std::unique_ptr<Relay> r);
  boost::asio::awaitable<bool> connect_target(Relay& r);
  boost::asio::awaitable<void> to_target(Relay& r);
  boost::asio::awaitable<void> from_target(Relay& r);
  void abort_stream(Relay& r, bool send_reset);

  io::Poller& poller_;
  const SessionConfig& config_;
  std::shared_ptr<NodeConnection> conn_;
  SessionObserver& observer_;
  int slot_;
  std::string host_;
  Clock::time_point started_;
  yamux::Session yamux_;
  ws::FrameDecoder decoder_{ws::Role::client};
  ws::FrameEncoder encoder_{ws::Role::client};
  std::unique_ptr<uint8_t[]> read_buf_;
  size_t read_pos_ = 0, read_end_ = 0;
  std::span<const uint8_t> unfed_;  // payload feed() did not take yet (inside read_buf_)
  std::unique_ptr<uint8_t[]> write_buf_;
  uint8_t control_[4 * ws::kMaxControlFrameSize];
  size_t control_len_ = 0;
  Wakeup writer_wake_;
  Wakeup input_room_;  // the reader waits here while feed() is blocked
  Wakeup children_done_;
  boost::asio::steady_timer tick_timer_;
  std::unordered_map<uint32_t, Relay*> relays_;
  int children_ = 0;
  bool dead_ = false;
  bool reader_blocked_ = false;
  bool close_queued_ = false;  // a close frame waits for the yamux output to drain
  bool close_sent_ = false;
  bool close_received_ = false;
  bool replaced_ = false;
  uint16_t close_code_ = 0;  // the code of the close frame we send
  const char* close_reason_ = "";
  std::optional<Clock::time_point> go_away_at_;
  std::optional<Clock::time_point> drained_at_;
  Clock::time_point close_deadline_{};
  std::string end_reason_;
};

}  // namespace sy::agent
