// Script health checks (see health_check.hpp): posix_spawn in a new process
// group, waitpid(WNOHANG) polled every 20 ms on a timer, SIGKILL to the whole
// group at the timeout.
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <cstring>

#include "registrar/health_check.hpp"
#include "common/log/log.hpp"

extern char** environ;

namespace sy::registrar {
namespace {

namespace asio = boost::asio;

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr Millis kPoll{20};
constexpr Millis kReapWait{2000};

// Owns a spawned child until it is reaped: if the check is abandoned (the
// coroutine destroyed at shutdown), the group is killed and the child reaped.
class Child {
 public:
  explicit Child(pid_t pid) : pid_(pid) {}
  ~Child() {
    if (pid_ <= 0) return;
    kill_group();
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  pid_t pid() const { return pid_; }
  void kill_group() const { ::kill(-pid_, SIGKILL); }
  // The wait status once the child has exited (and is reaped), else nullopt.
  std::optional<int> poll() {
    int status = 0;
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_ || (r < 0 && errno == ECHILD)) {
      pid_ = -1;
      return status;
    }
    return std::nullopt;
  }

 private:
  pid_t pid_;
};

// Starts `check` in its own process group with default signal handling and
// an empty signal mask. Returns the pid, or -errno.
pid_t spawn(const ScriptCheck& check) {
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(check.path.c_str()));
  for (const auto& a : check.args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, check.path.c_str(), nullptr, &attr, argv.data(), environ);
  posix_spawnattr_destroy(&attr);
  return rc == 0 ? pid : -rc;
}

std::string describe_status(int status) {
  if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "wait status " + std::to_string(status);
}

}  // namespace

asio::awaitable<CheckResult> run_script_check(const ScriptCheck& check, Millis timeout) {
  pid_t pid = spawn(check);
  if (pid < 0) co_return CheckResult{false, "spawn " + check.path + ": " + std::strerror(-pid)};
  Child child(pid);
  auto executor = co_await asio::this_coro::executor;
  asio::steady_timer timer(executor);
  Clock::time_point deadline = Clock::now() + timeout;
  bool killed = false;
  for (;;) {
    std::optional<int> status = child.poll();
    if (status) {
      if (killed) co_return CheckResult{false, "timeout after " + std::to_string(timeout.count()) + "ms (killed)"};
      bool ok = WIFEXITED(*status) && WEXITSTATUS(*status) == 0;
      co_return CheckResult{ok, describe_status(*status)};
    }
    Clock::time_point now = Clock::now();
    if (!killed && now >= deadline) {
      log::warn("health-check-script-killed", log::Fields()("script", check.path)("pid", static_cast<long long>(pid))(
                                                  "timeout_ms", static_cast<long long>(timeout.count())));
      child.kill_group();
      killed = true;
      deadline = now + kReapWait;
    } else if (killed && now >= deadline) {
      co_return CheckResult{false, "timeout; process did not exit after SIGKILL"};  // ~Child waits for it
    }
    timer.expires_after(std::min<Clock::duration>(kPoll, std::max<Clock::duration>(deadline - now, Millis(1))));
    auto waited = co_await timer.async_wait(use_tuple);
    auto [ec] = waited;
    if (ec) co_return CheckResult{false, "cancelled"};
  }
}

}  // namespace sy::registrar
