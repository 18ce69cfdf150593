#include "router/io/poller.hpp"

#include <sys/epoll.h>
#include <unistd.h>

#include <array>
#include <boost/asio/post.hpp>
#include <stdexcept>
#include <system_error>

#include "router/io/ring.hpp"
#include "router/io/socket.hpp"

namespace sy::io {
namespace {

// Events handled per wake-up. One batch, then back to Asio's queue: the
// completions a batch posted (and the buffers their sessions hold) run
// before the next batch is taken, so 10k connections closing at once do not
// hold 10k read buffers at the same time.
constexpr int kBatch = 64;

uint64_t make_token(uint32_t index, uint32_t generation) { return (uint64_t{generation} << 32) | index; }

}  // namespace

const char* to_string(Engine engine) { return engine == Engine::io_uring ? "io_uring" : "epoll"; }

bool io_uring_available(std::string* why) { return Ring::create(why) != nullptr; }

Poller::Poller(boost::asio::io_context& io, Engine engine) : io_(io) {
  if (engine == Engine::io_uring) {
    std::string why;
    ring_ = Ring::create(&why);
    if (!ring_) throw std::runtime_error(why);
    return;
  }
  epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epfd_ < 0) throw std::system_error(errno, std::generic_category(), "epoll_create1");
}

Poller::~Poller() {
  if (ring_) {
    try {
      ring_->flush();  // the closes still queued
    } catch (const std::exception&) {  // a broken ring: the worker is ending anyway
    }
  }
  nested_.reset();
  if (epfd_ >= 0) ::close(epfd_);
}

void Poller::start() {
  const int nested = ::dup(ring_ ? ring_->fd() : epfd_);  // the descriptor object owns (and closes) its fd
  if (nested < 0) throw std::system_error(errno, std::generic_category(), "dup");
  nested_ = std::make_unique<boost::asio::posix::stream_descriptor>(io_, nested);
  arm();
}

void Poller::close() {
  if (!nested_) return;
  boost::system::error_code ignored;
  nested_->close(ignored);
  nested_.reset();
}

void Poller::destroy_pending() {
  // Destroying a handler may destroy sessions, whose sockets detach: walk
  // tokens, and skip those whose socket went meanwhile.
  std::vector<uint64_t> live;
  for (uint32_t i = 0; i < slots_.size(); ++i)
    if (slots_[i]) live.push_back(make_token(i, generations_[i]));
  for (uint64_t token : live) {
    const auto index = static_cast<uint32_t>(token);
    if (generations_[index] == static_cast<uint32_t>(token >> 32) && slots_[index]) slots_[index]->destroy_pending();
  }
}

uint64_t Poller::attach(Socket* socket) {
  uint32_t index;
  if (!free_.empty()) {
    index = free_.back();
    free_.pop_back();
    slots_[index] = socket;
  } else {
    index = static_cast<uint32_t>(slots_.size());
    slots_.push_back(socket);
    generations_.push_back(0);
  }
  return make_token(index, generations_[index]);
}

void Poller::detach(uint64_t token) {
  const auto index = static_cast<uint32_t>(token);
  if (lookup(token) == nullptr) return;
  slots_[index] = nullptr;
  // Events and completions still queued for the old socket are dropped.
  generations_[index] = (generations_[index] + 1) & kGenerationMask;
  free_.push_back(index);
}

bool Poller::watch(int fd, uint64_t token) {
  ::epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.u64 = token;
  return ::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) == 0;
}

void Poller::arm() {
  if (!nested_) return;
  nested_->async_wait(boost::asio::posix::stream_descriptor::wait_read, [this](const boost::system::error_code& ec) {
    if (ec || !nested_) return;
    dispatch();
    arm();
  });
}

Socket* Poller::lookup(uint64_t token) const {
  const auto index = static_cast<uint32_t>(token);
  const auto generation = static_cast<uint32_t>(token >> 32) & kGenerationMask;
  return index < slots_.size() && generations_[index] == generation ? slots_[index] : nullptr;
}

void Poller::dispatch() {
  if (ring_) return reap(true);
  std::array<::epoll_event, kBatch> events;
  const int n = ::epoll_wait(epfd_, events.data(), kBatch, 0);
  for (int i = 0; i < n; ++i) {
    // Looked up per event: an earlier completion may have closed this socket.
    if (Socket* s = lookup(events[i].data.u64)) s->on_event(events[i].events);
  }
  // More ready events re-fire the nested descriptor when arm() re-registers it.
}

void Poller::want_flush() {
  if (flush_posted_) return;
  flush_posted_ = true;
  boost::asio::post(io_, [this] { flush(); });
}

// One pass's submissions in one io_uring_enter; receives and sends that can
// complete at once have done so when it returns, so their completions are
// taken here and run (their handlers queue the next operations, for the
// next flush).
void Poller::flush() {
  flush_posted_ = false;
  if (!ring_) return;
  ring_->flush();
  reap(true);
}

void Poller::settle() {
  ring_->flush();
  reap(false);
}

// `direct`: run the completions here (a handler of its own, as the epoll
// engine's dispatch); otherwise post them (called from inside close() or a
// cancellation, where a completion must not run). One batch at a time, copied
// out first: a completion may close sockets, which settles the ring itself.
void Poller::reap(bool direct) {
  Completion batch[kBatch];
  for (;;) {
    const unsigned n = ring_->take(batch, kBatch);
    for (unsigned i = 0; i < n; ++i) {
      const uint64_t kind = batch[i].user_data >> 62;
      if (kind > 1) continue;  // a cancellation's or a close's own completion
      const auto serial = static_cast<uint32_t>(batch[i].user_data >> 61) & 1;
      if (Socket* s = lookup(batch[i].user_data & kTokenMask))
        s->on_completion(kind == 0 ? Socket::read_side : Socket::write_side, serial, batch[i].res, direct);
    }
    if (n < kBatch) break;
    if (direct) {  // the rest after what this batch posted, as dispatch() does
      boost::asio::post(io_, [this] { reap(true); });
      break;
    }
  }
  if (ring_->queued()) want_flush();
}

bool Poller::close_fd(int fd) {
  if (!ring_) return false;
  ring_->queue_close(fd, kNoAnswer);
  want_flush();
  return true;
}

}  // namespace sy::io
