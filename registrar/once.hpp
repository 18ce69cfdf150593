#pragma once
// The one-shot CLI (a nats-pub replacement for scripts):
//   switchyard-registrar --once register|unregister [--nats nats://[user:pass@]host:port]...
//       --host H (--port P | --tls-port P) --uri U [--uri U2]... [--tag k=v]...
//       [--app GUID] [--instance-id ID] [--stale-threshold S] [--wait S]
// builds one registry message, publishes it, flushes and returns. Runs on the
// main thread. parse_once_args() is pure; a bad argument is an error string
// naming the option (exit 2). run_once() returns 0 on success and 1 when NATS
// was not reachable within --wait (default 3s) or the flush failed.
#include <chrono>
#include <string>
#include <variant>
#include <vector>

#include "registrar/message.hpp"

namespace sy::registrar {

struct OnceRequest {
  std::string subject;  // router.register | router.unregister
  std::vector<std::string> nats_urls;
  Registration registration;
  std::chrono::milliseconds wait{3000};
};

struct ArgError {
  std::string message;
};

// `args` are the arguments after `--once`, e.g. {"register", "--host", ...}.
std::variant<OnceRequest, ArgError> parse_once_args(const std::vector<std::string>& args);
int run_once(const OnceRequest& request);

}  // namespace sy::registrar
