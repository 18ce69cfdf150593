#include "tunnel/server/stream.hpp"

namespace sy::tunnel {

void YamuxStream::close() {
  if (closed_) return;
  closed_ = true;
  core_->close_stream(id_);
}

void YamuxStream::do_read_some(boost::asio::mutable_buffer buffer, upstream::IoHandler handler) {
  core_->read(id_, buffer, std::move(handler));  // a closed stream's slot is gone: operation_aborted
}

void YamuxStream::do_write_some(upstream::BufferList buffers, upstream::IoHandler handler) {
  core_->write(id_, buffers, std::move(handler));
}

}  // namespace sy::tunnel
