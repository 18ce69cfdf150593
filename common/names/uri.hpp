#pragma once
// Registered uris (gorouter's RouteKey): "Api.Example.com/v1/" or
// "*.apps.io" as a lower-cased host (a leading "*." for a wildcard) plus an
// optional path of whole segments without a trailing slash. Shared by the
// router, which keys its table by them, and the registrar, which checks its
// routes before it publishes them. Pure; any thread.
#include <string>
#include <string_view>

namespace sy::names {

struct Uri {
  std::string host;
  std::string path;  // "" or "/api/v1", lower-cased as gorouter's RouteKey
  std::string str() const { return host + path; }
  bool operator==(const Uri&) const = default;
};

// Parses one registered uri; false (and `out` unspecified) when it is not a
// plain host[/path] of at most 1024 bytes.
bool parse_uri(std::string_view text, Uri* out);

}  // namespace sy::names
