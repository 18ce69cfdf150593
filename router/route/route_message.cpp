#include "router/route/route_message.hpp"

#include "common/names/hostname.hpp"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <algorithm>
#include <cstddef>
#include <tuple>

namespace sy::route {
namespace {

using Value = rapidjson::Value;

using names::host_char;
using names::lower;


// Reads an optional string member; false when present with another type.
bool get_string(const Value& obj, const char* name, std::string* out) {
  auto it = obj.FindMember(name);
  if (it == obj.MemberEnd() || it->value.IsNull()) return true;
  if (!it->value.IsString()) return false;
  out->assign(it->value.GetString(), it->value.GetStringLength());
  return true;
}

// Reads an optional integer member into *out (0 when absent).
bool get_int(const Value& obj, const char* name, int64_t* out) {
  auto it = obj.FindMember(name);
  *out = 0;
  if (it == obj.MemberEnd() || it->value.IsNull()) return true;
  if (!it->value.IsInt64()) return false;
  *out = it->value.GetInt64();
  return true;
}

ParseError fail(InvalidCause c, std::string detail) { return ParseError{c, std::move(detail)}; }

std::string clip(std::string_view s) { return std::string(s.substr(0, 80)); }

std::optional<ParseError> read_port(const Value& doc, EndpointSpec* ep) {
  int64_t port = 0, tls_port = 0;
  if (!get_int(doc, "port", &port)) return fail(InvalidCause::wrong_type, "port is not an integer");
  if (!get_int(doc, "tls_port", &tls_port)) return fail(InvalidCause::wrong_type, "tls_port is not an integer");
  if (port == 0 && tls_port == 0) {
    bool present = doc.HasMember("port") || doc.HasMember("tls_port");
    return fail(present ? InvalidCause::invalid_port : InvalidCause::missing_port, "port 0 or absent");
  }
  if (port < 0 || port > 65535) return fail(InvalidCause::invalid_port, "port " + std::to_string(port));
  if (tls_port < 0 || tls_port > 65535) return fail(InvalidCause::invalid_port, "tls_port " + std::to_string(tls_port));
  ep->tls = tls_port != 0;
  ep->port = static_cast<uint16_t>(ep->tls ? tls_port : port);
  return std::nullopt;
}

std::optional<ParseError> read_meta(const Value& doc, EndpointSpec* ep) {
  EndpointMeta& m = ep->meta;
  std::string protocol, lb;
  int64_t stale = 0, updated = 0;
  bool ok = get_string(doc, "app", &m.app_id) && get_string(doc, "private_instance_id", &m.private_instance_id) &&
            get_string(doc, "private_instance_index", &m.private_instance_index) &&
            get_string(doc, "server_cert_domain_san", &m.server_cert_domain_san) &&
            get_string(doc, "route_service_url", &m.route_service_url) &&
            get_string(doc, "isolation_segment", &m.isolation_segment) &&
            get_string(doc, "availability_zone", &m.availability_zone) && get_string(doc, "protocol", &protocol) &&
            get_int(doc, "stale_threshold_in_seconds", &stale) && get_int(doc, "endpoint_updated_at_ns", &updated);
  if (!ok) return fail(InvalidCause::wrong_type, "a string or integer field has the wrong type");
  if (!m.route_service_url.empty() && m.route_service_url.rfind("https", 0) != 0)
    return fail(InvalidCause::invalid_route_service_url, clip(m.route_service_url));
  ep->protocol = protocol == "http2" ? Protocol::http2 : Protocol::http1;
  ep->stale_threshold = std::chrono::seconds(std::max<int64_t>(0, stale));
  ep->updated_at_ns = updated;
  if (auto tags = doc.FindMember("tags"); tags != doc.MemberEnd() && !tags->value.IsNull()) {
    if (!tags->value.IsObject()) return fail(InvalidCause::wrong_type, "tags is not an object");
    for (auto& t : tags->value.GetObject()) {
      if (!t.value.IsString()) continue;  // gorouter's map[string]string would reject; be lenient
      m.tags.emplace_back(std::string(t.name.GetString(), t.name.GetStringLength()),
                          std::string(t.value.GetString(), t.value.GetStringLength()));
    }
    std::sort(m.tags.begin(), m.tags.end());
    m.classify();
  }
  if (auto opts = doc.FindMember("options"); opts != doc.MemberEnd() && opts->value.IsObject()) {
    if (get_string(opts->value, "loadbalancing", &lb)) {
      if (lb == "round-robin") ep->algorithm = Algorithm::round_robin;
      if (lb == "least-connection") ep->algorithm = Algorithm::least_connection;
    }
  }
  return std::nullopt;
}

}  // namespace

const char* to_string(InvalidCause c) {
  switch (c) {
    case InvalidCause::not_json: return "not_json";
    case InvalidCause::not_object: return "not_object";
    case InvalidCause::wrong_type: return "wrong_type";
    case InvalidCause::missing_host: return "missing_host";
    case InvalidCause::invalid_host: return "invalid_host";
    case InvalidCause::missing_port: return "missing_port";
    case InvalidCause::invalid_port: return "invalid_port";
    case InvalidCause::missing_uris: return "missing_uris";
    case InvalidCause::invalid_uri: return "invalid_uri";
    case InvalidCause::invalid_route_service_url: return "invalid_route_service_url";
    case InvalidCause::too_large: return "too_large";
  }
  return "unknown";
}



namespace {

// Keeps the first of equal uris, in message order, in O(n log n): a message
// may carry tens of thousands of them.
void drop_duplicates(std::vector<Uri>* uris) {
  if (uris->size() < 2) return;
  std::vector<uint32_t> order(uris->size());
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  const std::vector<Uri>& u = *uris;
  std::sort(order.begin(), order.end(), [&u](uint32_t a, uint32_t b) {
    return std::tie(u[a].host, u[a].path, a) < std::tie(u[b].host, u[b].path, b);
  });
  std::vector<bool> keep(u.size(), true);
  for (size_t i = 1; i < order.size(); ++i)
    if (u[order[i]] == u[order[i - 1]]) keep[order[i]] = false;
  size_t out = 0;
  for (size_t i = 0; i < uris->size(); ++i) {
    if (!keep[i]) continue;
    if (out != i) (*uris)[out] = std::move((*uris)[i]);
    ++out;
  }
  uris->resize(out);
}

}  // namespace

std::variant<RouteMessage, ParseError> parse_route_message(std::string_view payload) {
  if (payload.size() > kMaxMessageBytes)
    return fail(InvalidCause::too_large, std::to_string(payload.size()) + " bytes");
  // RapidJSON stops at a NUL byte; whatever follows one would go unchecked.
  if (payload.find('\0') != std::string_view::npos) return fail(InvalidCause::not_json, "NUL byte in payload");
  // A typical message fits these per-thread buffers, so parsing does not
  // malloc (the default Document allocates a 64 KiB chunk per message);
  // larger ones spill into chunks the allocators free on return.
  // RapidJSON puts its chunk headers at the front of each buffer: align them.
  alignas(std::max_align_t) thread_local char value_memory[16 * 1024];
  alignas(std::max_align_t) thread_local char stack_memory[4 * 1024];
  rapidjson::MemoryPoolAllocator<> value_alloc(value_memory, sizeof value_memory);
  rapidjson::MemoryPoolAllocator<> stack_alloc(stack_memory, sizeof stack_memory);
  using Document = rapidjson::GenericDocument<rapidjson::UTF8<>, rapidjson::MemoryPoolAllocator<>,
                                              rapidjson::MemoryPoolAllocator<>>;
  Document doc(&value_alloc, sizeof stack_memory, &stack_alloc);
  // Iterative parsing: deeply nested garbage cannot exhaust the stack.
  doc.Parse<rapidjson::kParseIterativeFlag>(payload.data(), payload.size());
  if (doc.HasParseError()) return fail(InvalidCause::not_json, rapidjson::GetParseError_En(doc.GetParseError()));
  if (!doc.IsObject()) return fail(InvalidCause::not_object, "payload is not a JSON object");

  RouteMessage msg;
  EndpointSpec& ep = msg.endpoint;
  if (!get_string(doc, "host", &ep.host)) return fail(InvalidCause::wrong_type, "host is not a string");
  if (ep.host.empty()) return fail(InvalidCause::missing_host, "no host");
  if (!names::valid_hostname(ep.host)) return fail(InvalidCause::invalid_host, clip(ep.host));
  if (auto err = read_port(doc, &ep)) return *err;
  if (auto err = read_meta(doc, &ep)) return *err;

  auto uris = doc.FindMember("uris");
  if (uris == doc.MemberEnd() || uris->value.IsNull()) return fail(InvalidCause::missing_uris, "no uris");
  if (!uris->value.IsArray()) return fail(InvalidCause::wrong_type, "uris is not a list");
  if (uris->value.Empty()) return fail(InvalidCause::missing_uris, "uris is empty");
  for (auto& u : uris->value.GetArray()) {
    if (!u.IsString()) return fail(InvalidCause::wrong_type, "a uri is not a string");
    Uri uri;
    std::string_view text(u.GetString(), u.GetStringLength());
    if (!parse_uri(text, &uri)) return fail(InvalidCause::invalid_uri, clip(text));
    msg.uris.push_back(std::move(uri));
  }
  drop_duplicates(&msg.uris);
  return msg;
}

}  // namespace sy::route
