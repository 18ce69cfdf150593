#pragma once
// YamuxStream: a ByteStream over one yamux stream of an agent session — how
// a request reaches the agent's local service. Reads take from the stream's
// receive buffer (yamux window: bounded), writes go into the session's
// output queue within the stream's send window; both complete on the
// session's worker. Closing without a clean end resets the stream, so the
// agent drops its connection to the target too.
//
// Threading: the session's worker (CrossWorkerStream carries it to others).
#include <memory>

#include "router/upstream/byte_stream.hpp"
#include "tunnel/server/core.hpp"

namespace sy::tunnel {

class YamuxStream final : public upstream::ByteStream {
 public:
  YamuxStream(std::shared_ptr<SessionCore> core, uint32_t id) : core_(std::move(core)), id_(id) {}
  ~YamuxStream() override { close(); }

  executor_type get_executor() override { return core_->executor(); }
  void close() override;
  void shutdown_send() override { core_->shutdown_send(id_); }
  bool idle_usable() override { return !closed_ && core_->stream_usable(id_); }
  const SessionCore& core() const { return *core_; }

 protected:
  void do_read_some(boost::asio::mutable_buffer buffer, upstream::IoHandler handler) override;
  void do_write_some(upstream::BufferList buffers, upstream::IoHandler handler) override;

 private:
  std::shared_ptr<SessionCore> core_;
  uint32_t id_;
  bool closed_ = false;
};

}  // namespace sy::tunnel
