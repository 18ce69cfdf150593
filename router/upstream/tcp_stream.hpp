#pragma once
// TcpStream: ByteStream over a connected TCP socket.
#include <boost/asio/ip/tcp.hpp>

#include "router/upstream/byte_stream.hpp"

namespace sy::upstream {

class TcpStream final : public ByteStream {
 public:
  explicit TcpStream(asio::ip::tcp::socket socket) : socket_(std::move(socket)) {}
  executor_type get_executor() override { return socket_.get_executor(); }
  void close() override;
  void shutdown_send() override;
  bool idle_usable() override;
  asio::ip::tcp::socket* tcp_socket() override { return &socket_; }

 protected:
  void do_read_some(asio::mutable_buffer buffer, IoHandler handler) override;
  void do_write_some(BufferList buffers, IoHandler handler) override;

 private:
  asio::ip::tcp::socket socket_;
};

}  // namespace sy::upstream
