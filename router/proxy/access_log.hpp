#pragma once
// Access log in gorouter's format, one line per request, to a file, stdout
// and/or syslog (gorouter's logging.syslog: RFC 5424 over UDP, TCP or a
// local datagram socket). Off unless one of them is configured.
// write() is thread-safe: the file and stdout under one mutex, each line
// written whole; syslog datagrams are sent without a lock.
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "router/proxy/syslog_writer.hpp"

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
  // Attempt details (logging.enable_attempts_details). The *_time fields are
  // the answering attempt's; negative = none answered (printed "-").
  unsigned failed_attempts = 0;
  double failed_attempts_time_s = 0;  // 0 with no failed attempt (printed "-")
  double dns_time_s = -1, dial_time_s = -1, tls_time_s = -1, attempt_backend_time_s = -1;
};

// gorouter's logging.redact_query_params: what a GET request's query
// becomes in the log (other methods are logged as sent).
enum class RedactQuery { none, all, hash };

struct AccessLogFormat {
  RedactQuery redact_query = RedactQuery::none;
  bool attempts_details = false;        // logging.enable_attempts_details
  bool disable_forwarded_for = false;   // logging.disable_log_forwarded_for: x_forwarded_for:"-"
  bool disable_source_ip = false;       // logging.disable_log_source_ip: remote address "-"
};

// Formats one line (with trailing newline); pure.
std::string format_access_line(const AccessRecord& r, const AccessLogFormat& format = {});
// The target as logged: a GET's query removed ("all") or replaced by
// `hash=<sha1 hex of the query>` ("hash"). Pure.
std::string redact_target(std::string_view method, std::string_view target, RedactQuery mode);

struct AccessLogOptions {
  std::string file;        // access_log.file; "" = none
  bool to_stdout = false;  // access_log.enable_streaming
  SyslogOptions syslog;    // logging.syslog*; app_name "" = none
  AccessLogFormat format;
};

class AccessLog {
 public:
  // Returns null when no output is configured; throws std::runtime_error at
  // start-up when the file cannot be opened or the syslog address is unusable.
  static std::unique_ptr<AccessLog> open(const AccessLogOptions& options);
  ~AccessLog();
  void write(const AccessRecord& r);
  const AccessLogFormat& format() const { return format_; }

 private:
  AccessLog(FILE* file, bool to_stdout, std::unique_ptr<SyslogWriter> syslog, AccessLogFormat format)
      : file_(file), stdout_(to_stdout), syslog_(std::move(syslog)), format_(format) {}
  std::mutex mutex_;
  FILE* file_;
  bool stdout_;
  std::unique_ptr<SyslogWriter> syslog_;
  AccessLogFormat format_;
};

}  // namespace sy::proxy
