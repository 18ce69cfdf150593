#include "tunnel/server/core.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>

namespace sy::tunnel {

namespace asio = boost::asio;
using boost::system::error_code;

SessionCore::SessionCore(executor_type ex, const yamux::Config& config, yamux::TimePoint now,
                         std::shared_ptr<SessionHandle> handle)
    : ex_(ex), mux_(yamux::Role::client, config, now), handle_(std::move(handle)), writer_wake_(ex), room_wake_(ex) {}

void SessionCore::post(upstream::IoHandler h, error_code ec, size_t n) {
  asio::post(ex_, [h = std::move(h), ec, n]() mutable { std::move(h)(ec, n); });
}

yamux::OpenResult SessionCore::open_stream() {
  if (!alive_ || closing_) return {0, yamux::OpenError::failed};
  yamux::OpenResult r = mux_.open();
  if (r.error != yamux::OpenError::none) return r;
  slots_.try_emplace(r.id);
  handle_->streams.fetch_add(1, std::memory_order_relaxed);
  writer_wake_.notify();  // the SYN
  return r;
}

void SessionCore::read(uint32_t id, asio::mutable_buffer buffer, upstream::IoHandler handler) {
  auto it = slots_.find(id);
  if (!alive_ || it == slots_.end()) return post(std::move(handler), alive_ ? asio::error::operation_aborted : end_ec_, 0);
  it->second.read.swap(handler);  // member swap: Boost 1.81 any_completion_handler
  it->second.read_buffer = buffer;
  try_read(id, it->second);
}

void SessionCore::try_read(uint32_t id, Slot& slot) {
  if (!slot.read) return;
  auto* p = static_cast<uint8_t*>(slot.read_buffer.data());
  yamux::IoResult r = mux_.read(id, std::span<uint8_t>(p, slot.read_buffer.size()));
  error_code ec;
  switch (r.status) {
    case yamux::Status::would_block: return;  // a readable event brings us back
    case yamux::Status::ok: handle_->bytes_in.fetch_add(r.n, std::memory_order_relaxed); break;
    case yamux::Status::eof: ec = asio::error::eof; break;
    default: ec = asio::error::connection_reset; break;
  }
  upstream::IoHandler h;
  h.swap(slot.read);
  post(std::move(h), ec, r.n);
  if (r.n > 0) writer_wake_.notify();  // reading may have released a window update
}

void SessionCore::write(uint32_t id, const upstream::BufferList& buffers, upstream::IoHandler handler) {
  auto it = slots_.find(id);
  if (!alive_ || it == slots_.end()) return post(std::move(handler), alive_ ? asio::error::operation_aborted : end_ec_, 0);
  it->second.write.swap(handler);
  it->second.write_buffers = buffers;
  try_write(id, it->second);
}

void SessionCore::try_write(uint32_t id, Slot& slot) {
  if (!slot.write) return;
  size_t done = 0;
  yamux::Status status = yamux::Status::ok;
  for (const asio::const_buffer& b : slot.write_buffers) {
    const auto* p = static_cast<const uint8_t*>(b.data());
    yamux::IoResult r = mux_.write(id, std::span<const uint8_t>(p, b.size()));
    done += r.n;
    status = r.status;
    if (r.status != yamux::Status::ok || r.n < b.size()) break;
  }
  if (done == 0 && status == yamux::Status::would_block) return;  // a writable event brings us back
  upstream::IoHandler h;
  h.swap(slot.write);
  handle_->bytes_out.fetch_add(done, std::memory_order_relaxed);
  const error_code ec = done > 0 ? error_code() : error_code(asio::error::connection_reset);
  post(std::move(h), ec, done);
  writer_wake_.notify();
}

void SessionCore::shutdown_send(uint32_t id) {
  if (alive_ && mux_.close(id)) writer_wake_.notify();
}

void SessionCore::close_stream(uint32_t id) {
  auto it = slots_.find(id);
  if (it == slots_.end()) return;
  fail(it->second, asio::error::operation_aborted);
  if (alive_ && mux_.has_stream(id)) {
    mux_.reset(id);
    writer_wake_.notify();
  }
  forget(id);
}

bool SessionCore::stream_usable(uint32_t id) const {
  return alive_ && !closing_ && slots_.count(id) && !mux_.remote_closed(id) && mux_.buffered(id) == 0 &&
         handle_->usable.load(std::memory_order_relaxed);
}

void SessionCore::forget(uint32_t id) {
  auto it = slots_.find(id);
  if (it == slots_.end()) return;
  it->second.usable->store(false, std::memory_order_release);
  slots_.erase(it);
  handle_->streams.fetch_sub(1, std::memory_order_relaxed);
}

std::shared_ptr<const std::atomic<bool>> SessionCore::usable_flag(uint32_t id) const {
  auto it = slots_.find(id);
  if (it != slots_.end()) return it->second.usable;
  return std::make_shared<std::atomic<bool>>(false);
}

void SessionCore::fail(Slot& slot, error_code ec) {
  if (slot.read) {
    upstream::IoHandler h;
    h.swap(slot.read);
    post(std::move(h), ec, 0);
  }
  if (slot.write) {
    upstream::IoHandler h;
    h.swap(slot.write);
    post(std::move(h), ec, 0);
  }
}

size_t SessionCore::feed(std::span<const uint8_t> payload, yamux::TimePoint now) {
  if (!alive_) return payload.size();
  return mux_.feed(payload, now);
}

void SessionCore::dispatch() {
  yamux::Event e;
  while (mux_.poll(e)) {
    auto it = slots_.find(e.stream_id);
    switch (e.kind) {
      case yamux::EventKind::readable:
        if (it == slots_.end()) break;
        if (mux_.remote_closed(e.stream_id)) it->second.usable->store(false, std::memory_order_release);
        try_read(e.stream_id, it->second);
        break;
      case yamux::EventKind::writable:
        if (it != slots_.end()) try_write(e.stream_id, it->second);
        break;
      case yamux::EventKind::reset:
        if (it == slots_.end()) break;
        it->second.usable->store(false, std::memory_order_release);
        fail(it->second, asio::error::connection_reset);
        break;
      case yamux::EventKind::accepted:  // agents never open streams (SPEC §5.2)
        mux_.reset(e.stream_id);
        break;
      case yamux::EventKind::go_away:
        handle_->usable.store(false, std::memory_order_relaxed);
        break;
      case yamux::EventKind::failed: queue_close(1002, "yamux protocol error"); break;
    }
  }
  if (mux_.output_size() > 0 || !control_.empty()) writer_wake_.notify();
}

void SessionCore::tick(yamux::TimePoint now) {
  if (!alive_) return;
  mux_.tick(now);
  if (mux_.failed()) end(asio::error::timed_out);
  if (mux_.output_size() > 0) writer_wake_.notify();
}

void SessionCore::queue_pong(std::span<const uint8_t> payload) {
  uint8_t frame[ws::kMaxControlFrameSize];
  const size_t n = encoder_.pong(frame, payload);
  control_.append(reinterpret_cast<const char*>(frame), n);
  writer_wake_.notify();
}

void SessionCore::queue_close(uint16_t code, std::string_view reason) {
  if (closing_) return;
  uint8_t frame[ws::kMaxControlFrameSize];
  const size_t n = encoder_.close(frame, code, reason);
  control_.append(reinterpret_cast<const char*>(frame), n);
  closing_ = true;
  handle_->usable.store(false, std::memory_order_relaxed);
  writer_wake_.notify();
}

void SessionCore::go_away() {
  if (!alive_ || closing_) return;
  mux_.go_away();
  handle_->usable.store(false, std::memory_order_relaxed);
  // Pooled streams used from other workers look at their own flag: none is
  // reused, so the agent can close this session once the streams in flight end.
  for (auto& [id, slot] : slots_) slot.usable->store(false, std::memory_order_release);
  writer_wake_.notify();
}

void SessionCore::end(error_code ec) {
  if (!alive_) return;
  alive_ = false;
  end_ec_ = ec ? ec : error_code(asio::error::connection_reset);
  handle_->usable.store(false, std::memory_order_relaxed);
  for (auto& [id, slot] : slots_) {
    slot.usable->store(false, std::memory_order_release);
    fail(slot, end_ec_);
  }
  handle_->streams.fetch_sub(static_cast<int>(slots_.size()), std::memory_order_relaxed);
  slots_.clear();
  writer_wake_.close();
  room_wake_.close();
}

}  // namespace sy::tunnel
