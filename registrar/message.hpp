#pragma once
// The NATS messages switchyard-registrar speaks, as pure header-only
// functions (unit-tested without NATS): the gorouter registry message it
// publishes on `router.register` / `router.unregister` (both carry the same
// payload), and the `router.start` / greet-reply payload it reads. Any
// thread; no I/O. A malformed router.start yields nullopt (ignored).
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sy::registrar {

// One endpoint announced under `uris`: the fields route-registrar sends, plus
// `app` and `stale_threshold_in_seconds` for the one-shot CLI. Empty strings
// and zero numbers are left out of the JSON.
struct Registration {
  std::string host;
  uint16_t port = 0;
  uint16_t tls_port = 0;
  std::vector<std::string> uris;
  std::vector<std::pair<std::string, std::string>> tags;  // in config order
  std::string app;
  std::string private_instance_id;
  std::string server_cert_domain_san;
  std::string route_service_url;
  std::string protocol;           // http1 | http2
  std::string availability_zone;
  std::string loadbalancing;      // options.loadbalancing: round-robin | least-connection
  int stale_threshold_in_seconds = 0;
};

inline std::string registry_json(const Registration& r) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  auto field = [&w](const char* key, const std::string& value) {
    if (value.empty()) return;
    w.Key(key);
    w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
  };
  w.StartObject();
  field("host", r.host);
  if (r.port != 0) {
    w.Key("port");
    w.Uint(r.port);
  }
  if (r.tls_port != 0) {
    w.Key("tls_port");
    w.Uint(r.tls_port);
  }
  w.Key("uris");
  w.StartArray();
  for (const std::string& uri : r.uris) w.String(uri.data(), static_cast<rapidjson::SizeType>(uri.size()));
  w.EndArray();
  w.Key("tags");
  w.StartObject();
  for (const auto& [key, value] : r.tags) {
    w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
    w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
  }
  w.EndObject();
  field("app", r.app);
  field("private_instance_id", r.private_instance_id);
  field("server_cert_domain_san", r.server_cert_domain_san);
  field("route_service_url", r.route_service_url);
  field("protocol", r.protocol);
  field("availability_zone", r.availability_zone);
  if (r.stale_threshold_in_seconds > 0) {
    w.Key("stale_threshold_in_seconds");
    w.Int(r.stale_threshold_in_seconds);
  }
  if (!r.loadbalancing.empty()) {
    w.Key("options");
    w.StartObject();
    field("loadbalancing", r.loadbalancing);
    w.EndObject();
  }
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

// What a router said in `router.start` (or its reply to `router.greet`).
struct RouterStart {
  std::string id;
  std::chrono::seconds minimum_register_interval{0};  // 0 = no preference
};

// Parses {"id", "minimumRegisterIntervalInSeconds", ...}. A missing or
// non-numeric interval counts as 0; a payload that is not a JSON object, or
// has a negative interval, is nullopt.
inline std::optional<RouterStart> parse_router_start(std::string_view payload) {
  rapidjson::Document doc;
  doc.Parse(payload.data(), payload.size());
  if (doc.HasParseError() || !doc.IsObject()) return std::nullopt;
  RouterStart start;
  auto id = doc.FindMember("id");
  if (id != doc.MemberEnd() && id->value.IsString()) start.id = id->value.GetString();
  auto minimum = doc.FindMember("minimumRegisterIntervalInSeconds");
  if (minimum != doc.MemberEnd() && minimum->value.IsNumber()) {
    double seconds = minimum->value.GetDouble();
    if (seconds < 0) return std::nullopt;
    start.minimum_register_interval = std::chrono::seconds(static_cast<int64_t>(std::min(seconds, 86400.0 * 365)));
  }
  return start;
}

}  // namespace sy::registrar
