#include "tests/support/prom_text.hpp"

#include <cstdlib>

namespace sy::test {
namespace {

// Parses `{a="x",b="y"}` starting at text[pos] == '{'; pos ends after '}'.
bool parse_labels(std::string_view text, size_t& pos, std::vector<std::pair<std::string, std::string>>& labels) {
  ++pos;
  while (pos < text.size() && text[pos] != '}') {
    const size_t eq = text.find('=', pos);
    if (eq == std::string_view::npos || eq + 1 >= text.size() || text[eq + 1] != '"') return false;
    std::string name(text.substr(pos, eq - pos));
    std::string value;
    size_t i = eq + 2;
    for (; i < text.size() && text[i] != '"'; ++i) {
      if (text[i] == '\\' && i + 1 < text.size()) {
        ++i;
        value += text[i] == 'n' ? '\n' : text[i];
      } else {
        value += text[i];
      }
    }
    if (i >= text.size()) return false;
    labels.emplace_back(std::move(name), std::move(value));
    pos = i + 1;
    if (pos < text.size() && text[pos] == ',') ++pos;
  }
  if (pos >= text.size()) return false;
  ++pos;
  return true;
}

std::optional<PromSample> parse_line(std::string_view line) {
  PromSample sample;
  size_t pos = 0;
  while (pos < line.size() && line[pos] != '{' && line[pos] != ' ') ++pos;
  sample.name = std::string(line.substr(0, pos));
  if (sample.name.empty()) return std::nullopt;
  if (pos < line.size() && line[pos] == '{' && !parse_labels(line, pos, sample.labels)) return std::nullopt;
  while (pos < line.size() && line[pos] == ' ') ++pos;
  const std::string value(line.substr(pos, line.find(' ', pos) - pos));
  if (value.empty()) return std::nullopt;
  char* end = nullptr;
  sample.value = std::strtod(value.c_str(), &end);  // also parses +Inf, -Inf, NaN
  if (end == value.c_str()) return std::nullopt;
  return sample;
}

}  // namespace

std::vector<PromSample> parse_prom_text(std::string_view text) {
  std::vector<PromSample> samples;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    if (auto sample = parse_line(line)) samples.push_back(std::move(*sample));
  }
  return samples;
}

bool has_metric(std::string_view text, std::string_view name) {
  for (const auto& sample : parse_prom_text(text)) {
    if (sample.name == name) return true;
  }
  return false;
}

double metric_sum(std::string_view text, std::string_view name) {
  double sum = 0;
  for (const auto& sample : parse_prom_text(text)) {
    if (sample.name == name) sum += sample.value;
  }
  return sum;
}

std::optional<double> metric_value(std::string_view text, std::string_view name,
                                   const std::vector<std::pair<std::string, std::string>>& labels) {
  for (const auto& sample : parse_prom_text(text)) {
    if (sample.name != name) continue;
    bool all = true;
    for (const auto& wanted : labels) {
      bool found = false;
      for (const auto& label : sample.labels) found = found || label == wanted;
      all = all && found;
    }
    if (all) return sample.value;
  }
  return std::nullopt;
}

}  // namespace sy::test
