#include "registrar/once.hpp"

#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <optional>
#include <stdexcept>

#include "common/names/hostname.hpp"
#include "config/config.hpp"
#include "common/nats/nats_client.hpp"
#include "common/log/log.hpp"
#include "common/names/uri.hpp"

namespace sy::registrar {
namespace {

constexpr std::chrono::milliseconds kFlush{3000};

std::optional<ArgError> invalid(const std::string& option, const std::string& value, const std::string& what) {
  return ArgError{option + ": value \"" + value + "\" is not " + what};
}

bool parse_port(const std::string& text, uint16_t* out) {
  if (text.empty() || text.size() > 5 || text.find_first_not_of("0123456789") != std::string::npos) return false;
  long value = std::stol(text);
  if (value < 1 || value > 65535) return false;
  *out = static_cast<uint16_t>(value);
  return true;
}

std::optional<ArgError> parse_seconds(const std::string& option, const std::string& value, std::chrono::seconds* out) {
  std::optional<config::Millis> d = config::parse_duration(value);
  if (!d || d->count() <= 0) return invalid(option, value, "a duration greater than zero (such as 30s or 30)");
  *out = std::chrono::ceil<std::chrono::seconds>(*d);
  return std::nullopt;
}

std::optional<ArgError> apply_option(OnceRequest& req, const std::string& option, const std::string& value) {
  Registration& r = req.registration;
  names::Uri uri;
  std::chrono::seconds seconds{0};
  if (option == "--nats") {
    std::string url = value.find("://") == std::string::npos ? "nats://" + value : value;
    if (url.rfind("nats://", 0) != 0 || url.size() <= 7) return invalid(option, value, "a nats://[user:pass@]host:port URL");
    req.nats_urls.push_back(url);
  } else if (option == "--host") {
    if (!names::valid_hostname(value)) return invalid(option, value, "a host name or IP address");
    r.host = value;
  } else if (option == "--port" || option == "--tls-port") {
    if (!parse_port(value, option == "--port" ? &r.port : &r.tls_port)) return invalid(option, value, "a port (1..65535)");
  } else if (option == "--uri") {
    if (!names::parse_uri(value, &uri)) return invalid(option, value, "a uri (host[/path])");
    r.uris.push_back(value);
  } else if (option == "--tag") {
    size_t eq = value.find('=');
    if (eq == std::string::npos || eq == 0) return invalid(option, value, "key=value");
    r.tags.emplace_back(value.substr(0, eq), value.substr(eq + 1));
  } else if (option == "--app") {
    r.app = value;
  } else if (option == "--instance-id") {
    r.private_instance_id = value;
  } else if (option == "--stale-threshold") {
    if (auto error = parse_seconds(option, value, &seconds)) return error;
    r.stale_threshold_in_seconds = static_cast<int>(std::min<long long>(seconds.count(), 1 << 30));
  } else if (option == "--wait") {
    if (auto error = parse_seconds(option, value, &seconds)) return error;
    req.wait = seconds;
  } else {
    return ArgError{option + ": unknown option"};
  }
  return std::nullopt;
}

}  // namespace

std::variant<OnceRequest, ArgError> parse_once_args(const std::vector<std::string>& args) {
  OnceRequest req;
  if (args.empty()) return ArgError{"--once: missing action (register or unregister)"};
  if (args[0] != "register" && args[0] != "unregister") {
    return ArgError{"--once: value \"" + args[0] + "\" is not register or unregister"};
  }
  req.subject = "router." + args[0];
  for (size_t i = 1; i < args.size(); i += 2) {
    if (i + 1 >= args.size()) return ArgError{args[i] + ": missing value"};
    if (auto error = apply_option(req, args[i], args[i + 1])) return *error;
  }
  const Registration& r = req.registration;
  if (r.host.empty()) return ArgError{"--host: missing (the backend's address)"};
  if (r.port == 0 && r.tls_port == 0) return ArgError{"--port: missing (give --port or --tls-port)"};
  if (r.uris.empty()) return ArgError{"--uri: missing (at least one)"};
  if (req.nats_urls.empty()) req.nats_urls.push_back("nats://127.0.0.1:4222");
  return req;
}

int run_once(const OnceRequest& request) {
  std::mutex mutex;
  std::condition_variable cv;
  bool up = false;
  nats::ConnectionEvents events;
  events.connected = [&] {
    std::lock_guard lock(mutex);
    up = true;
    cv.notify_all();
  };
  nats::NatsOptions options;
  options.urls = request.nats_urls;
  options.reconnect_wait = std::chrono::milliseconds(100);
  options.name = "switchyard-registrar-once";
  try {
    nats::NatsClient bus(options, std::move(events));
    bus.start();
    {
      std::unique_lock lock(mutex);
      cv.wait_for(lock, request.wait, [&] { return up; });
    }
    if (!bus.connected()) {
      std::fprintf(stderr, "switchyard-registrar: NATS not reachable within %llds\n",
                   static_cast<long long>(std::chrono::ceil<std::chrono::seconds>(request.wait).count()));
      return 1;
    }
    std::string payload = registry_json(request.registration);
    if (!bus.publish(request.subject, payload) || !bus.flush(kFlush)) {
      std::fprintf(stderr, "switchyard-registrar: publishing on %s was not confirmed by NATS\n", request.subject.c_str());
      return 1;
    }
    log::info("published", log::Fields()("subject", request.subject)("bytes", static_cast<unsigned long long>(payload.size())));
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "switchyard-registrar: --nats: %s\n", e.what());
    return 2;
  }
}

}  // namespace sy::registrar
