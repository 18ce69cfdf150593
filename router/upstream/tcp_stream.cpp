#include "router/upstream/tcp_stream.hpp"

#include <sys/socket.h>

#include <cerrno>

namespace sy::upstream {

void TcpStream::close() {
  socket_.shutdown(SHUT_RDWR);
  socket_.close();
}

void TcpStream::shutdown_send() { socket_.shutdown(SHUT_WR); }

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
