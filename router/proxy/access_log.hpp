#pragma once
// Access log in gorouter's format, one line per request, to a file and/or
// stdout. Off unless access_log.file or access_log.enable_streaming is set.
// write() is thread-safe (one mutex; each line is written whole).
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace sy::proxy {

struct AccessRecord {
  std::string_view host, method, target, referer, user_agent, forwarded_for, forwarded_proto;
  int version = 11;
  int status = 0;
  unsigned long long bytes_received = 0, bytes_sent = 0;
  std::string_view remote_addr;   // client ip:port (PROXY protocol source when enabled)
  std::string_view backend_addr;  // "" when none was reached
  std::string_view request_id, app_id, app_index, instance_id, router_error;
  std::string_view tunnel_id, tunnel_node;  // a tunnel endpoint's (else empty: not logged)
  double response_time_s = 0;
  double backend_time_s = 0;  // time spent in attempts at backends; gorouter_time = response - backend
  long long start_unix_ms = 0;
  std::vector<std::pair<std::string_view, std::string_view>> extra_headers;  // extra_headers_to_log
};

// Formats one line (with trailing newline); pure.
std::string format_access_line(const AccessRecord& r);

class AccessLog {
 public:
  // Returns null when neither a file nor streaming is configured; throws
  // std::runtime_error at start-up when the file cannot be opened.
  static std::unique_ptr<AccessLog> open(const std::string& file, bool to_stdout);
  ~AccessLog();
  void write(const AccessRecord& r);

 private:
  AccessLog(FILE* file, bool to_stdout) : file_(file), stdout_(to_stdout) {}
  std::mutex mutex_;
  FILE* file_;
  bool stdout_;
};

}  // namespace sy::proxy
