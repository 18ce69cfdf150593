#pragma once
// yamux::Session: the hashicorp/yamux protocol (version 0) as a sans-I/O
// state machine. Bytes from the transport go in through feed(); frames to
// send collect in one output queue that the I/O layer drains (output(),
// then consumed(n) for what it wrote); what the application must react to
// comes out of poll(). Time is a parameter: feed() and tick() take `now`.
//
// Streams are named by their yamux id. The client opens odd ids, the server
// even ones (in Switchyard the node is the client, the agent the server).
// A peer's SYN is answered at once (ACK with our window) and reported as an
// `accepted` event; beyond max_streams, or after our GoAway, it gets a RST.
//
// Flow control is Go's: every stream starts with a 256 KiB window each way;
// we grant up to max_window (open/accept send the difference) and top the
// peer up once the application has consumed at least half of it. Data beyond
// the granted window is a protocol error. write() takes only what the send
// window and the output queue allow, and a `writable` event follows when more
// would fit. Received bytes wait in the stream's buffer (at most max_window
// bytes) until read() or peek()+consume().
//
// Copies: write() copies the payload once, into the output queue, behind its
// 12-byte header, so output() is always one contiguous span (one send(), or
// one WebSocket frame around it). A relay can skip that copy with
// prepare_write() + commit_write(): it recv()s straight into the queue.
// Received payload is copied once, from the caller's input into the stream's
// buffer; peek() lets the relay send it from there. (bench/yamux_bench.cpp:
// the whole path costs about two memcpys.)
//
// Stream lifetime: a stream is forgotten when it was reset (either way), or
// when both directions are done: we sent FIN (close()) and the application
// was told eof. Calls on a forgotten or unknown id return Status::closed.
//
// Failure: a protocol violation by the peer queues GoAway(protocol error)
// and fails the session; so do a peer's GoAway with an error code and a ping
// unanswered for ping_interval (no GoAway then). A failed session takes no
// more input and opens nothing; the I/O layer flushes the output and closes.
//
// Backpressure on input: feed() stops at a frame boundary (returning how
// much it consumed) while the output queue holds more than
// max_output + kControlSlack bytes: a peer that pings faster than we can
// write cannot grow the queue without bound. Drain, then feed the rest.
//
// Threading: the owner's thread only; nothing here locks or blocks.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

#include "tunnel/yamux/byte_queue.hpp"
#include "tunnel/yamux/frame.hpp"

namespace sy::yamux {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;

enum class Role : uint8_t { client, server };

struct Config {
  uint32_t max_window = kInitialWindow;  // receive window per stream; ≥ 256 KiB (frp uses 6 MiB)
  uint32_t max_streams = 1024;           // open streams, both directions together
  uint32_t max_frame = 64 * 1024;        // payload per data frame we send
  size_t max_output = 1024 * 1024;       // write() refuses data while the queue holds this much
  std::chrono::milliseconds ping_interval{0};  // 0: tick() sends no pings
};

// Output the queue may hold beyond max_output (control frames).
inline constexpr size_t kControlSlack = 64 * 1024;

enum class Status : uint8_t {
  ok,           // n bytes moved (a write may be partial: a writable event follows)
  would_block,  // nothing now; a readable / writable event follows
  eof,          // read: the peer sent FIN and every byte before it was read
  closed,       // unknown or forgotten stream (a reset one too), or write after our close()
  failed,       // the session failed
};

struct IoResult {
  size_t n = 0;
  Status status = Status::ok;
};

enum class OpenError : uint8_t { none, failed, remote_go_away, too_many_streams, ids_exhausted };

struct OpenResult {
  uint32_t id = 0;
  OpenError error = OpenError::none;
};

enum class Failure : uint8_t {
  none,
  protocol_error,         // the peer broke the protocol; we sent GoAway(protocol error)
  remote_protocol_error,  // the peer's GoAway said we did
  remote_internal_error,  // the peer's GoAway(internal error), or an unknown GoAway code
  ping_timeout,           // a ping went unanswered for ping_interval
};

enum class EventKind : uint8_t {
  accepted,   // the peer opened stream_id
  readable,   // data or FIN arrived on stream_id
  writable,   // stream_id's window (or the output queue) opened after a short write
  reset,      // the peer reset stream_id; it is forgotten
  go_away,    // stream_id 0: the peer sent GoAway(normal); open() now fails
  failed,     // stream_id 0: the session failed (see failure())
};

struct Event {
  EventKind kind;
  uint32_t stream_id;
};

class Session {
 public:
  Session(Role role, const Config& config, TimePoint now);
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Transport input: any split of the byte stream. Returns bytes consumed:
  // all of `in`, unless the output queue is over its bound or the session
  // failed.
  size_t feed(std::span<const uint8_t> in, TimePoint now);

  // Transport output: the bytes to write next, then consumed(bytes written).
  // Mutable so that a WebSocket client may mask them in place.
  std::span<uint8_t> output() { return out_.front(); }
  void consumed(size_t n);
  size_t output_size() const { return out_.size(); }
  // Around a write of output() that may suspend: what output() showed stays
  // where it is, whatever is queued meanwhile (see ByteQueue::pin).
  void pin_output() { out_.pin(); }
  void unpin_output() { out_.unpin(); }

  // Next event, if any. readable/writable are reported once until polled.
  bool poll(Event& event);

  OpenResult open();
  IoResult write(uint32_t id, std::span<const uint8_t> data);
  // Zero-copy write: room for up to `max` payload bytes of one data frame,
  // inside the output queue (empty: nothing fits now, see status). Fill a
  // prefix, then commit_write(id, n) (n = 0 cancels). Nothing else may be
  // called on the session in between.
  std::span<uint8_t> prepare_write(uint32_t id, size_t max, Status* status);
  void commit_write(uint32_t id, size_t n);
  IoResult read(uint32_t id, std::span<uint8_t> out);
  // The buffered bytes of a stream, without taking them; consume() takes them.
  std::span<const uint8_t> peek(uint32_t id) const;
  IoResult consume(uint32_t id, size_t n);
  // Half-close: sends FIN; reads continue until eof. False: unknown stream.
  bool close(uint32_t id);
  // Sends RST and forgets the stream. False: unknown stream.
  bool reset(uint32_t id);

  // Sends a ping unless one is outstanding; its answer sets rtt().
  void ping(TimePoint now);
  // Keepalive: a ping every ping_interval; fails the session when one is
  // unanswered for ping_interval.
  void tick(TimePoint now);
  // Sends GoAway: the peer may open no more streams (ours continue).
  void go_away(GoAwayCode code = GoAwayCode::normal);

  bool going_away() const { return remote_go_away_; }  // the peer sent GoAway(normal)
  bool failed() const { return failure_ != Failure::none; }
  Failure failure() const { return failure_; }
  Clock::duration rtt() const { return rtt_; }  // zero until a ping was answered
  size_t stream_count() const { return streams_.size(); }
  bool has_stream(uint32_t id) const { return streams_.count(id) != 0; }
  size_t buffered(uint32_t id) const;     // received, not yet read
  bool remote_closed(uint32_t id) const;  // the peer sent FIN (or the stream is unknown)
  uint32_t send_window(uint32_t id) const;
  const Config& config() const { return config_; }

  // Frees empty buffers (output queue, idle streams' receive buffers, the
  // event queue): call when the session goes idle.
  void shrink();

 private:
  struct Stream {
    ByteQueue recv;
    uint32_t recv_window = kInitialWindow;  // credit the peer has left
    uint32_t send_window = kInitialWindow;
    bool local_fin = false;
    bool remote_fin = false;
    bool eof_told = false;
    bool want_write = false;
    bool readable_queued = false;
    bool writable_queued = false;
  };
  enum class Input : uint8_t { header, payload };

  // session.cpp
  Stream* find(uint32_t id);
  const Stream* find(uint32_t id) const;
  void push_event(EventKind kind, uint32_t id);
  void notify_readable(uint32_t id, Stream& s);
  void notify_writable(uint32_t id, Stream& s);
  void send_header(Type type, uint16_t flags, uint32_t id, uint32_t length);
  void send_window_update(uint32_t id, Stream& s, uint16_t flags);
  void maybe_forget(uint32_t id, Stream& s);
  void fail(Failure failure);
  size_t write_room(Stream& s, size_t want);

  // session_input.cpp
  bool on_header(const Header& h, TimePoint now);
  bool on_stream_header(const Header& h);
  bool accept_stream(uint32_t id);
  bool apply_flags(uint32_t id, Stream& s, uint16_t flags);
  void on_ping(const Header& h, TimePoint now);
  void on_go_away(const Header& h);
  size_t take_payload(std::span<const uint8_t> in);
  void finish_payload();

  Config config_;
  Role role_;
  bool remote_go_away_ = false;
  bool local_go_away_ = false;
  bool ping_outstanding_ = false;
  bool output_blocked_ = false;  // a write was cut short by the output bound
  Failure failure_ = Failure::none;
  Input input_ = Input::header;
  uint8_t header_len_ = 0;
  uint16_t payload_flags_ = 0;
  uint32_t payload_id_ = 0;
  uint32_t payload_left_ = 0;
  bool payload_keep_ = false;  // false: the payload is discarded
  uint32_t ping_id_ = 0;
  uint32_t prepared_ = 0;  // payload room handed out by prepare_write()
  uint64_t next_id_;
  uint8_t header_[kHeaderSize];
  TimePoint ping_sent_;
  TimePoint last_ping_;
  Clock::duration rtt_{};
  ByteQueue out_;
  std::unordered_map<uint32_t, Stream> streams_;
  std::vector<Event> events_;
  size_t events_head_ = 0;
};

}  // namespace sy::yamux
