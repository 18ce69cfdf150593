#include "router/upstream/tcp_stream.hpp"

#include <sys/socket.h>


namespace sy::upstream {

void TcpStream::close() {
  socket_.shutdown(SHUT_RDWR);
  socket_.close();
}

void TcpStream::shutdown_send() { socket_.shutdown(SHUT_WR); }

// Stray bytes mean the framing is lost; EOF that the backend closed.
bool TcpStream::idle_usable() { return socket_.peek() == io::Socket::Peek::quiet; }

void TcpStream::do_read_some(asio::mutable_buffer buffer, IoHandler handler) {
  socket_.async_read_some(buffer, std::move(handler));
}

void TcpStream::do_write_some(BufferList buffers, IoHandler handler) {
  socket_.async_write_some(buffers, std::move(handler));
}

}  // namespace sy::upstream
