#pragma once
// Internal to config/ and the readers built on it (config/readers.hpp, the
// registrar's config): typed reads of yaml-cpp nodes that name the dotted
// key path on failure. Failures throw detail::Invalid, which
// read_document() (readers.hpp) catches and turns into a ConfigError, so
// nothing escapes to the binaries.
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace sy::config::detail {

struct Invalid {
  std::string message;
};

// Throws Invalid{"<path>: value \"<v>\" is not <what>"} (or "got a map,
// expected <what>" for a non-scalar node).
[[noreturn]] void fail(const std::string& path, const YAML::Node& node, std::string_view what);

// Null, "", [] or {}: a key with such a value configures nothing.
bool is_empty(const YAML::Node& node);

std::string read_string(const YAML::Node& node, const std::string& path);
bool read_bool(const YAML::Node& node, const std::string& path);
long long read_int(const YAML::Node& node, const std::string& path, long long min, long long max,
                   std::string_view what);
uint16_t read_port(const YAML::Node& node, const std::string& path);
Millis read_millis(const YAML::Node& node, const std::string& path);
Seconds read_seconds(const YAML::Node& node, const std::string& path);  // rounded up to whole seconds
// A list of HTTP header names (RFC 9110 tokens).
std::vector<std::string> read_header_list(const YAML::Node& node, const std::string& path);
// A list of HTTP tokens (RFC 9110 tchar), e.g. cookie names; `item` names one
// in the error message ("a cookie name").
std::vector<std::string> read_token_list(const YAML::Node& node, const std::string& path, std::string_view item);
void require_map(const YAML::Node& node, const std::string& path);

// One key a map understands; `read` gets the (non-null) value and its path.
struct Key {
  std::string_view name;
  std::function<void(const YAML::Node& value, const std::string& path)> read;
};

// Walks `map` (at `path`, "" for the root) in file order: known keys with a
// non-null value go to their reader (null = key absent, default kept),
// duplicate or non-string keys fail, and any other key whose value is not
// empty is appended to `ignored` as a dotted path (not descended into).
void read_map(const YAML::Node& map, const std::string& path, const std::vector<Key>& keys,
              std::vector<std::string>& ignored);

// `text` as one printable line, for messages: a line break as "\n", any
// other control character (NUL included) as a space.
std::string one_line(std::string_view text);

std::string join(const std::string& path, std::string_view key);     // "a" + "b" = "a.b" (key made one_line)
std::string index(const std::string& path, size_t i);                // "a" + 1 = "a[1]"

// The one YAML document in `text` (a null node when there is none). Throws
// Invalid if a second document starts, and yaml-cpp's exceptions on a
// syntax error. Reads no further than the start of a second document:
// yaml-cpp 0.7 reports empty documents without end after some malformed
// input (such as "&a e\n? "), on which YAML::LoadAll never returns and
// allocates until memory runs out.
YAML::Node load_one_document(const std::string& text);

// "line L, column C" (1-based) for a yaml-cpp error mark within `text`.
std::string describe_mark(const YAML::Mark& mark, std::string_view text);

}  // namespace sy::config::detail
