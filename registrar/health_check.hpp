#pragma once
// Health checks of switchyard-registrar, run as coroutines on the control
// thread's io_context, never blocking it:
// - HTTP: GET the URL (Boost.Beast), healthy when the status is the expected one;
// - TCP: healthy when a connect succeeds;
// - script: posix_spawn in its own process group, polled with waitpid every
//   20 ms; healthy when it exits 0. At the timeout the whole group gets SIGKILL.
// Every failure (refused, timeout, wrong status, spawn error, non-zero exit)
// is an unhealthy result with a short detail for the log; nothing throws. If
// the coroutine is destroyed early (shutdown), a running script's group is
// killed and reaped.
#include <boost/asio/awaitable.hpp>
#include <string>

#include "registrar/config.hpp"

namespace sy::registrar {

struct CheckResult {
  bool healthy = false;
  std::string detail;  // e.g. "status 503", "timeout after 500ms", "exit status 1"
};

boost::asio::awaitable<CheckResult> run_check(const HealthCheck& check);

boost::asio::awaitable<CheckResult> run_http_check(const HttpCheck& check, Millis timeout);
boost::asio::awaitable<CheckResult> run_tcp_check(const TcpCheck& check, Millis timeout);
boost::asio::awaitable<CheckResult> run_script_check(const ScriptCheck& check, Millis timeout);

}  // namespace sy::registrar
