#pragma once
// HTTP/1.1 message heads as the strict parser (head_parser.hpp) leaves them:
// views into the connection's read buffer, plus what the parser decided once
// — body framing, keep-alive, upgrade, the Host to route by — so nothing
// downstream re-derives it from the raw fields. Pure; any thread.
//
// The framing fields are the parser's verdict under RFC 9112 §6: a message
// that reached the proxy has exactly one framing, and the router writes its
// own Content-Length / Transfer-Encoding lines from these fields (never the
// received ones), so what a backend or client sees cannot be read two ways.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sy::http {

// The header names the router treats specially, classified once per field
// when the head is parsed (everything else is `other`).
enum class FieldKind : uint8_t {
  other,
  // hop-by-hop
  connection, keep_alive, proxy_connection, proxy_authenticate, proxy_authorization, upgrade, te,
  // always replaced (or dropped) by the router: expect .. x_cf_proxy_signature
  expect, x_forwarded_for, x_vcap_request_id, x_cf_applicationid, x_cf_instanceindex, x_cf_instanceid,
  x_cf_app_instance, x_cf_process_instance, switchyard_forwarded_node, x_cf_proxy_signature,
  // set by the router only when absent
  x_forwarded_proto, x_request_start,
  // framing: never forwarded as received; the router writes its own
  content_length, transfer_encoding,
  // never stripped even when listed in Connection
  b3, x_b3, x_b3_spanid, x_b3_traceid, x_forwarded_client_cert, host,
  // read for instance affinity (affinity.hpp)
  cookie, set_cookie,
};
FieldKind classify_field(std::string_view name);

struct Field {
  std::string_view name;
  std::string_view value;
  FieldKind kind = FieldKind::other;
};

// How the body is delimited (RFC 9112 §6.3).
enum class BodyKind : uint8_t { none, length, chunked, until_close };

// Transfer codings a message may name before its final `chunked`
// (RFC 9110 §8.4.1 and the IANA registry); `unknown` is any other name, and
// a message naming one is refused.
enum class Coding : uint8_t { chunked, gzip, deflate, compress, x_gzip, x_compress, unknown };
std::string_view to_string(Coding c);

// The codings of every Transfer-Encoding line, in order. Valid only when the
// last is `chunked` and it appears nowhere else (the parser refuses the rest).
struct Codings {
  static constexpr size_t kMax = 4;
  std::array<Coding, kMax> items{};
  uint8_t count = 0;
  // "gzip, chunked": the value the router writes for what it forwards.
  void render(std::string* out) const;
};

// Tokens of the Connection header(s) beyond close/keep-alive/upgrade: the
// headers they name are hop-by-hop. Bounded so dropping them is O(fields).
struct ConnectionTokens {
  static constexpr size_t kMax = 16;
  std::array<std::string_view, kMax> names{};
  uint8_t count = 0;
  bool lists(std::string_view name) const;
};

enum class TargetForm : uint8_t { origin, absolute, authority, asterisk };

struct RequestHead {
  std::string_view method;
  std::string_view target;  // as received
  int version = 11;         // 10 or 11
  TargetForm form = TargetForm::origin;
  // absolute-form: the target's authority (the Host the request is routed by
  // and forwarded with) and its path and query ("/" when the target has none).
  std::string_view target_authority;
  std::string_view target_path;  // origin-form: == target
  std::vector<Field> fields;

  // Decided by the parser.
  BodyKind body = BodyKind::none;  // requests: none, length or chunked
  uint64_t content_length = 0;     // body == length
  Codings codings;                 // body == chunked
  bool keep_alive = true;
  bool upgrade = false;            // HTTP/1.1, Connection: upgrade and an Upgrade header
  std::string_view upgrade_protocol;  // upgrade: the first non-empty Upgrade value
  std::string_view host;           // the one Host (absolute-form: the target's authority)
  bool has_host = false;
  ConnectionTokens connection;

  void clear();
  bool has_body() const { return body == BodyKind::chunked || (body == BodyKind::length && content_length > 0); }
  bool idempotent() const;  // GET HEAD OPTIONS TRACE (+ Idempotency-Key header)
  std::string_view path() const;  // target path up to '?' ("*" for asterisk-form)
  std::string_view find(std::string_view name) const;  // first value, case-insensitive; "" if absent
  std::string_view find(FieldKind kind) const;         // first value of that kind; "" if absent
};

struct ResponseHead {
  int status = 0;
  std::string_view reason;
  int version = 11;
  std::vector<Field> fields;
  bool keep_alive = true;
  bool has_content_length = false;
  uint64_t content_length = 0;
  bool chunked = false;  // Transfer-Encoding ends in chunked (Content-Length then ignored)
  Codings codings;
  ConnectionTokens connection;

  void clear();
  std::string_view find(std::string_view name) const;
  // RFC 9112 §6.3 for this response to a request (HEAD or not).
  BodyKind framing(bool request_was_head) const;
};

bool iequals(std::string_view a, std::string_view b);

}  // namespace sy::http
