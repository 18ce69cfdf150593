#include "tests/support/raw_socket.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <linux/sockios.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace sy::test {

std::string RawResponse::header(std::string_view name) const {
  size_t pos = head.find("\r\n");
  while (pos != std::string::npos && pos + 2 < head.size()) {
    const size_t start = pos + 2;
    const size_t end = head.find("\r\n", start);
    const std::string_view line =
        std::string_view(head).substr(start, (end == std::string::npos ? head.size() : end) - start);
    const size_t colon = line.find(':');
    if (colon == name.size() && ::strncasecmp(line.data(), name.data(), name.size()) == 0) {
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
      while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
      return std::string(value);
    }
    pos = end;
  }
  return {};
}

RawSocket::~RawSocket() { close(); }

std::optional<size_t> RawSocket::unread_by_peer() const {
  if (fd_ < 0) return std::nullopt;
  int queued = 0;
  if (::ioctl(fd_, SIOCOUTQ, &queued) != 0) return std::nullopt;
  sockaddr_in local{}, peer{};
  socklen_t len = sizeof local;
  if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&local), &len) != 0) return std::nullopt;
  len = sizeof peer;
  if (::getpeername(fd_, reinterpret_cast<sockaddr*>(&peer), &len) != 0) return std::nullopt;
  // The peer's socket: its local address is our peer, its remote one us.
  char want_local[16], want_remote[16];
  std::snprintf(want_local, sizeof want_local, "%08X:%04X", peer.sin_addr.s_addr, ntohs(peer.sin_port));
  std::snprintf(want_remote, sizeof want_remote, "%08X:%04X", local.sin_addr.s_addr, ntohs(local.sin_port));
  std::ifstream table("/proc/net/tcp");
  std::string line;
  while (std::getline(table, line)) {
    std::istringstream fields(line);
    std::string slot, local_address, remote_address, state, queues;
    fields >> slot >> local_address >> remote_address >> state >> queues;
    if (local_address != want_local || remote_address != want_remote) continue;
    const size_t colon = queues.find(':');
    if (colon == std::string::npos) return std::nullopt;
    return static_cast<size_t>(queued) + std::strtoull(queues.c_str() + colon + 1, nullptr, 16);
  }
  return std::nullopt;
}

void RawSocket::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool RawSocket::shutdown_write() { return fd_ >= 0 && ::shutdown(fd_, SHUT_WR) == 0; }

bool RawSocket::connect(uint16_t port) { return connect("127.0.0.1", port); }

bool RawSocket::connect(const std::string& ipv4, uint16_t port) {
  close();
  peer_closed_ = false;
  buffer_.clear();
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (::inet_pton(AF_INET, ipv4.c_str(), &addr.sin_addr) != 1) {
    close();
    return false;
  }
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close();
    return false;
  }
  const int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return true;
}

uint16_t RawSocket::local_port() const {
  if (fd_ < 0) return 0;
  sockaddr_in addr{};
  socklen_t len = sizeof addr;
  if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return 0;
  return ntohs(addr.sin_port);
}

bool RawSocket::send(std::string_view data) {
  while (!data.empty()) {
    if (fd_ < 0) return false;
    const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

bool RawSocket::read_more(std::chrono::steady_clock::time_point deadline) {
  if (fd_ < 0 || peer_closed_) return false;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd p{fd_, POLLIN, 0};  // at or past the deadline: one look, no wait
    const int ready = ::poll(&p, 1, static_cast<int>(std::max<long long>(0, left.count())));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return false;
    char chunk[16384];
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {  // EOF, or reset (ECONNRESET): closed either way
      peer_closed_ = true;
      return false;
    }
    buffer_.append(chunk, static_cast<size_t>(n));
    return true;
  }
}

bool RawSocket::wait_closed(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!peer_closed_) {
    if (!read_more(deadline) && !peer_closed_) return false;
  }
  return true;
}

bool RawSocket::send_while_open(std::string_view data, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!data.empty() && fd_ >= 0 && !peer_closed_) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN | POLLOUT, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return false;
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
      read_more(deadline);
      continue;
    }
    const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return data.empty();
}

namespace {

// The end of a chunked body that starts at `at` in `text` (decoded into
// `body`), or npos while it is incomplete or malformed.
size_t chunked_end(const std::string& text, size_t at, std::string* body) {
  body->clear();
  while (true) {
    const size_t eol = text.find("\r\n", at);
    if (eol == std::string::npos) return std::string::npos;
    const size_t size = std::strtoull(text.c_str() + at, nullptr, 16);
    at = eol + 2;
    if (size == 0) break;
    if (text.size() < at + size + 2) return std::string::npos;
    body->append(text, at, size);
    at += size + 2;
  }
  while (true) {  // trailer lines, then the empty line
    const size_t eol = text.find("\r\n", at);
    if (eol == std::string::npos) return std::string::npos;
    const bool empty = eol == at;
    at = eol + 2;
    if (empty) return at;
  }
}

}  // namespace

size_t RawSocket::read_chunked(size_t at, std::chrono::steady_clock::time_point deadline, std::string* body) {
  while (true) {
    const size_t end = chunked_end(buffer_, at, body);
    if (end != std::string::npos) return end;
    if (!read_more(deadline)) return std::string::npos;
  }
}

RawResponse RawSocket::read_response(std::chrono::milliseconds timeout, bool no_body) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  RawResponse response;
  size_t head_end = std::string::npos;
  while ((head_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
    if (!read_more(deadline)) break;
  }
  if (head_end == std::string::npos) return response;
  response.head = buffer_.substr(0, head_end);
  if (response.head.rfind("HTTP/1.", 0) == 0 && response.head.size() >= 12) {
    response.status = std::atoi(response.head.c_str() + 9);
  }
  const size_t body_start = head_end + 4;
  const std::string length_text = response.header("Content-Length");
  if (no_body || response.status < 200 || response.status == 204 || response.status == 304) {
    buffer_.erase(0, body_start);
  } else if (::strcasestr(response.header("Transfer-Encoding").c_str(), "chunked") != nullptr) {
    const size_t end = read_chunked(body_start, deadline, &response.body);
    if (end == std::string::npos) return response;
    buffer_.erase(0, end);
  } else if (!length_text.empty()) {
    const size_t length = std::strtoull(length_text.c_str(), nullptr, 10);
    while (buffer_.size() < body_start + length) {
      if (!read_more(deadline)) break;
    }
    if (buffer_.size() < body_start + length) return response;
    response.body = buffer_.substr(body_start, length);
    buffer_.erase(0, body_start + length);
  } else {
    while (read_more(deadline)) {
    }
    if (!peer_closed_) return response;
    response.body = buffer_.substr(body_start);
    buffer_.clear();
  }
  response.complete = true;
  return response;
}

}  // namespace sy::test
