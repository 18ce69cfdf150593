#pragma once
// TcpStream: ByteStream over a TCP connection (an io::Socket).
#include "router/io/socket.hpp"
#include "router/upstream/byte_stream.hpp"

namespace sy::upstream {

class TcpStream final : public ByteStream {
 public:
  // Not connected yet: socket().open() and async_connect() come next.
  explicit TcpStream(io::Poller& poller) : socket_(poller, -1) {}
  executor_type get_executor() override { return socket_.get_executor(); }
  void close() override;
  void shutdown_send() override;
  bool idle_usable() override;
  io::Socket* splice_socket() override { return &socket_; }
  io::Socket& socket() { return socket_; }

 protected:
  void do_read_some(asio::mutable_buffer buffer, IoHandler handler) override;
  void do_write_some(BufferList buffers, IoHandler handler) override;

 private:
  io::Socket socket_;
};

}  // namespace sy::upstream
