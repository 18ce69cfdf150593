#include "router/upstream/cross_worker.hpp"

#include <boost/asio/post.hpp>

namespace sy::upstream {
namespace {

// The completion the owner calls: hops back to the caller's worker.
struct BackToCaller {
  asio::any_io_executor caller;
  IoHandler handler;
  void operator()(error_code ec, size_t n) {
    asio::post(caller, [h = std::move(handler), ec, n]() mutable { std::move(h)(ec, n); });
  }
};

}  // namespace

CrossWorkerStream::CrossWorkerStream(executor_type caller, std::shared_ptr<ByteStream> inner,
                                     std::shared_ptr<const std::atomic<bool>> usable)
    : caller_(std::move(caller)), inner_(std::move(inner)), usable_(std::move(usable)) {}

// The inner stream must end on its owner's thread: the last reference goes
// there with the close, none stays here.
CrossWorkerStream::~CrossWorkerStream() {
  executor_type owner = inner_->get_executor();
  asio::post(owner, [inner = std::move(inner_)] { inner->close(); });
}

void CrossWorkerStream::close() {
  asio::post(inner_->get_executor(), [inner = inner_] { inner->close(); });
}

void CrossWorkerStream::shutdown_send() {
  asio::post(inner_->get_executor(), [inner = inner_] { inner->shutdown_send(); });
}

void CrossWorkerStream::do_read_some(asio::mutable_buffer buffer, IoHandler handler) {
  asio::post(inner_->get_executor(), [inner = inner_, buffer, back = BackToCaller{caller_, std::move(handler)}]() mutable {
    inner->async_read_some(buffer, std::move(back));
  });
}

void CrossWorkerStream::do_write_some(BufferList buffers, IoHandler handler) {
  asio::post(inner_->get_executor(), [inner = inner_, buffers, back = BackToCaller{caller_, std::move(handler)}]() mutable {
    inner->async_write_some(buffers, std::move(back));
  });
}

}  // namespace sy::upstream
