#pragma once
// Registrar: the switchyard-registrar daemon. One control thread (the caller
// of run()) owns an io_context on which every route runs a coroutine: wait
// for the next tick, run the health check, publish router.register or
// router.unregister as RouteState decides. NATS callbacks (connect,
// router.start, greet replies) run on nats.c's threads and only post to the
// control thread.
//
// At start and on every (re)connect it sends router.greet with a reply inbox
// and re-registers healthy routes; router.start and greet replies can shorten
// the heartbeat period and trigger an immediate re-register. SIGTERM, SIGINT
// and SIGQUIT publish router.unregister for every route, flush (bounded) and
// make run() return 0. Errors: the constructor throws std::runtime_error if
// the NATS options are unusable (start-up only); afterwards nothing throws —
// NATS outages are waited out, failed checks are logged.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <string>
#include <vector>

#include "common/nats/nats_client.hpp"
#include "registrar/config.hpp"
#include "registrar/route_state.hpp"
#include "common/log/log.hpp"

namespace sy::registrar {

class Registrar {
 public:
  explicit Registrar(const RegistrarConfig& config);
  ~Registrar();
  Registrar(const Registrar&) = delete;
  Registrar& operator=(const Registrar&) = delete;

  // Runs until a stop signal; returns the exit code (0).
  int run();
  const std::string& instance_id() const { return instance_id_; }

 private:
  struct Route {
    Route(const RouteConfig& c, std::string json, int unregister_limit, boost::asio::io_context& io)
        : config(c), payload(std::move(json)), state(c.registration_interval, unregister_limit), timer(io) {}
    const RouteConfig& config;
    std::string payload;  // the same JSON for register and unregister
    RouteState state;
    boost::asio::steady_timer timer;
  };

  boost::asio::awaitable<void> route_loop(Route& route);
  void apply_check(Route& route, bool healthy, const std::string& detail);
  void publish(Route& route, Publish what, const char* why);
  void on_connected();
  void on_router_start(const std::string& payload, const char* source);
  void greet();
  void stop(int signal);
  void wait_signal();

  const RegistrarConfig& config_;
  boost::asio::io_context io_;
  boost::asio::signal_set signals_;
  std::string instance_id_;
  std::string inbox_;
  std::vector<std::unique_ptr<Route>> routes_;
  bool stopping_ = false;
  bool ever_connected_ = false;
  log::RateLimit publish_failed_log_{std::chrono::seconds(10)};
  log::RateLimit bad_start_log_{std::chrono::seconds(10)};
  std::unique_ptr<nats::NatsClient> bus_;  // last: destroyed first, so no callback outlives the rest
};

}  // namespace sy::registrar
