#include "tests/support/sanitizer_reports.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "tests/support/temp_dir.hpp"

namespace sy::test {
namespace {

namespace fs = std::filesystem;

// The directory, removed at exit if nothing is left in it.
class LogDir {
 public:
  LogDir() {
    const char* parent = std::getenv("SY_SANITIZER_LOG_DIR");
    std::error_code ec;
    fs::path base = parent != nullptr && *parent != '\0' ? fs::path(parent) : fs::temp_directory_path(ec);
    if (base.empty()) base = "/tmp";
    dir_ = base / ("sy-sanitizer-" + std::to_string(::getpid()));
    fs::create_directories(dir_, ec);
    prefix_ = (dir_ / "report").string();
  }
  ~LogDir() {
    std::error_code ec;
    if (fs::is_empty(dir_, ec)) fs::remove(dir_, ec);
  }
  const std::string& prefix() const { return prefix_; }

 private:
  fs::path dir_;
  std::string prefix_;
};

}  // namespace

const std::string& sanitizer_log_prefix() {
  static const LogDir dir;
  return dir.prefix();
}

std::string with_sanitizer_log_path(const std::string& options) {
  return options + (options.empty() ? "" : ":") + "log_path=" + sanitizer_log_prefix();
}

std::optional<std::string> take_sanitizer_report(pid_t pid) {
  const std::string path = sanitizer_log_prefix() + "." + std::to_string(pid);
  std::error_code ec;
  if (!fs::exists(path, ec)) return std::nullopt;
  std::string text = read_file(path);
  fs::remove(path, ec);
  return text.empty() ? std::string("(empty report file ") + path + ")" : text;
}

}  // namespace sy::test
