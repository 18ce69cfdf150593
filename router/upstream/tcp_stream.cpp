#include "router/upstream/tcp_stream.hpp"

#include <sys/socket.h>

namespace sy::upstream {

void TcpStream::close() {
  error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
}

void TcpStream::shutdown_send() {
  error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
}

bool TcpStream::idle_usable() {
  if (!socket_.is_open()) return false;
  char byte;
  ssize_t n = ::recv(socket_.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  // n == 0: the backend closed; n > 0: stray bytes, the framing is lost.
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

void TcpStream::do_read_some(asio::mutable_buffer buffer, IoHandler handler) {
  socket_.async_read_some(buffer, std::move(handler));
}

void TcpStream::do_write_some(BufferList buffers, IoHandler handler) {
  socket_.async_write_some(buffers, std::move(handler));
}

}  // namespace sy::upstream
