#include "router/http/message.hpp"

#include <algorithm>

namespace sy::http {
namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string_view find_field(const std::vector<Field>& fields, std::string_view name) {
  for (const Field& f : fields)
    if (iequals(f.name, name)) return f.value;
  return {};
}

}  // namespace

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
      {"switchyard-forwarded-node", FieldKind::switchyard_forwarded_node},
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

std::string_view to_string(Coding c) {
  switch (c) {
    case Coding::chunked: return "chunked";
    case Coding::gzip: return "gzip";
    case Coding::deflate: return "deflate";
    case Coding::compress: return "compress";
    case Coding::x_gzip: return "x-gzip";
    case Coding::x_compress: return "x-compress";
    case Coding::unknown: return "unknown";
  }
  return "chunked";
}

void Codings::render(std::string* out) const {
  for (uint8_t i = 0; i < count; ++i) {
    if (i > 0) out->append(", ");
    out->append(to_string(items[i]));
  }
}

bool ConnectionTokens::lists(std::string_view name) const {
  for (uint8_t i = 0; i < count; ++i)
    if (iequals(names[i], name)) return true;
  return false;
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
  if (form == TargetForm::asterisk || form == TargetForm::authority) return target;
  std::string_view t = form == TargetForm::absolute ? target_path : target;
  t = t.substr(0, t.find('?'));
  return t.empty() ? std::string_view("/") : t;
}

BodyKind ResponseHead::framing(bool request_was_head) const {
  if (request_was_head || status < 200 || status == 204 || status == 304) return BodyKind::none;
  if (chunked) return BodyKind::chunked;
  if (has_content_length) return BodyKind::length;
  return BodyKind::until_close;
}

}  // namespace sy::http
