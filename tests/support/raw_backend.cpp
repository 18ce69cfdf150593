#include "tests/support/raw_backend.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

namespace sy::test {
namespace {

std::string json_string(std::string_view text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {  // bytes, not UTF-8: \u00XX keeps the line valid JSON
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
      out += escaped;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

std::string json_line(const BackendEntry& e, size_t seq) {
  const FramedRequest& r = e.request;
  static constexpr const char* kFraming[] = {"none", "length", "chunked"};
  std::string out = "{\"seq\":" + std::to_string(seq) + ",\"connection\":" + std::to_string(e.connection) +
                    ",\"epoch\":" + std::to_string(e.epoch) + ",\"complete\":" + (e.complete ? "true" : "false") +
                    ",\"error\":" + json_string(e.error) + ",\"method\":" + json_string(r.method) +
                    ",\"target\":" + json_string(r.target) + ",\"version\":" + (r.version == 10 ? "\"1.0\"" : "\"1.1\"") +
                    ",\"framing\":\"" + kFraming[static_cast<int>(r.framing)] + "\",\"headers\":[";
  for (size_t i = 0; i < r.headers.size(); ++i)
    out += (i ? ",[" : "[") + json_string(r.headers[i].first) + "," + json_string(r.headers[i].second) + "]";
  out += "],\"body\":" + json_string(r.body) + ",\"trailers\":" + json_string(r.trailers) + ",\"ambiguities\":[";
  for (size_t i = 0; i < r.ambiguities.size(); ++i) out += (i ? "," : "") + json_string(r.ambiguities[i]);
  return out + "]}\n";
}

}  // namespace

struct RawBackend::Connection {
  int fd = -1;
  uint64_t id = 0;
  uint64_t epoch = 0;  // when the bytes in `in` began to arrive
  std::string in;
  std::string out;
  bool closing = false;  // close once `out` is written
};

RawBackend::RawBackend(std::string log_path) : log_path_(std::move(log_path)) {}

RawBackend::~RawBackend() { stop(); }

bool RawBackend::start() {
  listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  wake_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (listener_ < 0 || wake_ < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listener_, 1024) != 0 ||
      ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    return false;
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { run(); });
  return true;
}

void RawBackend::stop() {
  if (thread_.joinable()) {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    const uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(wake_, &one, sizeof one);
    thread_.join();
  }
  for (Connection* c : open_) {
    ::close(c->fd);
    delete c;
  }
  open_.clear();
  for (int* fd : {&listener_, &wake_}) {
    if (*fd >= 0) ::close(*fd);
    *fd = -1;
  }
}

void RawBackend::set_responder(RawResponder responder) {
  std::lock_guard lock(mutex_);
  responder_ = std::move(responder);
}

void RawBackend::set_epoch(uint64_t epoch) {
  std::lock_guard lock(mutex_);
  epoch_ = epoch;
}

std::vector<BackendEntry> RawBackend::entries() const {
  std::lock_guard lock(mutex_);
  return entries_;
}

std::vector<BackendEntry> RawBackend::entries_since(uint64_t epoch) const {
  std::lock_guard lock(mutex_);
  std::vector<BackendEntry> out;
  for (const BackendEntry& e : entries_)
    if (e.epoch >= epoch) out.push_back(e);
  return out;
}

std::vector<FramedRequest> RawBackend::requests() const {
  std::lock_guard lock(mutex_);
  std::vector<FramedRequest> out;
  for (const BackendEntry& e : entries_)
    if (e.complete) out.push_back(e.request);
  return out;
}

size_t RawBackend::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

uint64_t RawBackend::connections() const {
  std::lock_guard lock(mutex_);
  return accepted_;
}

bool RawBackend::wait_for_entries(size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return entries_.size() >= n; });
}

bool RawBackend::settle(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  const uint64_t after = passes_;
  return changed_.wait_for(lock, timeout, [&] { return idle_pass_ > after; });
}

RawReply RawBackend::default_reply(const FramedRequest& request, uint64_t seen) {
  const std::string body = "seen " + std::to_string(seen) + "\n";
  RawReply reply;
  reply.close = request.close;
  reply.bytes = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Seen-Count: " + std::to_string(seen) +
                "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
                (reply.close ? "Connection: close\r\n" : "") + "\r\n" + (request.method == "HEAD" ? "" : body);
  return reply;
}

void RawBackend::log(BackendEntry entry) {
  std::lock_guard lock(mutex_);
  if (!log_path_.empty()) {
    if (FILE* f = std::fopen(log_path_.c_str(), "a")) {
      const std::string line = json_line(entry, entries_.size() + 1);
      std::fwrite(line.data(), 1, line.size(), f);
      std::fclose(f);
    }
  }
  entries_.push_back(std::move(entry));
  changed_.notify_all();
}

void RawBackend::run() {
  while (true) {
    std::vector<pollfd> fds = {{wake_, POLLIN, 0}, {listener_, POLLIN, 0}};
    for (Connection* c : open_)
      fds.push_back({c->fd, static_cast<short>(POLLIN | (c->out.empty() ? 0 : POLLOUT)), 0});
    uint64_t pass = 0;
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
      pass = ++passes_;
    }
    const int ready = ::poll(fds.data(), fds.size(), 20);
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) {
      std::lock_guard lock(mutex_);
      idle_pass_ = pass;
      changed_.notify_all();
      continue;
    }
    if (fds[1].revents & POLLIN) accept_all();
    std::vector<Connection*> still_open;
    for (size_t i = 0; i < open_.size(); ++i) {
      Connection* c = open_[i];
      if (i + 2 < fds.size() && fds[i + 2].revents != 0 && !serve(*c)) {
        ::close(c->fd);
        delete c;
        continue;
      }
      still_open.push_back(c);
    }
    open_.swap(still_open);
  }
}

void RawBackend::accept_all() {
  while (true) {
    const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    auto* c = new Connection;
    c->fd = fd;
    std::lock_guard lock(mutex_);
    c->id = ++accepted_;
    open_.push_back(c);
  }
}

// Reads what is there, frames and answers every complete request, and
// writes what it can. False when the connection is done.
bool RawBackend::serve(Connection& c) {
  bool eof = false;
  char chunk[65536];
  while (true) {
    const ssize_t n = ::recv(c.fd, chunk, sizeof chunk, MSG_DONTWAIT);
    if (n > 0) {
      if (c.in.empty()) {
        std::lock_guard lock(mutex_);
        c.epoch = epoch_;
      }
      c.in.append(chunk, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    eof = n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
    break;
  }
  while (!c.closing && !c.in.empty()) {
    FrameResult r = frame_request(c.in);
    if (r.status == FrameResult::Status::incomplete) break;
    BackendEntry entry{c.id, c.epoch, r.status == FrameResult::Status::complete, r.error, r.request};
    if (!entry.complete) {
      c.out += "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      c.closing = true;
      c.in.clear();
      log(std::move(entry));
      break;
    }
    c.in.erase(0, r.length);
    RawResponder responder;
    uint64_t seen = 0;
    {
      std::lock_guard lock(mutex_);
      responder = responder_;
      seen = entries_.size() + 1;
    }
    std::optional<RawReply> reply = responder ? responder(r.request, seen) : std::nullopt;
    if (!reply) reply = default_reply(r.request, seen);
    c.out += reply->bytes;
    c.closing = reply->close;
    log(std::move(entry));
  }
  if (eof && !c.closing && c.in.find_first_not_of("\r\n") != std::string::npos) {
    log(BackendEntry{c.id, c.epoch, false, "incomplete", {}});
  }
  while (!c.out.empty()) {
    const ssize_t n = ::send(c.fd, c.out.data(), c.out.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n < 0) return false;
    c.out.erase(0, static_cast<size_t>(n));
  }
  return !eof && !(c.closing && c.out.empty());
}

}  // namespace sy::test
