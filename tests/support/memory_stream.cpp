#include "tests/support/memory_stream.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <cstring>

namespace sy::test {

namespace asio = boost::asio;
using boost::system::error_code;

// Each side's inbox: the bytes written to it, whether its writer is done,
// and the read waiting on it.
struct MemoryStream::Shared {
  struct Inbox {
    std::string data;
    bool eof = false;
    bool reset = false;
    bool closed = false;  // this side closed itself
    upstream::IoHandler reader;
    asio::mutable_buffer read_buffer;
  };
  explicit Shared(executor_type e) : ex(std::move(e)) {}
  executor_type ex;
  Inbox side[2];
};

std::pair<std::unique_ptr<MemoryStream>, std::unique_ptr<MemoryStream>> MemoryStream::pair(executor_type ex) {
  auto shared = std::make_shared<Shared>(std::move(ex));
  return {std::unique_ptr<MemoryStream>(new MemoryStream(shared, 0)),
          std::unique_ptr<MemoryStream>(new MemoryStream(shared, 1))};
}

MemoryStream::~MemoryStream() { close(); }

MemoryStream::executor_type MemoryStream::get_executor() { return shared_->ex; }

namespace {
void post_completion(const asio::any_io_executor& ex, upstream::IoHandler h, error_code ec, size_t n) {
  asio::post(ex, [h = std::move(h), ec, n]() mutable { std::move(h)(ec, n); });
}
}  // namespace

// Completes side's parked read if it can now make progress.
void MemoryStream::wake_reader(int side) {
  Shared::Inbox& in = shared_->side[side];
  if (!in.reader) return;
  error_code ec;
  size_t n = 0;
  if (in.closed) {
    ec = asio::error::operation_aborted;
  } else if (in.reset) {
    ec = asio::error::connection_reset;
  } else if (!in.data.empty()) {
    n = std::min(in.read_buffer.size(), in.data.size());
    std::memcpy(in.read_buffer.data(), in.data.data(), n);
    in.data.erase(0, n);
  } else if (in.eof) {
    ec = asio::error::eof;
  } else {
    return;
  }
  upstream::IoHandler h;
  h.swap(in.reader);
  post_completion(shared_->ex, std::move(h), ec, n);
}

void MemoryStream::do_read_some(asio::mutable_buffer buffer, upstream::IoHandler handler) {
  Shared::Inbox& in = shared_->side[side_];
  in.reader.swap(handler);  // member swap: Boost 1.81 any_completion_handler move-assignment wraps itself
  in.read_buffer = buffer;
  wake_reader(side_);
}

void MemoryStream::do_write_some(upstream::BufferList buffers, upstream::IoHandler handler) {
  Shared::Inbox& mine = shared_->side[side_];
  Shared::Inbox& peer = shared_->side[1 - side_];
  if (mine.closed) return post_completion(shared_->ex, std::move(handler), asio::error::operation_aborted, 0);
  if (mine.reset || peer.closed) return post_completion(shared_->ex, std::move(handler), asio::error::connection_reset, 0);
  size_t total = 0;
  for (const asio::const_buffer& b : buffers) {
    peer.data.append(static_cast<const char*>(b.data()), b.size());
    total += b.size();
  }
  wake_reader(1 - side_);
  post_completion(shared_->ex, std::move(handler), {}, total);
}

void MemoryStream::shutdown_send() {
  shared_->side[1 - side_].eof = true;
  wake_reader(1 - side_);
}

void MemoryStream::close() {
  Shared::Inbox& mine = shared_->side[side_];
  if (mine.closed) return;
  mine.closed = true;
  wake_reader(side_);
  shutdown_send();
}

void MemoryStream::reset() {
  shared_->side[1 - side_].reset = true;
  wake_reader(1 - side_);
  close();
}

bool MemoryStream::idle_usable() {
  const Shared::Inbox& mine = shared_->side[side_];
  return !mine.closed && !mine.eof && !mine.reset && mine.data.empty();
}

bool MemoryStream::closed() const { return shared_->side[side_].closed; }
bool MemoryStream::peer_closed() const { return shared_->side[1 - side_].closed || shared_->side[side_].reset; }
size_t MemoryStream::unread() const { return shared_->side[side_].data.size(); }

}  // namespace sy::test
