#include "tunnel/agent/node_connection.hpp"

#include <openssl/ssl.h>
#include <sys/socket.h>

#include <cerrno>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace sy::agent {

namespace {
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
}

NodeConnection::NodeConnection(io::Poller& poller, asio::ssl::context* tls)
    : socket_(poller, -1), tls_context_(tls), deadline_(poller.context()) {}

NodeConnection::NodeConnection(io::Poller& poller, int connected_fd)
    : socket_(poller, connected_fd), tls_context_(nullptr), deadline_(poller.context()) {}

void NodeConnection::arm_deadline(const std::shared_ptr<NodeConnection>& connection,
                                  std::chrono::steady_clock::duration d) {
  connection->deadline_.expires_after(d);
  std::weak_ptr<NodeConnection> weak = connection;
  connection->deadline_.async_wait([weak](error_code ec) {
    if (ec) return;
    if (auto c = weak.lock()) c->close();
  });
}

asio::awaitable<error_code> NodeConnection::connect(const ServerUrl& server) {
  asio::ip::tcp::resolver resolver(socket_.get_executor());
  auto resolved = co_await resolver.async_resolve(server.host, std::to_string(server.port), use_tuple);
  auto& [resolve_ec, results] = resolved;
  if (resolve_ec) co_return resolve_ec;
  error_code ec = asio::error::host_not_found;
  for (const auto& entry : results) {
    const auto endpoint = entry.endpoint();
    if (!socket_.open(endpoint.protocol().family())) {
      ec = error_code(errno, boost::system::system_category());
      continue;
    }
    auto connected = co_await socket_.async_connect(endpoint, use_tuple);
    ec = std::get<0>(connected);
    if (!ec) break;
    if (ec == asio::error::operation_aborted) co_return ec;  // the deadline closed us
  }
  if (ec) co_return ec;
  socket_.set_nodelay();
  if (!server.tls) co_return error_code{};
  if (!tls_context_) co_return asio::error::no_protocol_option;
  tls_.emplace(socket_, *tls_context_);
  if (!SSL_set_tlsext_host_name(tls_->native_handle(), server.host.c_str())) co_return asio::error::invalid_argument;
  tls_->set_verify_mode(asio::ssl::verify_peer);
  tls_->set_verify_callback(asio::ssl::host_name_verification(server.host), ec);
  if (ec) co_return ec;
  auto handshaken = co_await tls_->async_handshake(asio::ssl::stream_base::client, use_tuple);
  co_return std::get<0>(handshaken);
}

// Plain TCP makes its own non-blocking syscalls and waits for readiness
// only when the socket is drained: a read or write that can be done at once
// returns without a posted completion (one scheduler round less each way).
asio::awaitable<std::tuple<error_code, size_t>> NodeConnection::read_some(asio::mutable_buffer buffer) {
  if (tls_) {
    auto r = co_await tls_->async_read_some(buffer, use_tuple);
    co_return r;
  }
  for (;;) {
    if (!read_drained_) {
      const ssize_t n = ::recv(socket_.native_handle(), buffer.data(), buffer.size(), 0);
      if (n > 0) {
        if (static_cast<size_t>(n) < buffer.size()) {
          socket_.note_read_drained();  // unless a FIN came along: then the wait returns at once
          read_drained_ = true;
        }
        co_return std::tuple<error_code, size_t>{error_code{}, static_cast<size_t>(n)};
      }
      if (n == 0) co_return std::tuple<error_code, size_t>{asio::error::eof, 0};
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK)
        co_return std::tuple<error_code, size_t>{error_code(errno, boost::system::system_category()), 0};
      socket_.note_read_eagain();
    }
    read_drained_ = false;
    auto waited = co_await socket_.async_wait(io::Socket::wait_read, use_tuple);
    if (std::get<0>(waited)) co_return std::tuple<error_code, size_t>{std::get<0>(waited), 0};
  }
}

asio::awaitable<error_code> NodeConnection::write(asio::const_buffer buffer) {
  if (tls_) {
    auto r = co_await asio::async_write(*tls_, buffer, use_tuple);
    co_return std::get<0>(r);
  }
  const auto* p = static_cast<const uint8_t*>(buffer.data());
  size_t done = 0;
  while (done < buffer.size()) {
    const ssize_t n = ::send(socket_.native_handle(), p + done, buffer.size() - done, MSG_NOSIGNAL);
    if (n > 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) co_return error_code(errno, boost::system::system_category());
    socket_.note_write_eagain();
    auto waited = co_await socket_.async_wait(io::Socket::wait_write, use_tuple);
    if (std::get<0>(waited)) co_return std::get<0>(waited);
  }
  co_return error_code{};
}

void NodeConnection::close() {
  deadline_.cancel();
  if (!socket_.is_open()) return;
  socket_.shutdown(SHUT_RDWR);
  socket_.close();
}

}  // namespace sy::agent
