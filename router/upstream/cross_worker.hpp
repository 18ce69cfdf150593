#pragma once
// CrossWorkerStream: the threading contract of byte_stream.hpp made
// concrete. A request on one worker (the caller) uses a stream whose
// resource lives on another worker (the owner) — a yamux stream of a tunnel
// session the other worker accepted. Each call is posted to the owner's
// executor; each completion is posted back to the caller's. The inner stream
// is shared with the operations in flight, so it outlives them; destroying
// the adapter hands the last reference to its owner with a close, so the
// inner stream is always closed and destroyed on its own worker.
//
// Per-operation cancellation (Asio's cancellation slots) does not cross
// workers: cancel with close(), as the proxy does.
//
// Threading: every call on the caller's worker (get_executor()).
#include <atomic>
#include <memory>

#include "router/upstream/byte_stream.hpp"

namespace sy::upstream {

class CrossWorkerStream final : public ByteStream {
 public:
  // `inner` reports its owner's executor; `caller` is the requesting worker's.
  // `usable`, when given, is kept by the owner: false once the inner stream
  // can carry no further exchange (it is what idle_usable() reads, so the
  // stream can be pooled on the caller's worker).
  CrossWorkerStream(executor_type caller, std::shared_ptr<ByteStream> inner,
                    std::shared_ptr<const std::atomic<bool>> usable = nullptr);
  ~CrossWorkerStream() override;

  executor_type get_executor() override { return caller_; }
  void close() override;
  void shutdown_send() override;
  bool idle_usable() override { return usable_ && usable_->load(std::memory_order_acquire); }

 protected:
  void do_read_some(asio::mutable_buffer buffer, IoHandler handler) override;
  void do_write_some(BufferList buffers, IoHandler handler) override;

 private:
  executor_type caller_;
  std::shared_ptr<ByteStream> inner_;
  std::shared_ptr<const std::atomic<bool>> usable_;
};

}  // namespace sy::upstream
