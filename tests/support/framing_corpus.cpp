#include "tests/support/framing_corpus.hpp"

#include <cstdlib>
#include <set>
#include <sstream>

#include "tests/support/temp_dir.hpp"

namespace sy::test {
namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Escapes only (no braces).
bool unescape(std::string_view text, std::string* out, std::string* error) {
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\') {
      *out += text[i];
      continue;
    }
    const char e = i + 1 < text.size() ? text[++i] : '\0';
    switch (e) {
      case 'r': *out += '\r'; break;
      case 'n': *out += '\n'; break;
      case 't': *out += '\t'; break;
      case '0': *out += '\0'; break;
      case '\\': *out += '\\'; break;
      case 'x': {
        const int hi = i + 1 < text.size() ? hex_digit(text[i + 1]) : -1;
        const int lo = i + 2 < text.size() ? hex_digit(text[i + 2]) : -1;
        if (hi < 0 || lo < 0) return *error = "bad \\x escape", false;
        *out += static_cast<char>(hi * 16 + lo);
        i += 2;
        break;
      }
      default: return *error = std::string("unknown escape \\") + e, false;
    }
  }
  return true;
}

bool expand_braces(std::string_view inside, const std::string& host, std::string* out, std::string* error) {
  if (inside == "HOST") return *out += host, true;
  const size_t star = inside.rfind('*');
  if (star == std::string_view::npos) return *error = "unknown {" + std::string(inside) + "}", false;
  char* end = nullptr;
  const std::string count_text(inside.substr(star + 1));
  const unsigned long count = std::strtoul(count_text.c_str(), &end, 10);
  if (count_text.empty() || *end != '\0' || count > 10'000'000) return *error = "bad repeat count", false;
  std::string unit;
  if (!expand_corpus_bytes(inside.substr(0, star), host, &unit, error)) return false;
  out->reserve(out->size() + unit.size() * count);
  for (unsigned long i = 0; i < count; ++i) *out += unit;
  return true;
}

}  // namespace

bool expand_corpus_bytes(std::string_view text, const std::string& host, std::string* out, std::string* error) {
  while (!text.empty()) {
    const size_t open = text.find('{');
    if (!unescape(text.substr(0, open), out, error)) return false;
    if (open == std::string_view::npos) return true;
    const size_t close = text.find('}', open);
    if (close == std::string_view::npos) return *error = "unclosed {", false;
    if (!expand_braces(text.substr(open + 1, close - open - 1), host, out, error)) return false;
    text.remove_prefix(close + 1);
  }
  return true;
}

std::vector<FramingCase> load_framing_corpus(const std::string& path, const std::string& host, std::string* error) {
  std::istringstream in(read_file(path));
  std::vector<FramingCase> cases;
  std::set<std::string> names;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    auto fail = [&](const std::string& why) {
      *error = path + ":" + std::to_string(number) + ": " + why;
      return std::vector<FramingCase>{};
    };
    if (line.empty() || line[0] == '#') continue;
    if (line.rfind("case ", 0) == 0) {
      if (!names.insert(line.substr(5)).second) return fail("duplicate case " + line.substr(5));
      cases.push_back(FramingCase{line.substr(5), {}, {}, {}, number});
    } else if (cases.empty()) {
      return fail("directive before the first case");
    } else if (line.rfind("expect", 0) == 0) {
      std::istringstream statuses(line.substr(6));
      for (int status = 0; statuses >> status;) cases.back().expect.push_back(status);
    } else if (line.rfind("note ", 0) == 0) {
      cases.back().note = line.substr(5);
    } else if (line.rfind("> ", 0) == 0) {
      if (!expand_corpus_bytes(std::string_view(line).substr(2), host, &cases.back().bytes, error))
        return fail(*error);
    } else {
      return fail("unknown directive: " + line);
    }
  }
  if (cases.empty()) *error = path + ": no cases";
  return cases;
}

}  // namespace sy::test
