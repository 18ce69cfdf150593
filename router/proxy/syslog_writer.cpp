#include "router/proxy/syslog_writer.hpp"

#include <netdb.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <stdexcept>

namespace sy::proxy {
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";  // RFC 5424 §6.4: the message is UTF-8
constexpr auto kReconnectPause = std::chrono::seconds(1);

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// A non-blocking socket connected (or connecting) to the configured address.
int connect_socket(const SyslogOptions& o, bool stream) {
  if (o.network == "unixgram") {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (o.address.empty() || o.address.size() >= sizeof addr.sun_path) return -1;
    std::memcpy(addr.sun_path, o.address.data(), o.address.size());
    const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(fd);
      return -1;
    }
    return fd;
  }
  const size_t colon = o.address.rfind(':');
  if (colon == std::string::npos) return -1;
  std::string host = o.address.substr(0, colon);
  if (host.size() > 1 && host.front() == '[') host = host.substr(1, host.size() - 2);
  addrinfo hints{};
  hints.ai_socktype = stream ? SOCK_STREAM : SOCK_DGRAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(host.c_str(), o.address.c_str() + colon + 1, &hints, &found) != 0 || !found) return -1;
  int fd = ::socket(found->ai_family, found->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd >= 0 && ::connect(fd, found->ai_addr, found->ai_addrlen) != 0 && errno != EINPROGRESS) {
    ::close(fd);
    fd = -1;
  }
  ::freeaddrinfo(found);
  return fd;
}

}  // namespace

std::string syslog_message(std::string_view timestamp, std::string_view hostname, std::string_view app_name,
                           long pid, std::string_view line, bool trailing_lf) {
  std::string out;
  out.reserve(line.size() + 96);
  out.append("<14>1 ").append(timestamp).append(" ").append(hostname.empty() ? "-" : hostname).append(" ");
  out.append(app_name).append(" ").append(std::to_string(pid)).append(" - ").append(kBom).append(line);
  if (trailing_lf) out.push_back('\n');
  return out;
}

std::unique_ptr<SyslogWriter> SyslogWriter::open(const SyslogOptions& options) {
  const std::string& net = options.network;
  if (net != "udp" && net != "tcp" && net != "unixgram")
    throw std::runtime_error("logging.syslog_network \"" + net + "\": expected udp, tcp or unixgram");
  const bool stream = net == "tcp";
  std::unique_ptr<SyslogWriter> w(new SyslogWriter(options, stream));
  char name[256] = {};
  ::gethostname(name, sizeof name - 1);
  w->hostname_ = name;
  w->pid_ = static_cast<long>(::getpid());
  w->fd_ = connect_socket(options, stream);
  if (w->fd_ < 0)
    throw std::runtime_error("logging.syslog_addr \"" + options.address + "\" (" + net + "): " + std::strerror(errno));
  return w;
}

SyslogWriter::~SyslogWriter() {
  if (fd_ >= 0) ::close(fd_);
}

bool SyslogWriter::connect_stream() {
  const auto now = std::chrono::steady_clock::now();
  if (now < next_connect_) return false;
  next_connect_ = now + kReconnectPause;
  if (fd_ >= 0) ::close(fd_);
  fd_ = connect_socket(options_, true);
  return fd_ >= 0;
}

void SyslogWriter::send(std::string_view line) {
  const std::string msg = syslog_message(utc_now(), hostname_, options_.app_name, pid_, line, stream_);
  if (!stream_) {
    const ssize_t n = ::send(fd_, msg.data(), msg.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    (n == static_cast<ssize_t>(msg.size()) ? sent_ : dropped_).fetch_add(1, std::memory_order_relaxed);
    return;
  }
  std::lock_guard lock(mutex_);
  ssize_t n = fd_ >= 0 ? ::send(fd_, msg.data(), msg.size(), MSG_DONTWAIT | MSG_NOSIGNAL) : -1;
  if (n < 0 && errno != EAGAIN && errno != ENOTCONN && connect_stream())
    n = ::send(fd_, msg.data(), msg.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  if (n > 0 && n < static_cast<ssize_t>(msg.size())) {  // a cut message would corrupt the framing: start over
    ::close(fd_);
    fd_ = -1;
    next_connect_ = {};
  }
  (n == static_cast<ssize_t>(msg.size()) ? sent_ : dropped_).fetch_add(1, std::memory_order_relaxed);
}

}  // namespace sy::proxy
