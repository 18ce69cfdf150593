#pragma once
// Reading samples out of Prometheus text format (0.0.4) in tests.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sy::test {

struct PromSample {
  std::string name;
  std::vector<std::pair<std::string, std::string>> labels;
  double value = 0;
};

// Every sample line (comments and blank lines skipped; malformed lines too).
std::vector<PromSample> parse_prom_text(std::string_view text);
// True if some sample is called exactly `name`.
bool has_metric(std::string_view text, std::string_view name);
// Sum of every sample called exactly `name`, whatever its labels (0 if none).
double metric_sum(std::string_view text, std::string_view name);
// Value of the first sample called `name` that has all of `labels`.
std::optional<double> metric_value(std::string_view text, std::string_view name,
                                   const std::vector<std::pair<std::string, std::string>>& labels = {});

}  // namespace sy::test
