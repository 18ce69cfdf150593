#pragma once
// A child process for integration tests: fork + execvpe, in its own process
// group, stdout and stderr appended to log files, stdin from a file or
// /dev/null. The child gets PR_SET_PDEATHSIG=SIGKILL so nothing outlives a
// crashed test binary — which also means the child dies when the *thread*
// that started it exits: start processes from the test's main thread.
//
// When a child is reaped, a sanitizer report it left (see
// sanitizer_reports.hpp) or its death by SIGABRT, SIGSEGV, SIGBUS, SIGILL or
// SIGFPE fails the current test, quoting the report or the child's stderr.
//
// Not thread-safe: one Process is used by one thread.
#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace sy::test {

struct ProcessOptions {
  std::vector<std::string> argv;  // argv[0] is searched in PATH when it has no '/'
  std::string log_path;           // stdout (and stderr) appended; empty = /dev/null
  std::string stderr_path;        // stderr appended here instead; empty = log_path
  std::string stdin_path;         // empty = /dev/null
  std::vector<std::pair<std::string, std::string>> env;  // added to / overriding ours
  long max_open_files = 0;  // > 0: the child's RLIMIT_NOFILE, soft and hard
};

class Process {
 public:
  Process() = default;
  // Kills the process group (SIGKILL) if the child is still running.
  ~Process();
  Process(Process&& other) noexcept;
  Process& operator=(Process&& other) noexcept;
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  // Starts the child. False (and error() says why) if the log files cannot
  // be opened, fork fails, or exec fails (e.g. no such binary).
  bool start(const ProcessOptions& options);

  // True while the child has not exited (reaps it when it has).
  bool running();
  pid_t pid() const { return pid_; }
  // Sends `sig` to the child only (kill(pid)); false if not running.
  bool signal(int sig);
  // Sends `sig` to the child's whole process group.
  bool signal_group(int sig);
  // Waits up to `timeout` for the child to exit: its exit code, or 128+signal
  // if it was killed; nullopt if it is still running.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);
  // SIGTERM to the group, wait `grace`, then SIGKILL. Returns the exit code.
  std::optional<int> stop(std::chrono::milliseconds grace = std::chrono::milliseconds(5000));
  // SIGKILL to the group and reap.
  std::optional<int> kill();
  // The exit code once the child has been reaped.
  std::optional<int> exit_code() const { return exit_code_; }

  const std::string& error() const { return error_; }
  const std::string& log_path() const { return log_path_; }
  const std::string& stderr_path() const { return stderr_path_; }
  // Contents of the log file(s) so far.
  std::string log() const;

 private:
  bool reap(bool block);
  void check_child_health();
  void reset();

  pid_t pid_ = -1;
  bool reaped_ = true;
  std::optional<int> exit_code_;
  std::string argv0_;
  size_t stderr_offset_ = 0;  // size of the stderr file when the child started
  std::string log_path_;
  std::string stderr_path_;
  std::string error_;
};

// Runs a process to completion: its exit code, or nullopt if it failed to
// start or did not finish within `timeout` (it is then killed).
std::optional<int> run_process(const ProcessOptions& options, std::chrono::milliseconds timeout);

// Resident set size of `pid` in KiB (VmRSS from /proc/PID/status).
std::optional<long> rss_kib(pid_t pid);

// CPU time (user + system) `pid` has used, from /proc/PID/stat.
std::optional<std::chrono::milliseconds> cpu_time(pid_t pid);

// True if `path` names an executable file.
bool is_executable(const std::string& path);

}  // namespace sy::test
