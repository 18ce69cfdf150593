#include "tests/support/tcp_target.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <vector>

namespace sy::test {

namespace {

void set_timeout(int fd, int timeout_ms) {
  timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

bool write_all(int fd, const uint8_t* p, size_t n) {
  while (n > 0) {
    const ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

}  // namespace

uint8_t pattern_byte(uint32_t seed, uint64_t i) {
  const uint64_t x = i * 2654435761u + seed * 40503u + (i >> 13);
  return static_cast<uint8_t>(x >> 11);
}

int connect_tcp(uint16_t port, int timeout_ms) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  set_timeout(fd, timeout_ms);
  return fd;
}

TcpTarget::TcpTarget(Mode mode) : mode_(mode) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 512) != 0 || ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    return;
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

TcpTarget::~TcpTarget() {
  stopping_ = true;
  if (listen_fd_ >= 0) ::shutdown(listen_fd_, SHUT_RDWR);
  if (acceptor_.joinable()) acceptor_.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  std::vector<std::thread> workers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
    workers.swap(workers_);
  }
  for (auto& t : workers) t.join();
}

void TcpTarget::accept_loop() {
  while (!stopping_) {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return;
    }
    ++accepted_;
    set_timeout(fd, 60000);
    std::lock_guard<std::mutex> lock(mu_);
    fds_.push_back(fd);
    workers_.emplace_back([this, fd] { serve(fd); });
  }
}

void TcpTarget::serve(int fd) {
  if (mode_ == Mode::stall_first && accepted_.load() == 1 && !stalled_.exchange(true)) {
    while (!stopping_) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ::close(fd);
    return;
  }
  std::vector<uint8_t> buf(64 * 1024);
  uint64_t total = 0;
  bool eof = false;
  for (;;) {
    const ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) eof = true;
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) ++ended_;
    if (n <= 0) break;
    total += static_cast<uint64_t>(n);
    if (mode_ != Mode::count_at_eof && !write_all(fd, buf.data(), static_cast<size_t>(n))) break;
  }
  if (eof) {
    ++eofs_;
    if (mode_ == Mode::count_at_eof) {
      const std::string answer = "count=" + std::to_string(total) + "\n";
      write_all(fd, reinterpret_cast<const uint8_t*>(answer.data()), answer.size());
    }
    ::shutdown(fd, SHUT_WR);
  }
  // Wait for the client's close before closing (no reset over unread data).
  while (::recv(fd, buf.data(), buf.size(), 0) > 0) {
  }
  std::lock_guard<std::mutex> lock(mu_);
  std::erase(fds_, fd);
  ::close(fd);
}

std::string echo_exchange(uint16_t port, size_t bytes, uint32_t seed) {
  const int fd = connect_tcp(port, 60000);
  if (fd < 0) return "connect failed";
  std::string write_error;
  std::thread writer([&] {
    std::vector<uint8_t> chunk(32 * 1024);
    for (size_t off = 0; off < bytes;) {
      const size_t n = std::min(chunk.size(), bytes - off);
      for (size_t i = 0; i < n; ++i) chunk[i] = pattern_byte(seed, off + i);
      if (!write_all(fd, chunk.data(), n)) {
        write_error = "write failed at " + std::to_string(off) + ": " + std::strerror(errno);
        return;
      }
      off += n;
    }
    ::shutdown(fd, SHUT_WR);
  });
  std::string error;
  std::vector<uint8_t> buf(64 * 1024);
  size_t got = 0;
  for (;;) {
    const ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error = "read failed after " + std::to_string(got) + " bytes: " + std::strerror(errno);
      break;
    }
    if (n == 0) break;
    for (ssize_t i = 0; i < n && error.empty(); ++i)
      if (buf[static_cast<size_t>(i)] != pattern_byte(seed, got + static_cast<size_t>(i)))
        error = "byte " + std::to_string(got + static_cast<size_t>(i)) + " differs";
    got += static_cast<size_t>(n);
    if (!error.empty()) break;
  }
  if (!error.empty()) ::shutdown(fd, SHUT_RDWR);
  writer.join();
  ::close(fd);
  if (!write_error.empty()) return write_error;
  if (!error.empty()) return error;
  if (got != bytes) return "got " + std::to_string(got) + " bytes, want " + std::to_string(bytes);
  return {};
}

}  // namespace sy::test
