#pragma once
// Request/response heads as parsed (views into the connection's read buffer)
// and the rewrites the router applies to them. Only the head is rewritten;
// bodies are relayed byte for byte with their original framing. Pure
// functions, no Beast here, so they are cheap to include and to unit-test.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sy::proxy {

// The header names the router treats specially, classified once per field
// when the head is parsed (everything else is `other`).
enum class FieldKind : uint8_t {
  other,
  // hop-by-hop
  connection, keep_alive, proxy_connection, proxy_authenticate, proxy_authorization, upgrade, te,
  // always replaced (or dropped) by the router: expect .. x_cf_proxy_signature
  expect, x_forwarded_for, x_vcap_request_id, x_cf_applicationid, x_cf_instanceindex, x_cf_instanceid,
  x_cf_app_instance, x_cf_process_instance, x_cf_proxy_signature,
  // set by the router only when absent
  x_forwarded_proto, x_request_start,
  // never stripped even when listed in Connection
  content_length, transfer_encoding, b3, x_b3, x_b3_spanid, x_b3_traceid, x_forwarded_client_cert,
  host,
  // read for instance affinity (affinity.hpp)
  cookie, set_cookie,
};
FieldKind classify_field(std::string_view name);

struct Field {
  std::string_view name;
  std::string_view value;
  FieldKind kind = FieldKind::other;
};

struct RequestHead {
  std::string_view method;
  std::string_view target;
  int version = 11;  // 10 or 11
  std::vector<Field> fields;
  // Derived while parsing.
  bool keep_alive = true;
  bool upgrade = false;
  bool chunked = false;
  std::optional<uint64_t> content_length;
  std::string_view host;
  bool has_host = false;
  bool connection_tokens = false;  // Connection names headers beyond close/keep-alive/upgrade

  void clear();
  bool has_body() const { return chunked || (content_length && *content_length > 0); }
  bool idempotent() const;  // GET HEAD OPTIONS TRACE (+ Idempotency-Key header)
  std::string_view path() const;  // target up to '?', or "/" for absolute-form / "*"
  std::string_view find(std::string_view name) const;  // first value, case-insensitive; "" if absent
  std::string_view find(FieldKind kind) const;         // first value of that kind; "" if absent
};

struct ResponseHead {
  int status = 0;
  std::string_view reason;
  int version = 11;
  std::vector<Field> fields;
  bool keep_alive = true;
  bool chunked = false;
  bool connection_tokens = false;
  std::optional<uint64_t> content_length;
  void clear();
  std::string_view find(std::string_view name) const;
};

// What the rewrite adds for the chosen endpoint.
struct RequestRewrite {
  std::string_view client_ip;
  std::string_view request_id;       // X-Vcap-Request-Id (always replaced)
  long long now_ms = 0;              // X-Request-Start when absent
  std::string_view app_id;           // X-CF-ApplicationID when not empty
  std::string_view instance_index;   // X-CF-InstanceIndex when not empty
  std::string_view instance_id;      // X-CF-InstanceID
  std::string_view forwarded_proto = "http";
  bool force_forwarded_proto = false;  // overwrite X-Forwarded-Proto (force https / sanitize)
  bool close = false;                  // ask the backend to close (HTTP/1.0 or keep-alive disabled)
  std::string_view extra_headers;      // raw "Name: v\r\n" lines from the connector
  const std::vector<std::string>* filter = nullptr;  // hop_by_hop_headers_to_filter (lower-case)
};

// Appends the upstream request head (request line to blank line) to `out`.
void write_upstream_request(const RequestHead& head, const RequestRewrite& rw, std::string* out);

struct ResponseRewrite {
  std::string_view request_id;  // added as X-Vcap-Request-Id when the backend did not set it
  bool close = false;           // add Connection: close (we will close the client connection)
  bool keep_upgrade = false;    // 101: keep Connection/Upgrade as the backend sent them
  std::string_view extra_headers;  // raw "Name: v\r\n" lines to add (a __VCAP_ID__ Set-Cookie)
};

void write_client_response(const ResponseHead& head, const ResponseRewrite& rw, std::string* out);

// Early sanity check of a request head still being received: false as soon
// as the bytes cannot start an HTTP/1.x request line (a TLS hello, junk), so
// the router answers 400 at once instead of waiting for the header timeout.
bool plausible_request_start(std::string_view data);

bool iequals(std::string_view a, std::string_view b);
// True when a Connection header value names headers to drop (anything but
// close, keep-alive, upgrade).
bool names_headers(std::string_view connection_value);
// True for hop-by-hop headers that a proxy must not forward.
bool is_hop_by_hop(std::string_view name);

}  // namespace sy::proxy
