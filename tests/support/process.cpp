#include "tests/support/process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "tests/support/sanitizer_reports.hpp"
#include "tests/support/temp_dir.hpp"

extern char** environ;

namespace sy::test {
namespace {

int open_append(const std::string& path) {
  if (path.empty()) return ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  return ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
}

// Ours, then options.env over it, then log_path added to the sanitizer
// options (see sanitizer_reports.hpp).
std::vector<std::string> make_environment(const ProcessOptions& options) {
  std::vector<std::pair<std::string, std::string>> env;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string text = *entry;
    const size_t eq = text.find('=');
    env.emplace_back(text.substr(0, eq), eq == std::string::npos ? std::string() : text.substr(eq + 1));
  }
  auto set = [&env](const std::string& name, const std::string& value) {
    for (auto& [key, old] : env) {
      if (key == name) {
        old = value;
        return;
      }
    }
    env.emplace_back(name, value);
  };
  for (const auto& [name, value] : options.env) set(name, value);
  for (const char* name : {"ASAN_OPTIONS", "UBSAN_OPTIONS"}) {
    std::string value;
    for (const auto& [key, old] : env) {
      if (key == name) value = old;
    }
    set(name, with_sanitizer_log_path(value));
  }
  std::vector<std::string> result;
  for (const auto& [name, value] : env) result.push_back(name + "=" + value);
  return result;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> result;
  for (auto& s : strings) result.push_back(s.data());
  result.push_back(nullptr);
  return result;
}

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// In the child after fork: only async-signal-safe calls.
[[noreturn]] void exec_child(int in_fd, int out_fd, int err_fd, int report_fd, long max_open_files, char** argv,
                             char** envp) {
  ::setpgid(0, 0);
  if (max_open_files > 0) {
    const rlimit limit{static_cast<rlim_t>(max_open_files), static_cast<rlim_t>(max_open_files)};
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::dup2(in_fd, 0);
  ::dup2(out_fd, 1);
  ::dup2(err_fd, 2);
  ::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
  ::execvpe(argv[0], argv, envp);
  const int error = errno;
  [[maybe_unused]] ssize_t n = ::write(report_fd, &error, sizeof error);
  ::_exit(127);
}

}  // namespace

Process::~Process() { reset(); }

Process::Process(Process&& other) noexcept { *this = std::move(other); }

Process& Process::operator=(Process&& other) noexcept {
  if (this == &other) return *this;
  reset();
  pid_ = std::exchange(other.pid_, -1);
  reaped_ = std::exchange(other.reaped_, true);
  exit_code_ = other.exit_code_;
  argv0_ = std::move(other.argv0_);
  stderr_offset_ = other.stderr_offset_;
  log_path_ = std::move(other.log_path_);
  stderr_path_ = std::move(other.stderr_path_);
  error_ = std::move(other.error_);
  return *this;
}

void Process::reset() {
  if (pid_ > 0 && !reaped_) {
    ::kill(-pid_, SIGKILL);
    ::kill(pid_, SIGKILL);
    reap(true);
  }
  pid_ = -1;
  reaped_ = true;
}

bool Process::start(const ProcessOptions& options) {
  reset();
  exit_code_.reset();
  error_.clear();
  if (options.argv.empty()) {
    error_ = "empty argv";
    return false;
  }
  argv0_ = options.argv[0];
  log_path_ = options.log_path;
  stderr_path_ = options.stderr_path.empty() ? options.log_path : options.stderr_path;
  stderr_offset_ = stderr_path_.empty() ? 0 : read_file(stderr_path_).size();
  const int in_fd = ::open(options.stdin_path.empty() ? "/dev/null" : options.stdin_path.c_str(), O_RDONLY | O_CLOEXEC);
  const int out_fd = open_append(log_path_);
  const int err_fd = open_append(stderr_path_);
  int report[2] = {-1, -1};
  const bool ok = in_fd >= 0 && out_fd >= 0 && err_fd >= 0 && ::pipe2(report, O_CLOEXEC) == 0;
  std::vector<std::string> argv_strings = options.argv;
  std::vector<std::string> env_strings = make_environment(options);
  std::vector<char*> argv = pointers(argv_strings);
  std::vector<char*> envp = pointers(env_strings);
  pid_t child = -1;
  if (ok) child = ::fork();
  if (child == 0) exec_child(in_fd, out_fd, err_fd, report[1], options.max_open_files, argv.data(), envp.data());
  for (int fd : {in_fd, out_fd, err_fd, report[1]}) {
    if (fd >= 0) ::close(fd);
  }
  if (!ok || child < 0) {
    if (report[0] >= 0) ::close(report[0]);
    error_ = std::string("cannot start ") + options.argv[0] + ": " + std::strerror(errno);
    return false;
  }
  ::setpgid(child, child);  // also done in the child; whichever runs first wins
  pid_ = child;
  reaped_ = false;
  int exec_errno = 0;
  ssize_t n = 0;
  do {
    n = ::read(report[0], &exec_errno, sizeof exec_errno);
  } while (n < 0 && errno == EINTR);
  ::close(report[0]);
  if (n == static_cast<ssize_t>(sizeof exec_errno)) {
    reap(true);
    error_ = "exec " + options.argv[0] + ": " + std::strerror(exec_errno);
    return false;
  }
  return true;
}

bool Process::reap(bool block) {
  if (pid_ <= 0 || reaped_) return true;
  int status = 0;
  pid_t r = 0;
  do {
    r = ::waitpid(pid_, &status, block ? 0 : WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == pid_) {
    reaped_ = true;
    exit_code_ = decode_status(status);
    check_child_health();
    return true;
  }
  if (r < 0) {  // not our child any more (should not happen)
    reaped_ = true;
    return true;
  }
  return false;
}

// A sanitizer report (log_path file) or a death by a crash signal fails the
// current test. UBSan's reports appear only on the child's stderr (GCC's
// libubsan ignores log_path beside libasan) and end it with SIGABRT
// (-fno-sanitize-recover, abort_on_error=1), so a crash quotes the stderr
// the child wrote.
void Process::check_child_health() {
  if (auto report = take_sanitizer_report(pid_)) {
    ADD_FAILURE() << "sanitizer report from " << argv0_ << " (pid " << pid_ << ", exit " << *exit_code_ << "):\n"
                  << *report;
    return;
  }
  const int code = exit_code_.value_or(0);
  const bool crashed = code == 128 + SIGABRT || code == 128 + SIGSEGV || code == 128 + SIGBUS ||
                       code == 128 + SIGILL || code == 128 + SIGFPE;
  if (!crashed) return;
  std::string err = stderr_path_.empty() ? std::string() : read_file(stderr_path_);
  err = err.size() > stderr_offset_ ? err.substr(stderr_offset_) : std::string();
  constexpr size_t kTail = 12000;
  if (err.size() > kTail) err = "..." + err.substr(err.size() - kTail);
  ADD_FAILURE() << argv0_ << " (pid " << pid_ << ") crashed: exit " << code << "; its stderr:\n" << err;
}

bool Process::running() { return pid_ > 0 && !reap(false); }

bool Process::signal(int sig) { return running() && ::kill(pid_, sig) == 0; }

bool Process::signal_group(int sig) { return running() && ::kill(-pid_, sig) == 0; }

std::optional<int> Process::wait_exit(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (running()) {
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return exit_code_;
}

std::optional<int> Process::stop(std::chrono::milliseconds grace) {
  if (!running()) return exit_code_;
  signal_group(SIGTERM);
  auto code = wait_exit(grace);
  if (code) return code;
  return kill();
}

std::optional<int> Process::kill() {
  if (!running()) return exit_code_;
  ::kill(-pid_, SIGKILL);
  ::kill(pid_, SIGKILL);
  reap(true);
  return exit_code_;
}

std::string Process::log() const {
  std::string text = read_file(log_path_);
  if (stderr_path_ != log_path_) text += read_file(stderr_path_);
  return text;
}

std::optional<int> run_process(const ProcessOptions& options, std::chrono::milliseconds timeout) {
  Process process;
  if (!process.start(options)) return std::nullopt;
  auto code = process.wait_exit(timeout);
  if (!code) process.kill();
  return code;
}

std::optional<long> rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  }
  return std::nullopt;
}

std::optional<std::chrono::milliseconds> cpu_time(pid_t pid) {
  const std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  const size_t comm_end = stat.rfind(')');  // the command name may hold spaces
  if (comm_end == std::string::npos) return std::nullopt;
  std::istringstream fields(stat.substr(comm_end + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {  // utime and stime are fields 14 and 15
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  const long ticks = ::sysconf(_SC_CLK_TCK);
  if (ticks <= 0) return std::nullopt;
  return std::chrono::milliseconds((utime + stime) * 1000 / static_cast<unsigned long long>(ticks));
}

bool is_executable(const std::string& path) { return ::access(path.c_str(), X_OK) == 0; }

}  // namespace sy::test
