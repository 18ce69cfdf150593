#pragma once
// Instance affinity, as gorouter does it: a request may name the instance it
// wants (`X-CF-APP-INSTANCE: <app guid>:<index>`, or by process with
// `X-CF-PROCESS-INSTANCE: <process guid>[:<index>]`; strict) or carry a sticky
// session (`__VCAP_ID__=<private_instance_id>` next to a session cookie such
// as JSESSIONID, best effort); and a response that starts a session gets a
// `__VCAP_ID__` cookie naming the instance that served it. Pure functions over
// parsed heads; the session does the picking (Session::forward).
#include <string>
#include <string_view>
#include <vector>

#include "router/proxy/http_head.hpp"

namespace sy::proxy {

inline constexpr std::string_view kVcapCookie = "__VCAP_ID__";

// Splits `<app guid>:<index>`; false unless it is exactly a lower-case UUID,
// a colon and digits (gorouter's `^[\da-f]{8}-([\da-f]{4}-){3}[\da-f]{12}:\d+$`).
bool parse_app_instance(std::string_view value, std::string_view* guid, std::string_view* index);
// `<process guid>[:<index>]` (X-CF-PROCESS-INSTANCE); `index` is "" without one.
bool parse_process_instance(std::string_view value, std::string_view* guid, std::string_view* index);

// The instance a request sticks to: the value of its __VCAP_ID__ cookie when
// it also carries one of `session_cookies`; "" otherwise.
std::string_view sticky_instance(const RequestHead& head, const std::vector<std::string>& session_cookies);

struct StickyResponse {
  const std::vector<std::string>* session_cookies = nullptr;
  std::string_view requested;  // sticky_instance() of the request ("" if none)
  std::string_view served;     // private_instance_id of the endpoint that answered
  std::string_view path;       // the route's path ("/" for a host-only route)
  bool secure_cookies = false;
};

// The `Set-Cookie: __VCAP_ID__=...\r\n` line to add to a response, or "" when
// none is due. Due when the response sets a session cookie, or the request
// asked for another instance than the one that served it; never when the
// response sets __VCAP_ID__ itself or the instance has no id. Secure,
// SameSite, Expires, Partitioned and a deleting Max-Age are copied from the
// session cookie; HttpOnly always.
std::string sticky_set_cookie(const ResponseHead& head, const StickyResponse& s);

}  // namespace sy::proxy
