#pragma once
// The rewrites the router applies to heads it forwards (router/http parses
// them). Only the head is rewritten; bodies are relayed byte for byte with
// the framing the parser checked, and the framing lines (Content-Length,
// Transfer-Encoding) are always the router's own, written from the parser's
// verdict, never the received ones. Pure functions, no Beast, cheap to
// include and to unit-test.
#include <string>
#include <string_view>
#include <vector>

#include "router/http/message.hpp"

namespace sy::proxy {

using http::Field;
using http::FieldKind;
using http::RequestHead;
using http::ResponseHead;
using http::iequals;

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
  bool append_client_ip = true;        // false: a node forwarded it, X-Forwarded-For already names the client
  // X-Forwarded-Client-Cert (gorouter's forwarded_client_cert): drop what the
  // client sent, and add `client_cert` (its TLS certificate) when not empty.
  bool strip_client_cert = false;
  std::string_view client_cert;
  std::string_view extra_headers;      // raw "Name: v\r\n" lines from the connector
  const std::vector<std::string>* filter = nullptr;  // hop_by_hop_headers_to_filter (lower-case)
};

// Appends the upstream request head (request line to blank line) to `out`.
// An absolute-form target goes out in origin-form with Host set to its
// authority (the Host it was routed by).
void write_upstream_request(const RequestHead& head, const RequestRewrite& rw, std::string* out);

struct ResponseRewrite {
  std::string_view request_id;  // added as X-Vcap-Request-Id when the backend did not set it
  bool close = false;           // add Connection: close (we will close the client connection)
  bool keep_upgrade = false;    // 101: keep Connection/Upgrade as the backend sent them
  std::string_view extra_headers;  // raw "Name: v\r\n" lines to add (a __VCAP_ID__ Set-Cookie)
  bool dechunked = false;  // a chunked body relayed as its data alone, delimited by the close (HTTP/1.0 client)
};

// Appends the client response head: always HTTP/1.1, whatever version the
// backend spoke.
void write_client_response(const ResponseHead& head, const ResponseRewrite& rw, std::string* out);

// Early sanity check of a request head still being received: false as soon
// as the bytes cannot start an HTTP/1.x request line (a TLS hello, junk), so
// the router answers 400 at once instead of waiting for the header timeout.
bool plausible_request_start(std::string_view data);

// True for hop-by-hop headers that a proxy must not forward.
bool is_hop_by_hop(std::string_view name);

}  // namespace sy::proxy
