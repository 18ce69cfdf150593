#pragma once
// Access log lines to syslog, as gorouter sends them (logging.syslog,
// syslog_addr, syslog_network): one RFC 5424 message per line,
//   <14>1 TIMESTAMP HOSTNAME APP-NAME PROCID - BOM line
// (facility user, severity info), over UDP (the default), TCP (each
// message ends in LF, RFC 6587 non-transparent framing) or a local datagram
// socket (`unixgram`, e.g. /dev/log). A worker never waits on syslog: a
// message the socket cannot take at once is dropped and counted.
//
// Threading: send() from any thread.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace sy::proxy {

struct SyslogOptions {
  std::string app_name;                   // logging.syslog; "" = off
  std::string network = "udp";            // logging.syslog_network: udp, tcp or unixgram
  std::string address = "127.0.0.1:514";  // logging.syslog_addr: host:port, or a socket path for unixgram
};

// One framed message; pure. `timestamp` is RFC 3339.
std::string syslog_message(std::string_view timestamp, std::string_view hostname, std::string_view app_name,
                           long pid, std::string_view line, bool trailing_lf);

class SyslogWriter {
 public:
  // Resolves and connects (a TCP connection may still be on its way).
  // Throws std::runtime_error naming the address when it cannot be used.
  static std::unique_ptr<SyslogWriter> open(const SyslogOptions& options);
  ~SyslogWriter();
  SyslogWriter(const SyslogWriter&) = delete;
  SyslogWriter& operator=(const SyslogWriter&) = delete;

  void send(std::string_view line);
  uint64_t sent() const { return sent_.load(std::memory_order_relaxed); }
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  SyslogWriter(SyslogOptions options, bool stream) : options_(std::move(options)), stream_(stream) {}
  bool connect_stream();  // TCP: (re)connects without blocking; mutex_ held

  SyslogOptions options_;
  bool stream_;
  int fd_ = -1;
  std::string hostname_;
  long pid_ = 0;
  std::mutex mutex_;  // TCP only: one message at a time on the byte stream
  std::chrono::steady_clock::time_point next_connect_{};
  std::atomic<uint64_t> sent_{0}, dropped_{0};
};

}  // namespace sy::proxy
