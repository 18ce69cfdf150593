#include "router/proxy/access_log.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <ctime>
#include <memory>
#include <stdexcept>

namespace sy::proxy {
namespace {

void quoted(std::string* out, std::string_view v) {
  out->push_back('"');
  if (v.empty()) {
    out->push_back('-');
  } else {
    for (char c : v) {
      if (c == '"' || c == '\\') out->push_back('\\');
      out->push_back(static_cast<unsigned char>(c) < 0x20 ? ' ' : c);
    }
  }
  out->push_back('"');
}

std::string rfc3339_ms(long long unix_ms) {
  std::time_t secs = unix_ms / 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03lldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, unix_ms % 1000);
  return buf;
}

// Seconds with gorouter's six decimals, or "-" when `v` is negative.
void seconds_or_dash(std::string* out, const char* name, double v) {
  out->append(name);
  if (v < 0) {
    out->append("\"-\"");
    return;
  }
  char num[32];
  std::snprintf(num, sizeof num, "%.6f", v);
  out->append(num);
}

// gorouter's attempt details, between instance_id and x_cf_routererror.
void append_attempts(std::string* out, const AccessRecord& r) {
  out->append(" failed_attempts:").append(std::to_string(r.failed_attempts));
  seconds_or_dash(out, " failed_attempts_time:", r.failed_attempts > 0 ? r.failed_attempts_time_s : -1);
  seconds_or_dash(out, " dns_time:", r.dns_time_s);
  seconds_or_dash(out, " dial_time:", r.dial_time_s);
  seconds_or_dash(out, " tls_time:", r.tls_time_s);
  seconds_or_dash(out, " backend_time:", r.attempt_backend_time_s);
}

void append_target(std::string* out, std::string_view target) {
  for (char c : target) {  // percent-encode what would break the quoted field, as Go's RequestURI does
    if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20 || c == ' ') {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%%%02X", static_cast<unsigned char>(c));
      out->append(hex);
    } else {
      out->push_back(c);
    }
  }
}

std::string sha1_hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha1(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 15]);
  }
  return out;
}

}  // namespace

std::string redact_target(std::string_view method, std::string_view target, RedactQuery mode) {
  const size_t q = target.find('?');
  if (mode == RedactQuery::none || method != "GET" || q == std::string_view::npos || q + 1 == target.size())
    return std::string(target);
  std::string out(target.substr(0, q));
  if (mode == RedactQuery::hash) out.append("?hash=").append(sha1_hex(target.substr(q + 1)));
  return out;
}

std::string format_access_line(const AccessRecord& r, const AccessLogFormat& format) {
  std::string out;
  out.reserve(512);
  out.append(r.host.empty() ? "-" : r.host);
  out.append(" - [").append(rfc3339_ms(r.start_unix_ms)).append("] \"");
  out.append(r.method).append(" ");
  if (format.redact_query == RedactQuery::none)
    append_target(&out, r.target);
  else
    append_target(&out, redact_target(r.method, r.target, format.redact_query));
  out.append(r.version == 10 ? " HTTP/1.0\" " : " HTTP/1.1\" ");
  out.append(std::to_string(r.status)).append(" ");
  out.append(std::to_string(r.bytes_received)).append(" ").append(std::to_string(r.bytes_sent)).append(" ");
  quoted(&out, r.referer);
  out.push_back(' ');
  quoted(&out, r.user_agent);
  out.push_back(' ');
  quoted(&out, format.disable_source_ip ? std::string_view() : r.remote_addr);
  out.push_back(' ');
  quoted(&out, r.backend_addr);
  out.append(" x_forwarded_for:");
  quoted(&out, format.disable_forwarded_for ? std::string_view() : r.forwarded_for);
  out.append(" x_forwarded_proto:");
  quoted(&out, r.forwarded_proto);
  out.append(" vcap_request_id:");
  quoted(&out, r.request_id);
  char num[64];
  std::snprintf(num, sizeof num, " response_time:%.6f gorouter_time:%.6f", r.response_time_s,
                std::max(0.0, r.response_time_s - r.backend_time_s));
  out.append(num);
  out.append(" app_id:");
  quoted(&out, r.app_id);
  out.append(" app_index:");
  quoted(&out, r.app_index);
  out.append(" instance_id:");
  quoted(&out, r.instance_id);
  if (format.attempts_details) append_attempts(&out, r);
  out.append(" x_cf_routererror:");
  quoted(&out, r.router_error);
  if (!r.tunnel_id.empty()) {  // SPEC §5.5: the tunnel and the node that holds it
    out.append(" tunnel_id:");
    quoted(&out, r.tunnel_id);
    out.append(" tunnel_node:");
    quoted(&out, r.tunnel_node);
  }
  for (const auto& [name, value] : r.extra_headers) {
    out.push_back(' ');
    for (char c : name) out.push_back(c == '-' ? '_' : static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    out.push_back(':');
    quoted(&out, value);
  }
  out.push_back('\n');
  return out;
}

std::unique_ptr<AccessLog> AccessLog::open(const AccessLogOptions& o) {
  std::unique_ptr<SyslogWriter> syslog;
  if (!o.syslog.app_name.empty()) syslog = SyslogWriter::open(o.syslog);  // throws on a bad address
  if (o.file.empty() && !o.to_stdout && !syslog) return nullptr;
  FILE* f = nullptr;
  if (!o.file.empty()) {
    f = std::fopen(o.file.c_str(), "a");
    if (!f) throw std::runtime_error("cannot open access log " + o.file);
  }
  return std::unique_ptr<AccessLog>(new AccessLog(f, o.to_stdout, std::move(syslog), o.format));
}

AccessLog::~AccessLog() {
  if (file_) std::fclose(file_);
}

void AccessLog::write(const AccessRecord& r) {
  std::string line = format_access_line(r, format_);
  if (syslog_) syslog_->send(std::string_view(line).substr(0, line.size() - 1));  // without the newline
  if (!file_ && !stdout_) return;
  std::lock_guard lock(mutex_);
  if (file_) {
    std::fwrite(line.data(), 1, line.size(), file_);
    std::fflush(file_);
  }
  if (stdout_) {
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fflush(stdout);
  }
}

}  // namespace sy::proxy
