#pragma once
// SessionCore: one agent session's protocol state — the yamux session (the
// node is the yamux client), the WebSocket codec, and what each stream's
// reader and writer wait for. TunnelSession (session.hpp) runs the socket
// loops over it; YamuxStream (stream.hpp) is how a request uses one of its
// streams. It is shared, so that a stream a request or a pool still holds
// after the agent went away fails cleanly instead of touching freed state.
//
// SessionHandle is what the rest of the node holds of a session: its owner
// worker, its tunnel, and counters that any thread may read.
//
// Threading: SessionCore on its owner worker only (other workers reach a
// stream through upstream::CrossWorkerStream); SessionHandle's atomics
// anywhere, its `core` on the owner only.
#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>

#include "common/asio/wakeup.hpp"
#include "router/upstream/byte_stream.hpp"
#include "tunnel/ws/decoder.hpp"
#include "tunnel/ws/encoder.hpp"
#include "tunnel/yamux/session.hpp"

namespace sy::proxy {
class Worker;
}

namespace sy::tunnel {

class SessionCore;

struct SessionHandle {
  proxy::Worker* worker = nullptr;  // the owner
  std::string tunnel_id;
  std::string host;
  std::string remote;               // the agent's address
  int64_t since_unix = 0;
  bool tcp = false;                 // a TCP tunnel's session (raw bytes, an entry port)
  std::string address;              // the agent's declared IP:PORT ("" when none)
  std::string policy;               // its edge policy's wire text ("" when none)
  uint16_t tcp_port = 0;            // set by admit(): this node's entry port for the tunnel
  int refused_status = 409;         // set by admit() when it refuses
  std::atomic<int> streams{0};      // open now
  std::atomic<uint64_t> bytes_in{0};   // from the agent (responses)
  std::atomic<uint64_t> bytes_out{0};  // to the agent (requests)
  std::atomic<bool> usable{true};   // false once draining, going away or over
  std::weak_ptr<SessionCore> core;  // owner worker only
};

class SessionCore {
 public:
  using executor_type = boost::asio::any_io_executor;
  SessionCore(executor_type ex, const yamux::Config& config, yamux::TimePoint now,
              std::shared_ptr<SessionHandle> handle);

  executor_type executor() const { return ex_; }
  const std::shared_ptr<SessionHandle>& handle() const { return handle_; }
  bool alive() const { return alive_; }

  // Streams (YamuxStream). Completions are posted on the owner.
  yamux::OpenResult open_stream();
  void read(uint32_t id, boost::asio::mutable_buffer buffer, upstream::IoHandler handler);
  void write(uint32_t id, const upstream::BufferList& buffers, upstream::IoHandler handler);
  void shutdown_send(uint32_t id);
  // The proxy is done with the stream: RST unless both directions ended
  // cleanly; a waiting read or write completes with operation_aborted.
  void close_stream(uint32_t id);
  bool stream_usable(uint32_t id) const;
  // The flag the owner keeps for a caller on another worker: false once the
  // stream can carry no further exchange (reset, FIN, the session ended).
  std::shared_ptr<const std::atomic<bool>> usable_flag(uint32_t id) const;

  // Input (the read loop): WebSocket payload into yamux; returns the bytes
  // taken (fewer when the output is over its bound: wait for room, retry).
  size_t feed(std::span<const uint8_t> payload, yamux::TimePoint now);
  // After input or output: hand yamux's events to the waiting streams and
  // wake the writer when there is something to send.
  void dispatch();
  // Keepalive (worker tick): pings, and a dead session when one goes unanswered.
  void tick(yamux::TimePoint now);
  // Control frames go out before the next yamux bytes.
  void queue_pong(std::span<const uint8_t> payload);
  void queue_close(uint16_t code, std::string_view reason);
  void go_away();  // drain: the agent opens a replacement session elsewhere
  // The session is over: every waiting stream operation completes with `ec`.
  void end(boost::system::error_code ec);

  yamux::Session& mux() { return mux_; }
  ws::FrameDecoder& decoder() { return decoder_; }
  ws::FrameEncoder& encoder() { return encoder_; }
  std::string& control() { return control_; }  // frames the writer sends first
  Wakeup& writer_wake() { return writer_wake_; }
  Wakeup& room_wake() { return room_wake_; }
  bool closing() const { return closing_; }  // a close frame is queued: write it, then stop

 private:
  struct Slot {
    std::shared_ptr<std::atomic<bool>> usable = std::make_shared<std::atomic<bool>>(true);
    upstream::IoHandler read;
    boost::asio::mutable_buffer read_buffer;
    upstream::IoHandler write;
    upstream::BufferList write_buffers;
  };
  void try_read(uint32_t id, Slot& slot);
  void try_write(uint32_t id, Slot& slot);
  void fail(Slot& slot, boost::system::error_code ec);
  void forget(uint32_t id);
  void post(upstream::IoHandler h, boost::system::error_code ec, size_t n);

  executor_type ex_;
  yamux::Session mux_;
  ws::FrameDecoder decoder_{ws::Role::server};
  ws::FrameEncoder encoder_{ws::Role::server};
  std::shared_ptr<SessionHandle> handle_;
  std::unordered_map<uint32_t, Slot> slots_;  // streams the proxy holds
  std::string control_;
  Wakeup writer_wake_;
  Wakeup room_wake_;
  bool alive_ = true;
  bool closing_ = false;
  boost::system::error_code end_ec_;
};

}  // namespace sy::tunnel
