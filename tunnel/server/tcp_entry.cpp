#include "tunnel/server/tcp_entry.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/log/log.hpp"
#include "common/net/accept_backoff.hpp"
#include "router/proxy/worker.hpp"
#include "tunnel/server/entry.hpp"
#include "tunnel/server/node.hpp"

namespace sy::tunnel {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

std::string peer_ip(const tcp::endpoint& peer) {
  const asio::ip::address a = peer.address();
  return a.is_v6() && a.to_v6().is_v4_mapped() ? asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6()).to_string()
                                                : a.to_string();
}

// Accepts until the socket is closed (stop(), or the worker going away).
// Out of descriptors the socket stays readable: AcceptBackoff waits (10 ms
// doubling to 1 s) instead of spinning, as the worker's own listeners do.
asio::awaitable<void> accept_loop(std::shared_ptr<tcp::acceptor> acceptor, proxy::Worker& worker, TunnelNode& node,
                                  std::string tunnel_id, std::string tunnel_host) {
  const auto tuple = asio::as_tuple(asio::use_awaitable);
  const uint16_t port = acceptor->local_endpoint().port();
  AcceptBackoff backoff("tcp-entry:" + std::to_string(port));
  asio::steady_timer pause(worker.io());
  for (;;) {
    auto [ec] = co_await acceptor->async_wait(tcp::acceptor::wait_read, tuple);
    if (ec || !acceptor->is_open()) co_return;
    std::chrono::milliseconds wait{0};
    for (int i = 0; i < 64 && wait.count() == 0; ++i) {
      tcp::endpoint peer;
      socklen_t len = static_cast<socklen_t>(peer.capacity());
      const int fd = ::accept4(acceptor->native_handle(), peer.data(), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        wait = backoff.failed(errno, std::chrono::steady_clock::now());
        continue;
      }
      backoff.succeeded();
      peer.resize(len);
      if (!worker.context().take_client_slot()) {  // given back when the visitor's relay ends
        ::close(fd);
        continue;
      }
      asio::co_spawn(worker.io(), serve_tcp_visitor(node, worker, tunnel_id, tunnel_host, port, fd, peer_ip(peer)),
                     asio::detached);
    }
    if (wait.count() > 0) {
      pause.expires_after(wait);
      auto [pec] = co_await pause.async_wait(tuple);
      if (pec) co_return;
    }
  }
}

}  // namespace

namespace {

std::shared_ptr<tcp::acceptor> listen_on(proxy::Worker& worker, const asio::ip::address& address, uint16_t port) {
  boost::system::error_code ec;
  auto acceptor = std::make_shared<tcp::acceptor>(worker.io());
  const tcp::endpoint endpoint(address, port);
  acceptor->open(endpoint.protocol(), ec);
  if (!ec) acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor->bind(endpoint, ec);
  if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (!ec) acceptor->non_blocking(true, ec);
  return ec ? nullptr : acceptor;
}

}  // namespace

std::shared_ptr<TcpEntry> TcpEntry::bind(proxy::Worker& worker, TunnelNode& node, std::string tunnel_id,
                                         std::string tunnel_host, const std::string& address_text,
                                         uint16_t preferred, uint16_t first, uint16_t last, uint16_t* cursor) {
  boost::system::error_code ec;
  const asio::ip::address address = asio::ip::make_address(address_text, ec);
  if (ec || first == 0 || first > last) return nullptr;
  const unsigned span = static_cast<unsigned>(last - first) + 1;
  std::shared_ptr<tcp::acceptor> acceptor;
  uint16_t port = 0;
  if (preferred >= first && preferred <= last && (acceptor = listen_on(worker, address, preferred))) port = preferred;
  for (unsigned i = 0; i < span && !acceptor; ++i) {
    const unsigned from = *cursor < first || *cursor > last ? first : *cursor;
    port = static_cast<uint16_t>(first + (from - first + i) % span);
    acceptor = listen_on(worker, address, port);
  }
  if (!acceptor) return nullptr;
  *cursor = static_cast<uint16_t>(port == last ? first : port + 1);
  std::shared_ptr<TcpEntry> entry(new TcpEntry(worker, port, acceptor));
  asio::co_spawn(worker.io(), accept_loop(std::move(acceptor), worker, node, std::move(tunnel_id), std::move(tunnel_host)),
                 asio::detached);
  return entry;
}

void TcpEntry::stop() {
  asio::post(worker_.io(), [weak = acceptor_] {
    if (auto acceptor = weak.lock()) {
      boost::system::error_code ignored;
      acceptor->close(ignored);
    }
  });
}

}  // namespace sy::tunnel
