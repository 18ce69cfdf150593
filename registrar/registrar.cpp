#include "registrar/registrar.hpp"

#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <csignal>

#include "registrar/health_check.hpp"
#include "registrar/message.hpp"
#include "common/ids/uuid.hpp"
#include "common/nats/nats_client.hpp"
#include "config/nats_options.hpp"

namespace sy::registrar {
namespace {

namespace asio = boost::asio;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::chrono::milliseconds kShutdownFlush{3000};

std::string join_uris(const std::vector<std::string>& uris) {
  std::string out;
  for (const auto& u : uris) out += (out.empty() ? "" : ",") + u;
  return out;
}

const char* kind_name(const HealthCheck& check) {
  if (std::holds_alternative<HttpCheck>(check.probe)) return "http";
  if (std::holds_alternative<TcpCheck>(check.probe)) return "tcp";
  return "script";
}

}  // namespace

Registrar::Registrar(const RegistrarConfig& config)
    : config_(config), signals_(io_, SIGTERM, SIGINT, SIGQUIT), instance_id_(new_uuid()), inbox_("_INBOX." + new_uuid()) {
  for (const RouteConfig& rc : config.routes) {
    Registration registration = rc.registration;
    registration.private_instance_id = instance_id_;
    routes_.push_back(
        std::make_unique<Route>(rc, registry_json(registration), config.unregistration_message_limit, io_));
    if (rc.health_check) {
      const auto* script = std::get_if<ScriptCheck>(&rc.health_check->probe);
      if (script != nullptr && access(script->path.c_str(), X_OK) != 0) {
        log::warn("health-check-script-not-executable", log::Fields()("route", rc.name)("script", script->path));
      }
    }
  }
  nats::ConnectionEvents events;
  events.connected = [this] { asio::post(io_, [this] { on_connected(); }); };
  events.disconnected = [this] { asio::post(io_, [] { log::warn("nats-disconnected"); }); };
  nats::NatsOptions options;
  options.urls = config::nats_urls(config.nats);
  options.reconnect_wait = config.nats.reconnect_wait;
  options.ping_interval = config.nats.ping_interval;
  options.name = "switchyard-registrar-" + instance_id_;
  bus_ = std::make_unique<nats::NatsClient>(options, std::move(events));
  bus_->subscribe("router.start", [this](std::string_view, std::string_view data, std::string_view) {
    asio::post(io_, [this, payload = std::string(data)] { on_router_start(payload, "router.start"); });
  });
  bus_->subscribe(inbox_, [this](std::string_view, std::string_view data, std::string_view) {
    asio::post(io_, [this, payload = std::string(data)] { on_router_start(payload, "greet-reply"); });
  });
}

Registrar::~Registrar() { bus_.reset(); }

int Registrar::run() {
  wait_signal();
  for (auto& route : routes_) asio::co_spawn(io_, route_loop(*route), asio::detached);
  bus_->start();
  log::info("registrar-started", log::Fields()("routes", static_cast<unsigned long long>(routes_.size()))(
                                     "private_instance_id", instance_id_));
  io_.run();
  log::info("registrar-stopped");
  return 0;
}

void Registrar::wait_signal() {
  signals_.async_wait([this](const boost::system::error_code& ec, int signal) {
    if (!ec) stop(signal);
  });
}

asio::awaitable<void> Registrar::route_loop(Route& route) {
  for (;;) {
    // A cancelled wait means router.start pulled the tick in (or we stop):
    // either way the condition is looked at again.
    while (!stopping_ && !route.state.due(Clock::now())) {
      route.timer.expires_at(route.state.next_due());
      auto waited = co_await route.timer.async_wait(use_tuple);
      (void)waited;
    }
    if (stopping_) co_return;
    route.state.start_tick(Clock::now());
    if (!route.config.health_check) {
      apply_check(route, true, "");
      continue;
    }
    CheckResult result = co_await run_check(*route.config.health_check);
    if (stopping_) co_return;
    apply_check(route, result.healthy, result.detail);
  }
}

void Registrar::apply_check(Route& route, bool healthy, const std::string& detail) {
  Health before = route.state.health();
  Publish what = route.state.on_check(healthy);
  if (route.config.health_check && before != route.state.health()) {
    const HealthCheck& check = *route.config.health_check;
    log::Fields fields;
    fields("route", route.config.name)("check", kind_name(check))("name", check.name)("detail", detail);
    if (healthy) {
      log::info("route-healthy", fields);
    } else {
      log::warn("route-unhealthy", fields);
    }
  } else if (!healthy) {
    log::debug("health-check-failed", log::Fields()("route", route.config.name)("detail", detail)(
                                          "unregistrations", route.state.consecutive_unregisters()));
  }
  publish(route, what, "heartbeat");
}

void Registrar::publish(Route& route, Publish what, const char* why) {
  if (what == Publish::nothing) return;
  bool reg = what == Publish::register_route;
  const char* subject = reg ? "router.register" : "router.unregister";
  if (!bus_->publish(subject, route.payload)) {
    if (publish_failed_log_.allow(Clock::now())) {
      log::warn("nats-publish-failed", log::Fields()("subject", subject)("route", route.config.name)(
                                           "suppressed", publish_failed_log_.take_suppressed()));
    }
    return;
  }
  log::Fields fields;
  fields("route", route.config.name)("uris", join_uris(route.config.registration.uris))("reason", why);
  if (reg) {
    log::debug("route-registered", fields);
  } else {
    log::info("route-unregistered", fields("count", route.state.consecutive_unregisters()));
  }
}

void Registrar::on_connected() {
  if (stopping_) return;
  log::info(ever_connected_ ? "nats-reconnected" : "nats-connected");
  ever_connected_ = true;
  greet();
  // Heartbeats resume at once: a router may have pruned us during the outage.
  for (auto& route : routes_) publish(*route, route->state.on_announce(), "nats-connected");
}

void Registrar::greet() {
  if (!bus_->publish_request("router.greet", inbox_, "")) log::warn("nats-greet-failed");
}

void Registrar::on_router_start(const std::string& payload, const char* source) {
  if (stopping_) return;
  if (payload.empty()) {  // nats-server's "no responders" status to our greet: no router yet
    log::debug("router-greet-unanswered", log::Fields()("source", source));
    return;
  }
  std::optional<RouterStart> start = parse_router_start(payload);
  if (!start) {
    if (bad_start_log_.allow(Clock::now())) {
      log::warn("router-start-invalid", log::Fields()("source", source)("bytes", static_cast<unsigned long long>(payload.size()))(
                                            "suppressed", bad_start_log_.take_suppressed()));
    }
    return;
  }
  Millis minimum = std::chrono::duration_cast<Millis>(start->minimum_register_interval);
  log::info("router-start-received", log::Fields()("source", source)("router", start->id)(
                                         "minimum_register_interval_s", static_cast<long long>(start->minimum_register_interval.count())));
  for (auto& route : routes_) {
    if (route->state.set_router_minimum(minimum)) route->timer.cancel();
    publish(*route, route->state.on_announce(), source);
  }
}

void Registrar::stop(int signal) {
  if (stopping_) return;
  stopping_ = true;
  log::info("registrar-stopping", log::Fields()("signal", signal));
  int sent = 0;
  for (auto& route : routes_) sent += bus_->publish("router.unregister", route->payload) ? 1 : 0;
  bool flushed = bus_->flush(kShutdownFlush);
  log::Fields fields;
  fields("routes", sent)("flushed", flushed);
  if (flushed) {
    log::info("routes-unregistered", fields);
  } else {
    log::warn("routes-unregister-not-confirmed", fields);
  }
  io_.stop();
}

}  // namespace sy::registrar
