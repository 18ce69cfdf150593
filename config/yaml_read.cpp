#include "config/yaml_read.hpp"

#include <yaml-cpp/eventhandler.h>

#include <charconv>
#include <sstream>
#include <unordered_set>

namespace sy::config::detail {
namespace {

constexpr size_t kMaxQuoted = 60;

// The value as it appears in an error message: escaped, one line, bounded.
std::string quote(std::string_view v) {
  std::string out = "\"";
  for (size_t i = 0; i < v.size() && i < kMaxQuoted; ++i) {
    char c = v[i];
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += ' ';
    } else {
      out += c;
    }
  }
  if (v.size() > kMaxQuoted) out += "...";
  return out + "\"";
}

const char* kind(const YAML::Node& node) {
  if (node.IsMap()) return "a map";
  if (node.IsSequence()) return "a list";
  if (node.IsNull()) return "nothing (null)";
  return "a scalar";
}

const std::string& scalar(const YAML::Node& node, const std::string& path, std::string_view what) {
  if (!node.IsScalar()) fail(path, node, what);
  return node.Scalar();
}

bool is_tchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// Notes where each document starts; drops every other event.
class DocumentStarts : public YAML::EventHandler {
 public:
  std::vector<YAML::Mark> marks;

  void OnDocumentStart(const YAML::Mark& mark) override { marks.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

}  // namespace

YAML::Node load_one_document(const std::string& text) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentStarts starts;
  for (int i = 0; i < 2 && parser.HandleNextDocument(starts); ++i) {
  }
  if (starts.marks.size() > 1) {
    throw Invalid{"expected one YAML document, found a second at " + describe_mark(starts.marks[1], text)};
  }
  return YAML::Load(text);
}

void fail(const std::string& path, const YAML::Node& node, std::string_view what) {
  std::string where = path.empty() ? "(top level)" : path;
  if (node.IsScalar()) throw Invalid{where + ": value " + quote(node.Scalar()) + " is not " + std::string(what)};
  throw Invalid{where + ": got " + kind(node) + ", expected " + std::string(what)};
}

bool is_empty(const YAML::Node& node) {
  if (node.IsNull()) return true;
  if (node.IsScalar()) return node.Scalar().empty();
  return node.size() == 0;
}

std::string read_string(const YAML::Node& node, const std::string& path) {
  return scalar(node, path, "a string");
}

bool read_bool(const YAML::Node& node, const std::string& path) {
  // yaml-cpp's YAML 1.1 spellings: true/false, yes/no, on/off, y/n (any case).
  bool value = false;
  if (!node.IsScalar() || !YAML::convert<bool>::decode(node, value)) fail(path, node, "a boolean (true or false)");
  return value;
}

long long read_int(const YAML::Node& node, const std::string& path, long long min, long long max,
                   std::string_view what) {
  const std::string& text = scalar(node, path, what);
  long long value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max) {
    fail(path, node, what);
  }
  return value;
}

uint16_t read_port(const YAML::Node& node, const std::string& path) {
  return static_cast<uint16_t>(read_int(node, path, 1, 65535, "a port (1..65535)"));
}

Millis read_millis(const YAML::Node& node, const std::string& path) {
  constexpr std::string_view what = "a duration (such as 30s, 500ms, 1m30s, or integer seconds)";
  const std::string& text = scalar(node, path, what);
  std::optional<Millis> value = parse_duration(text);
  if (!value && !text.empty() && text.front() == '-') fail(path, node, "a valid duration (must not be negative)");
  if (!value) fail(path, node, what);
  return *value;
}

Seconds read_seconds(const YAML::Node& node, const std::string& path) {
  return std::chrono::ceil<Seconds>(read_millis(node, path));
}

std::vector<std::string> read_token_list(const YAML::Node& node, const std::string& path, std::string_view item) {
  const std::string what(item);
  if (!node.IsSequence()) fail(path, node, "a list of " + what.substr(what.find(' ') + 1) + "s");
  std::vector<std::string> out;
  for (size_t i = 0; i < node.size(); ++i) {
    std::string item_path = index(path, i);
    const YAML::Node element = node[i];
    std::string name = scalar(element, item_path, what);
    bool valid = !name.empty();
    for (char c : name) valid = valid && is_tchar(c);
    if (!valid) fail(item_path, element, what);
    out.push_back(name);
  }
  return out;
}

std::vector<std::string> read_header_list(const YAML::Node& node, const std::string& path) {
  return read_token_list(node, path, "a header name");
}

void require_map(const YAML::Node& node, const std::string& path) {
  if (!node.IsMap()) fail(path, node, "a map");
}

void read_map(const YAML::Node& map, const std::string& path, const std::vector<Key>& keys,
              std::vector<std::string>& ignored) {
  require_map(map, path);
  std::unordered_set<std::string> seen;
  for (auto it = map.begin(); it != map.end(); ++it) {
    // Copies: yaml-cpp's operator-> yields a temporary pair of Node handles.
    const YAML::Node key = it->first;
    const YAML::Node value = it->second;
    if (!key.IsScalar()) fail(path, key, "a string key");
    const std::string name = key.Scalar();
    std::string key_path = join(path, name);
    if (!seen.insert(name).second) {
      throw Invalid{key_path + ": duplicate key (again at line " + std::to_string(key.Mark().line + 1) + ")"};
    }
    const Key* known = nullptr;
    for (const Key& k : keys) {
      if (k.name == name) known = &k;
    }
    if (known == nullptr) {
      if (!is_empty(value)) ignored.push_back(key_path);
    } else if (!value.IsNull()) {
      known->read(value, key_path);
    }
  }
}

std::string one_line(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\n') {
      out += "\\n";
    } else {
      out += static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? ' ' : c;
    }
  }
  return out;
}

std::string join(const std::string& path, std::string_view key) {
  return path.empty() ? one_line(key) : path + "." + one_line(key);
}

std::string index(const std::string& path, size_t i) { return path + "[" + std::to_string(i) + "]"; }

// yaml-cpp marks are 0-based: `line` counts line breaks ("\n" or "\r\n")
// before the error, and `column` counts *bytes* of UTF-8 since the start of
// that line (a leading BOM is not counted). For the as-printed gorouter seed,
// "end of map not found" carries mark {line 7, column 2}: the first token
// that cannot continue the `- host:` map is the mis-indented `port` key, at
// the start of file line 8, after two spaces. We report line + 1 and a
// 1-based column in characters, recounted from the text of that line, so a
// multi-byte character earlier on the line counts once.
std::string describe_mark(const YAML::Mark& mark, std::string_view text) {
  if (mark.is_null() || mark.line < 0 || mark.column < 0) return "unknown position";
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  size_t start = 0;
  for (int line = 0; line < mark.line && start != std::string_view::npos; ++line) {
    start = text.find('\n', start);
    if (start != std::string_view::npos) ++start;
  }
  int column = mark.column + 1;
  if (start != std::string_view::npos && start + static_cast<size_t>(mark.column) <= text.size()) {
    column = 1;
    for (char c : text.substr(start, static_cast<size_t>(mark.column))) {
      if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++column;  // not a UTF-8 continuation byte
    }
  }
  return "line " + std::to_string(mark.line + 1) + ", column " + std::to_string(column);
}

}  // namespace sy::config::detail
