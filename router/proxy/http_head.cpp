#include "router/proxy/http_head.hpp"

#include <algorithm>
#include <array>

namespace sy::proxy {
namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// Headers that survive even when a client lists them in `Connection`
// (gorouter's never-strip list). Content-Length and Transfer-Encoding are
// protected too: the body is relayed raw, so dropping its framing would let
// a client smuggle a second request.
bool protected_kind(FieldKind k) {
  switch (k) {
    case FieldKind::x_forwarded_for: case FieldKind::x_forwarded_proto: case FieldKind::b3: case FieldKind::x_b3:
    case FieldKind::x_b3_spanid: case FieldKind::x_b3_traceid: case FieldKind::x_request_start:
    case FieldKind::x_forwarded_client_cert: case FieldKind::content_length: case FieldKind::transfer_encoding:
      return true;
    default:
      return false;
  }
}

bool hop_by_hop_kind(FieldKind k) { return k >= FieldKind::connection && k <= FieldKind::te; }

// Request headers the router always replaces with its own value.
// (Expect: the router answers 100-continue itself; see Session::attempt.)
bool router_owned_kind(FieldKind k) { return k >= FieldKind::expect && k <= FieldKind::x_cf_proxy_signature; }

// Is `name` one of the comma-separated tokens of the Connection header(s)?
bool listed_in_connection(const std::vector<Field>& fields, std::string_view name) {
  for (const Field& f : fields) {
    if (!iequals(f.name, "connection")) continue;
    std::string_view v = f.value;
    while (!v.empty()) {
      size_t comma = v.find(',');
      std::string_view token = v.substr(0, comma);
      while (!token.empty() && (token.front() == ' ' || token.front() == '\t')) token.remove_prefix(1);
      while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.remove_suffix(1);
      if (iequals(token, name)) return true;
      if (comma == std::string_view::npos) break;
      v.remove_prefix(comma + 1);
    }
  }
  return false;
}

bool filtered(const RequestRewrite& rw, std::string_view name) {
  if (!rw.filter || rw.filter->empty()) return false;
  return std::any_of(rw.filter->begin(), rw.filter->end(), [&](const std::string& f) { return iequals(f, name); });
}

void add(std::string* out, std::string_view name, std::string_view value) {
  out->append(name);
  out->append(": ");
  out->append(value);
  out->append("\r\n");
}

std::string_view find_field(const std::vector<Field>& fields, std::string_view name) {
  for (const Field& f : fields)
    if (iequals(f.name, name)) return f.value;
  return {};
}

}  // namespace

bool plausible_request_start(std::string_view data) {
  auto tchar = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  };
  size_t i = 0;
  while (i < data.size() && (data[i] == '\r' || data[i] == '\n')) ++i;  // stray CRLFs before a request
  size_t method = i;
  while (i < data.size() && tchar(data[i])) ++i;
  if (i == data.size()) return i - method <= 32;
  if (data[i] != ' ' || i == method) return false;
  size_t eol = data.find('\n', i);
  if (eol == std::string_view::npos) return true;  // target still arriving
  std::string_view line = data.substr(i + 1, eol - i - 1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  size_t sp = line.rfind(' ');
  return sp != std::string_view::npos && sp > 0 && line.substr(sp + 1).rfind("HTTP/1.", 0) == 0;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

FieldKind classify_field(std::string_view n) {
  struct Entry {
    std::string_view name;
    FieldKind kind;
  };
  static constexpr Entry kTable[] = {
      {"connection", FieldKind::connection},
      {"keep-alive", FieldKind::keep_alive},
      {"proxy-connection", FieldKind::proxy_connection},
      {"proxy-authenticate", FieldKind::proxy_authenticate},
      {"proxy-authorization", FieldKind::proxy_authorization},
      {"upgrade", FieldKind::upgrade},
      {"te", FieldKind::te},
      {"expect", FieldKind::expect},
      {"x-forwarded-for", FieldKind::x_forwarded_for},
      {"x-forwarded-proto", FieldKind::x_forwarded_proto},
      {"x-request-start", FieldKind::x_request_start},
      {"x-vcap-request-id", FieldKind::x_vcap_request_id},
      {"x-cf-applicationid", FieldKind::x_cf_applicationid},
      {"x-cf-instanceindex", FieldKind::x_cf_instanceindex},
      {"x-cf-instanceid", FieldKind::x_cf_instanceid},
      {"x-cf-app-instance", FieldKind::x_cf_app_instance},
      {"x-cf-process-instance", FieldKind::x_cf_process_instance},
      {"x-cf-proxy-signature", FieldKind::x_cf_proxy_signature},
      {"content-length", FieldKind::content_length},
      {"transfer-encoding", FieldKind::transfer_encoding},
      {"b3", FieldKind::b3},
      {"x-b3", FieldKind::x_b3},
      {"x-b3-spanid", FieldKind::x_b3_spanid},
      {"x-b3-traceid", FieldKind::x_b3_traceid},
      {"x-forwarded-client-cert", FieldKind::x_forwarded_client_cert},
      {"host", FieldKind::host},
      {"cookie", FieldKind::cookie},
      {"set-cookie", FieldKind::set_cookie},
  };
  if (n.empty()) return FieldKind::other;
  const char first = lower(n[0]);
  for (const Entry& e : kTable)  // the length and first-letter checks reject almost all at once
    if (e.name.size() == n.size() && e.name[0] == first && iequals(e.name, n)) return e.kind;
  return FieldKind::other;
}

bool names_headers(std::string_view v) {
  while (!v.empty()) {
    size_t comma = v.find(',');
    std::string_view token = v.substr(0, comma);
    while (!token.empty() && (token.front() == ' ' || token.front() == '\t')) token.remove_prefix(1);
    while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.remove_suffix(1);
    if (!token.empty() && !iequals(token, "close") && !iequals(token, "keep-alive") && !iequals(token, "upgrade"))
      return true;
    if (comma == std::string_view::npos) break;
    v.remove_prefix(comma + 1);
  }
  return false;
}

bool is_hop_by_hop(std::string_view n) {
  return iequals(n, "connection") || iequals(n, "keep-alive") || iequals(n, "proxy-connection") ||
         iequals(n, "proxy-authenticate") || iequals(n, "proxy-authorization") || iequals(n, "upgrade") ||
         iequals(n, "te");
}

// Reset for the next message, keeping the fields vector's capacity.
void RequestHead::clear() {
  std::vector<Field> keep = std::move(fields);
  keep.clear();
  *this = RequestHead{};
  fields = std::move(keep);
}

void ResponseHead::clear() {
  std::vector<Field> keep = std::move(fields);
  keep.clear();
  *this = ResponseHead{};
  fields = std::move(keep);
}

std::string_view RequestHead::find(std::string_view name) const { return find_field(fields, name); }
std::string_view ResponseHead::find(std::string_view name) const { return find_field(fields, name); }

std::string_view RequestHead::find(FieldKind kind) const {
  for (const Field& f : fields)
    if (f.kind == kind) return f.value;
  return {};
}

bool RequestHead::idempotent() const {
  if (method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "TRACE") return true;
  return !find("idempotency-key").empty() || !find("x-idempotency-key").empty();
}

std::string_view RequestHead::path() const {
  std::string_view t = target;
  if (!t.empty() && t.front() != '/') {  // absolute-form "http://h/p" or "*"
    size_t scheme = t.find("://");
    if (scheme == std::string_view::npos) return "/";
    size_t slash = t.find('/', scheme + 3);
    if (slash == std::string_view::npos) return "/";
    t.remove_prefix(slash);
  }
  return t.substr(0, std::min(t.find('?'), t.find('#')));
}

void write_upstream_request(const RequestHead& head, const RequestRewrite& rw, std::string* out) {
  out->append(head.method);
  out->push_back(' ');
  out->append(head.target);
  out->append(head.version == 10 ? " HTTP/1.0\r\n" : " HTTP/1.1\r\n");
  std::string_view prior_xff;
  std::string xff_joined;
  bool has_proto = false, has_start = false;
  for (const Field& f : head.fields) {
    if (f.kind == FieldKind::x_forwarded_for) {
      if (prior_xff.empty() && xff_joined.empty()) {
        prior_xff = f.value;
      } else {
        if (xff_joined.empty()) xff_joined = prior_xff;
        xff_joined.append(", ").append(f.value);
      }
      continue;
    }
    if (router_owned_kind(f.kind) || hop_by_hop_kind(f.kind) || filtered(rw, f.name)) {
      // TE: trailers is end-to-end in practice (gRPC needs it).
      if (f.kind == FieldKind::te && iequals(f.value, "trailers")) add(out, f.name, f.value);
      continue;
    }
    if (head.connection_tokens && !protected_kind(f.kind) && listed_in_connection(head.fields, f.name)) continue;
    if (f.kind == FieldKind::x_forwarded_proto) {
      if (rw.force_forwarded_proto) continue;
      has_proto = true;
    }
    if (f.kind == FieldKind::x_request_start) has_start = true;
    add(out, f.name, f.value);
  }
  if (!xff_joined.empty()) prior_xff = xff_joined;
  if (prior_xff.empty()) {
    add(out, "X-Forwarded-For", rw.client_ip);
  } else {
    out->append("X-Forwarded-For: ").append(prior_xff).append(", ").append(rw.client_ip).append("\r\n");
  }
  if (!has_proto) add(out, "X-Forwarded-Proto", rw.forwarded_proto);
  if (!has_start) add(out, "X-Request-Start", std::to_string(rw.now_ms));
  add(out, "X-Vcap-Request-Id", rw.request_id);
  if (!rw.app_id.empty()) add(out, "X-CF-ApplicationID", rw.app_id);
  if (!rw.instance_index.empty()) add(out, "X-CF-InstanceIndex", rw.instance_index);
  add(out, "X-CF-InstanceID", rw.instance_id);
  out->append(rw.extra_headers);
  if (head.upgrade) {
    add(out, "Connection", "Upgrade");
    add(out, "Upgrade", head.find("upgrade"));
  } else if (rw.close || head.version == 10) {
    add(out, "Connection", "close");
  }
  out->append("\r\n");
}

void write_client_response(const ResponseHead& head, const ResponseRewrite& rw, std::string* out) {
  out->append(head.version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ");
  out->append(std::to_string(head.status));
  out->push_back(' ');
  out->append(head.reason);
  out->append("\r\n");
  bool has_request_id = false;
  for (const Field& f : head.fields) {
    if (rw.keep_upgrade && (f.kind == FieldKind::connection || f.kind == FieldKind::upgrade)) {
      add(out, f.name, f.value);
      continue;
    }
    if (hop_by_hop_kind(f.kind)) continue;
    if (head.connection_tokens && !protected_kind(f.kind) && listed_in_connection(head.fields, f.name)) continue;
    if (f.kind == FieldKind::x_vcap_request_id) has_request_id = true;
    add(out, f.name, f.value);
  }
  if (!has_request_id && !rw.request_id.empty()) add(out, "X-Vcap-Request-Id", rw.request_id);
  out->append(rw.extra_headers);
  if (rw.close) add(out, "Connection", "close");
  out->append("\r\n");
}

}  // namespace sy::proxy
