#include "router/proxy/access_log.hpp"

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

}  // namespace

std::string format_access_line(const AccessRecord& r) {
  std::string out;
  out.reserve(512);
  out.append(r.host.empty() ? "-" : r.host);
  out.append(" - [").append(rfc3339_ms(r.start_unix_ms)).append("] \"");
  out.append(r.method).append(" ");
  for (char c : r.target) {  // percent-encode what would break the quoted field, as Go's RequestURI does
    if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20 || c == ' ') {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%%%02X", static_cast<unsigned char>(c));
      out.append(hex);
    } else {
      out.push_back(c);
    }
  }
  out.append(r.version == 10 ? " HTTP/1.0\" " : " HTTP/1.1\" ");
  out.append(std::to_string(r.status)).append(" ");
  out.append(std::to_string(r.bytes_received)).append(" ").append(std::to_string(r.bytes_sent)).append(" ");
  quoted(&out, r.referer);
  out.push_back(' ');
  quoted(&out, r.user_agent);
  out.push_back(' ');
  quoted(&out, r.remote_addr);
  out.push_back(' ');
  quoted(&out, r.backend_addr);
  out.append(" x_forwarded_for:");
  quoted(&out, r.forwarded_for);
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

std::unique_ptr<AccessLog> AccessLog::open(const std::string& file, bool to_stdout) {
  if (file.empty() && !to_stdout) return nullptr;
  FILE* f = nullptr;
  if (!file.empty()) {
    f = std::fopen(file.c_str(), "a");
    if (!f) throw std::runtime_error("cannot open access log " + file);
  }
  return std::unique_ptr<AccessLog>(new AccessLog(f, to_stdout));
}

AccessLog::~AccessLog() {
  if (file_) std::fclose(file_);
}

void AccessLog::write(const AccessRecord& r) {
  std::string line = format_access_line(r);
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
