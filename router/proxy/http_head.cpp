#include "router/proxy/http_head.hpp"

#include <algorithm>
#include <charconv>

#include "router/http/head_parser.hpp"

namespace sy::proxy {
namespace {

// Headers that survive even when a client lists them in `Connection`
// (gorouter's never-strip list, plus Host: a client must not be able to
// make the router forward a request without the Host it was routed by).
bool protected_kind(FieldKind k) {
  switch (k) {
    case FieldKind::x_forwarded_for: case FieldKind::x_forwarded_proto: case FieldKind::b3: case FieldKind::x_b3:
    case FieldKind::x_b3_spanid: case FieldKind::x_b3_traceid: case FieldKind::x_request_start:
    case FieldKind::x_forwarded_client_cert: case FieldKind::host:
      return true;
    default:
      return false;
  }
}

bool hop_by_hop_kind(FieldKind k) { return k >= FieldKind::connection && k <= FieldKind::te; }
bool framing_kind(FieldKind k) { return k == FieldKind::content_length || k == FieldKind::transfer_encoding; }

// Request headers the router always replaces with its own value.
// (Expect: the router answers 100-continue itself; see Session::attempt.)
bool router_owned_kind(FieldKind k) { return k >= FieldKind::expect && k <= FieldKind::x_cf_proxy_signature; }

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

void add_number(std::string* out, std::string_view name, uint64_t value) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, value);
  add(out, name, std::string_view(digits, static_cast<size_t>(end - digits)));
}

void add_codings(std::string* out, const http::Codings& codings) {
  out->append("Transfer-Encoding: ");
  codings.render(out);
  out->append("\r\n");
}

// The fields a request forwards unchanged (everything the router does not
// own, drop or rewrite).
bool forwarded_as_is(const RequestHead& head, const RequestRewrite& rw, const Field& f) {
  if (framing_kind(f.kind) || router_owned_kind(f.kind) || hop_by_hop_kind(f.kind) || filtered(rw, f.name))
    return false;
  return head.connection.count == 0 || protected_kind(f.kind) || !head.connection.lists(f.name);
}

void write_request_line(const RequestHead& head, std::string* out) {
  out->append(head.method);
  out->push_back(' ');
  if (head.form == http::TargetForm::absolute) {  // origin-form; Host carries the authority
    if (head.target_path.empty() || head.target_path.front() == '?') out->push_back('/');
    out->append(head.target_path);
  } else {
    out->append(head.target);
  }
  out->append(head.version == 10 ? " HTTP/1.0\r\n" : " HTTP/1.1\r\n");
}

}  // namespace

bool plausible_request_start(std::string_view data) {
  size_t i = 0;
  while (i + 1 < data.size() && data[i] == '\r' && data[i + 1] == '\n') i += 2;  // empty lines before a request
  if (i < data.size() && data[i] == '\r') return i + 1 == data.size();
  size_t method = i;
  while (i < data.size() && http::is_tchar(static_cast<unsigned char>(data[i]))) ++i;
  if (i == data.size()) return i - method <= 32;
  if (data[i] != ' ' || i == method) return false;
  size_t eol = data.find('\n', i);
  if (eol == std::string_view::npos) return true;  // target still arriving
  std::string_view line = data.substr(i + 1, eol - i - 1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  size_t sp = line.rfind(' ');
  return sp != std::string_view::npos && sp > 0 && line.substr(sp + 1).rfind("HTTP/", 0) == 0;
}

bool is_hop_by_hop(std::string_view n) {
  FieldKind k = http::classify_field(n);
  return hop_by_hop_kind(k);
}

void write_upstream_request(const RequestHead& head, const RequestRewrite& rw, std::string* out) {
  write_request_line(head, out);
  const bool absolute = head.form == http::TargetForm::absolute;
  if (absolute) add(out, "Host", head.host);
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
    if (f.kind == FieldKind::te && iequals(f.value, "trailers")) {  // end-to-end in practice (gRPC needs it)
      add(out, f.name, f.value);
      continue;
    }
    if ((absolute && f.kind == FieldKind::host) || !forwarded_as_is(head, rw, f)) continue;
    if (f.kind == FieldKind::x_forwarded_proto) {
      if (rw.force_forwarded_proto) continue;
      has_proto = true;
    }
    if (f.kind == FieldKind::x_request_start) has_start = true;
    if (f.kind == FieldKind::x_forwarded_client_cert && rw.strip_client_cert) continue;
    add(out, f.name, f.value);
  }
  if (!xff_joined.empty()) prior_xff = xff_joined;
  if (!rw.append_client_ip && !prior_xff.empty()) {
    add(out, "X-Forwarded-For", prior_xff);
  } else if (prior_xff.empty()) {
    add(out, "X-Forwarded-For", rw.client_ip);
  } else {
    out->append("X-Forwarded-For: ").append(prior_xff).append(", ").append(rw.client_ip).append("\r\n");
  }
  if (!has_proto) add(out, "X-Forwarded-Proto", rw.forwarded_proto);
  if (!has_start) add_number(out, "X-Request-Start", static_cast<uint64_t>(rw.now_ms));
  add(out, "X-Vcap-Request-Id", rw.request_id);
  if (!rw.app_id.empty()) add(out, "X-CF-ApplicationID", rw.app_id);
  if (!rw.instance_index.empty()) add(out, "X-CF-InstanceIndex", rw.instance_index);
  add(out, "X-CF-InstanceID", rw.instance_id);
  if (!rw.client_cert.empty()) add(out, "X-Forwarded-Client-Cert", rw.client_cert);
  out->append(rw.extra_headers);
  if (head.body == http::BodyKind::length) add_number(out, "Content-Length", head.content_length);
  if (head.body == http::BodyKind::chunked) add_codings(out, head.codings);
  if (head.upgrade) {
    add(out, "Connection", "Upgrade");
    add(out, "Upgrade", head.upgrade_protocol);
  } else if (rw.close || head.version == 10) {
    add(out, "Connection", "close");
  }
  out->append("\r\n");
}

void write_client_response(const ResponseHead& head, const ResponseRewrite& rw, std::string* out) {
  // The router's own version, not the backend's (RFC 9110 §6.2): the framing
  // and Connection lines below are its own, written for HTTP/1.1.
  out->append("HTTP/1.1 ");
  char status[4];
  std::to_chars(status, status + sizeof status, head.status);  // 100..999: three digits
  out->append(status, 3);
  out->push_back(' ');
  out->append(head.reason);
  out->append("\r\n");
  bool has_request_id = false;
  for (const Field& f : head.fields) {
    if (rw.keep_upgrade && (f.kind == FieldKind::connection || f.kind == FieldKind::upgrade)) {
      add(out, f.name, f.value);
      continue;
    }
    if (hop_by_hop_kind(f.kind) || framing_kind(f.kind)) continue;
    if (head.connection.count > 0 && !protected_kind(f.kind) && head.connection.lists(f.name)) continue;
    if (f.kind == FieldKind::x_vcap_request_id) has_request_id = true;
    add(out, f.name, f.value);
  }
  if (!has_request_id && !rw.request_id.empty()) add(out, "X-Vcap-Request-Id", rw.request_id);
  out->append(rw.extra_headers);
  if (head.status >= 200 && head.status != 204) {  // metadata for HEAD and 304 too
    if (head.chunked) {
      if (!rw.dechunked) add_codings(out, head.codings);
    } else if (head.has_content_length) {
      add_number(out, "Content-Length", head.content_length);
    }
  }
  if (rw.close) add(out, "Connection", "close");
  out->append("\r\n");
}

}  // namespace sy::proxy
