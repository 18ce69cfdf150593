// parse_duration: integer seconds ("30") or Go's time.ParseDuration syntax
// ("30s", "1m30s", "1.5h", "500ms", "250us") without a sign: a config
// duration is never negative, so "-1s" (and "+1s") are rejected, as is a
// missing unit ("1m30", "1.5"). Arithmetic is done in nanoseconds with
// overflow checks, like Go, then truncated to milliseconds ("1500us" = 1ms).
#include <cstdint>
#include <limits>
#include <string_view>

#include "config/config.hpp"

namespace sy::config {
namespace {

constexpr uint64_t kMaxNanos = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Nanoseconds per unit, or 0 if `unit` is not a Go duration unit.
uint64_t unit_nanos(std::string_view unit) {
  if (unit == "ns") return 1;
  if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs") return 1000;  // us, µs (U+00B5), μs (U+03BC)
  if (unit == "ms") return 1000 * 1000;
  if (unit == "s") return 1000ULL * 1000 * 1000;
  if (unit == "m") return 60ULL * 1000 * 1000 * 1000;
  if (unit == "h") return 3600ULL * 1000 * 1000 * 1000;
  return 0;
}

// Leading decimal digits of `s` into `value`; false on overflow. Advances `s`.
bool take_integer(std::string_view& s, uint64_t& value, size_t& digits) {
  value = 0;
  digits = 0;
  while (!s.empty() && is_digit(s.front())) {
    uint64_t d = static_cast<uint64_t>(s.front() - '0');
    if (value > (kMaxNanos - d) / 10) return false;
    value = value * 10 + d;
    s.remove_prefix(1);
    ++digits;
  }
  return true;
}

// Fraction digits after '.', as fraction/scale (extra digits beyond what fits are dropped, as in Go).
void take_fraction(std::string_view& s, uint64_t& fraction, double& scale, size_t& digits) {
  fraction = 0;
  scale = 1;
  digits = 0;
  bool overflow = false;
  while (!s.empty() && is_digit(s.front())) {
    uint64_t d = static_cast<uint64_t>(s.front() - '0');
    if (!overflow && fraction <= (kMaxNanos - d) / 10) {
      fraction = fraction * 10 + d;
      scale *= 10;
    } else {
      overflow = true;
    }
    s.remove_prefix(1);
    ++digits;
  }
}

// One "<number>[.<fraction>]<unit>" component, added to `total`.
bool take_component(std::string_view& s, uint64_t& total) {
  uint64_t whole = 0, fraction = 0;
  double scale = 1;
  size_t whole_digits = 0, fraction_digits = 0;
  if (!take_integer(s, whole, whole_digits)) return false;
  if (!s.empty() && s.front() == '.') {
    s.remove_prefix(1);
    take_fraction(s, fraction, scale, fraction_digits);
  }
  if (whole_digits == 0 && fraction_digits == 0) return false;  // ".s" or a missing number
  size_t unit_len = 0;
  while (unit_len < s.size() && s[unit_len] != '.' && !is_digit(s[unit_len])) ++unit_len;
  uint64_t unit = unit_nanos(s.substr(0, unit_len));
  if (unit == 0) return false;  // missing or unknown unit
  s.remove_prefix(unit_len);
  if (whole > kMaxNanos / unit) return false;
  uint64_t nanos = whole * unit;
  if (fraction > 0) nanos += static_cast<uint64_t>(static_cast<double>(fraction) * (static_cast<double>(unit) / scale));
  if (nanos > kMaxNanos || total > kMaxNanos - nanos) return false;
  total += nanos;
  return true;
}

}  // namespace

std::optional<Millis> parse_duration(const std::string& text) {
  std::string_view s = text;
  if (s.empty()) return std::nullopt;
  bool all_digits = true;
  for (char c : s) all_digits = all_digits && is_digit(c);
  if (all_digits) {  // plain integer: seconds (gorouter's classic style)
    uint64_t seconds = 0;
    size_t digits = 0;
    if (!take_integer(s, seconds, digits) || seconds > kMaxNanos / 1000000000ULL) return std::nullopt;
    return Millis(static_cast<int64_t>(seconds) * 1000);
  }
  uint64_t total = 0;
  while (!s.empty()) {
    if (!take_component(s, total)) return std::nullopt;
  }
  return std::chrono::duration_cast<Millis>(std::chrono::nanoseconds(static_cast<int64_t>(total)));
}

}  // namespace sy::config
