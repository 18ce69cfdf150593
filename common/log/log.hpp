#pragma once
// One line per event: `<RFC3339 time> <level> <event-name> key=value ...`.
// Event names are kebab-case (gorouter style). Thread-safe: every call writes
// one whole line under a mutex. The sink is stderr unless set_log_file() is
// called at start-up (before other threads log).
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>

namespace sy::log {

enum class Level { debug = 0, info = 1, warn = 2, error = 3 };

void set_level(Level level);
bool enabled(Level level);
// Opens `path` for appending; returns false (and keeps stderr) on failure.
bool set_log_file(const std::string& path);
Level parse_level(std::string_view text, bool* ok);

// A field list built with operator(): Fields()("host", h)("port", 80).
class Fields {
 public:
  Fields& operator()(std::string_view key, std::string_view value);
  Fields& operator()(std::string_view key, const char* value) { return (*this)(key, std::string_view(value)); }
  Fields& operator()(std::string_view key, const std::string& value) { return (*this)(key, std::string_view(value)); }
  Fields& operator()(std::string_view key, long long value);
  Fields& operator()(std::string_view key, unsigned long long value);
  Fields& operator()(std::string_view key, long value) { return (*this)(key, static_cast<long long>(value)); }
  Fields& operator()(std::string_view key, unsigned long value) { return (*this)(key, static_cast<unsigned long long>(value)); }
  Fields& operator()(std::string_view key, int value) { return (*this)(key, static_cast<long long>(value)); }
  Fields& operator()(std::string_view key, unsigned value) { return (*this)(key, static_cast<unsigned long long>(value)); }
  Fields& operator()(std::string_view key, double value);
  Fields& operator()(std::string_view key, bool value) { return (*this)(key, std::string_view(value ? "true" : "false")); }
  const std::string& str() const { return text_; }

 private:
  std::string text_;
};

void write(Level level, std::string_view event, const Fields& fields = Fields());

inline void debug(std::string_view e, const Fields& f = Fields()) { if (enabled(Level::debug)) write(Level::debug, e, f); }
inline void info(std::string_view e, const Fields& f = Fields()) { if (enabled(Level::info)) write(Level::info, e, f); }
inline void warn(std::string_view e, const Fields& f = Fields()) { if (enabled(Level::warn)) write(Level::warn, e, f); }
inline void error(std::string_view e, const Fields& f = Fields()) { write(Level::error, e, f); }

// Rate limiter for noisy events (e.g. one log line per invalid-message cause):
// allow() is true at most once per `interval`; suppressed() returns and resets
// the number of calls refused since the last allowed one. Thread-safe.
class RateLimit {
 public:
  explicit RateLimit(std::chrono::steady_clock::duration interval) : interval_(interval) {}
  bool allow(std::chrono::steady_clock::time_point now);
  unsigned long long take_suppressed() { return suppressed_.exchange(0); }

 private:
  std::chrono::steady_clock::duration interval_;
  std::atomic<long long> next_allowed_ns_{0};
  std::atomic<unsigned long long> suppressed_{0};
};

}  // namespace sy::log
