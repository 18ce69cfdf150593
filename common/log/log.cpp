#include "common/log/log.hpp"

#include <ctime>
#include <mutex>

namespace sy::log {
namespace {
std::atomic<int> g_level{static_cast<int>(Level::info)};
std::mutex g_mutex;
FILE* g_sink = nullptr;

bool needs_quotes(std::string_view v) {
  if (v.empty()) return true;
  for (char c : v)
    if (c == ' ' || c == '"' || c == '=' || static_cast<unsigned char>(c) < 0x20) return true;
  return false;
}
}  // namespace

void set_level(Level level) { g_level.store(static_cast<int>(level)); }
bool enabled(Level level) { return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed); }

bool set_log_file(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "a");
  if (!f) return false;
  std::lock_guard lock(g_mutex);
  g_sink = f;
  return true;
}

Level parse_level(std::string_view t, bool* ok) {
  *ok = true;
  if (t == "debug") return Level::debug;
  if (t == "info") return Level::info;
  if (t == "warn" || t == "warning") return Level::warn;
  if (t == "error" || t == "fatal") return Level::error;
  *ok = false;
  return Level::info;
}

Fields& Fields::operator()(std::string_view key, std::string_view value) {
  text_ += ' ';
  text_ += key;
  text_ += '=';
  if (!needs_quotes(value)) {
    text_ += value;
    return *this;
  }
  text_ += '"';
  for (char c : value) {
    if (c == '"' || c == '\\') {
      text_ += '\\';
      text_ += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(c));
      text_ += buf;
    } else {
      text_ += c;
    }
  }
  text_ += '"';
  return *this;
}

Fields& Fields::operator()(std::string_view key, long long value) { return (*this)(key, std::to_string(value)); }
Fields& Fields::operator()(std::string_view key, unsigned long long value) { return (*this)(key, std::to_string(value)); }
Fields& Fields::operator()(std::string_view key, double value) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", value);
  return (*this)(key, std::string_view(buf));
}

void write(Level level, std::string_view event, const Fields& fields) {
  static constexpr const char* kNames[] = {"debug", "info", "warn", "error"};
  auto now = std::chrono::system_clock::now();
  auto secs = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char stamp[64];
  std::snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%03lldZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<long long>(ms));
  std::string line;
  line.reserve(64 + event.size() + fields.str().size());
  line += stamp;
  line += ' ';
  line += kNames[static_cast<int>(level)];
  line += ' ';
  line += event;
  line += fields.str();
  line += '\n';
  std::lock_guard lock(g_mutex);
  FILE* out = g_sink ? g_sink : stderr;
  std::fwrite(line.data(), 1, line.size(), out);
  std::fflush(out);
}

bool RateLimit::allow(std::chrono::steady_clock::time_point now) {
  long long now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
  long long next = next_allowed_ns_.load(std::memory_order_relaxed);
  long long step = std::chrono::duration_cast<std::chrono::nanoseconds>(interval_).count();
  if (now_ns >= next && next_allowed_ns_.compare_exchange_strong(next, now_ns + step)) return true;
  suppressed_.fetch_add(1, std::memory_order_relaxed);
  return false;
}

}  // namespace sy::log
