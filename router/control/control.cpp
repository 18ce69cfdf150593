#include "router/control/control.hpp"

#include <ifaddrs.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <boost/asio/post.hpp>

#include "common/ids/uuid.hpp"
#include "config/nats_options.hpp"

namespace sy::control {

namespace asio = boost::asio;

std::string local_ip() {
  ifaddrs* list = nullptr;
  std::string found = "127.0.0.1";
  if (getifaddrs(&list) != 0) return found;
  for (ifaddrs* a = list; a; a = a->ifa_next) {
    if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET) continue;
    auto* in = reinterpret_cast<sockaddr_in*>(a->ifa_addr);
    if ((ntohl(in->sin_addr.s_addr) >> 24) == 127) continue;
    char buf[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &in->sin_addr, buf, sizeof buf);
    found = buf;
    break;
  }
  freeifaddrs(list);
  return found;
}

Control::Control(const config::Config& config, metrics::Registry& registry, route::SnapshotHolder& snapshots,
                 std::atomic<status::Health>& health)
    : config_(config),
      metrics_(registry),
      snapshots_(snapshots),
      health_(health),
      prune_timer_(io_),
      start_timer_(io_),
      registry_(route::RegistryOptions{config.droplet_stale_threshold, config.empty_pool_timeout,
                                       config.balancing_algorithm == config::Balancing::least_connection
                                           ? route::Algorithm::least_connection
                                           : route::Algorithm::round_robin}),
      pruner_(registry_, config.suspend_pruning_if_nats_unavailable),
      id_(std::to_string(config.index) + "-" + new_uuid()),
      host_ip_(local_ip()) {
  registry_message_ = &registry.counter("registry_message", "router.register messages applied, by action.");
  unregistry_message_ = &registry.counter("unregistry_message", "router.unregister messages applied.");
  auto& invalid = registry.counter("registry_message_invalid", "Registry messages dropped as invalid, by cause.");
  for (int c = 0; c < route::kInvalidCauseCount; ++c) {
    invalid_by_cause_.push_back(&invalid.add({{"cause", route::to_string(static_cast<route::InvalidCause>(c))}}));
    invalid_log_limit_.push_back(std::make_unique<log::RateLimit>(std::chrono::seconds(10)));
  }
  routes_pruned_ = &registry.counter("routes_pruned", "Endpoints removed by stale pruning.").add({});
  nats_reconnects_ = &registry.counter("nats_reconnects", "NATS (re)connections after the first.").add({});
  total_routes_ = &registry.gauge("total_routes", "Route keys (uris) in the table.").add({});
  total_endpoints_ = &registry.gauge("total_endpoints", "Endpoints in the table, counted once per uri.").add({});
  ms_since_update_ =
      &registry.gauge("ms_since_last_registry_update", "Milliseconds since the last registry message.").add({});
  nats_up_ = &registry.gauge("nats_connected", "1 while connected to NATS.").add({});
  nats_dropped_ = &registry.counter("total_dropped_messages",
                                    "NATS messages dropped by the client because the router fell behind.").add({});
  nats_buffered_ = &registry.gauge("buffered_messages", "NATS messages received and not yet applied.").add({});
  registration_latency_ =
      &registry
           .histogram("route_registration_latency",
                      "Milliseconds from a registration's endpoint_updated_at_ns (sent by route emitters) to the "
                      "router applying it.",
                      {0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000})
           .add({});
}

Control::~Control() { nats_.reset(); }

void Control::start(std::function<void()> ready) {
  nats::ConnectionEvents events;
  events.connected = [this] { asio::post(io_, [this] { on_connected(); }); };
  events.disconnected = [this] { asio::post(io_, [this] { on_disconnected(); }); };
  nats_ = std::make_unique<nats::NatsClient>(config::nats_options(config_.nats, "switchyard-" + id_), std::move(events));
  // One hand-off per batch (at most 5 ms old): heartbeats from thousands of
  // endpoints would otherwise wake the control thread once each.
  nats_->subscribe_batched("router.*", [this](const std::vector<nats::NatsClient::Message>& batch) { on_batch(batch); },
                           std::chrono::milliseconds(5));
  nats_->start();
  // The SUB sits in nats.c's write buffer until its flusher runs; a round
  // trip makes sure the server has it before /health can say 200, so a
  // registration published right after is never missed.
  if (nats_->connected() && !nats_->flush(std::chrono::seconds(2))) log::warn("nats-flush-failed", log::Fields());
  schedule_prune();
  start_timer_.expires_after(config_.start_response_delay_interval);
  start_timer_.async_wait([this, ready = std::move(ready)](const boost::system::error_code& ec) {
    if (ec) return;
    if (ready) ready();
    auto expected = status::Health::starting;
    if (health_.compare_exchange_strong(expected, status::Health::healthy))
      log::info("router-healthy", log::Fields()("routes", static_cast<unsigned long long>(registry_.route_count())));
  });
}

bool Control::publish(const std::string& subject, std::string_view payload) {
  if (subject == "router.register" || subject == "router.unregister") {
    auto parsed = route::parse_route_message(payload);
    if (auto* msg = std::get_if<route::RouteMessage>(&parsed)) {
      std::vector<Inbound> own(1);
      own[0].kind = subject == "router.register" ? Kind::reg : Kind::unreg;
      own[0].msg = std::move(*msg);
      own[0].local = true;
      enqueue(std::move(own));
    }
  }
  return nats_ && nats_->publish(subject, payload);
}

std::string Control::start_message() const {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("id");
  w.String(id_);
  w.Key("hosts");
  w.StartArray();
  w.String(host_ip_);
  w.EndArray();
  w.Key("minimumRegisterIntervalInSeconds");
  w.Int64(config_.start_response_delay_interval.count());
  w.Key("pruneThresholdInSeconds");
  w.Int64(config_.droplet_stale_threshold.count());
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

bool Control::parse(const nats::NatsClient::Message& m, Inbound* in) {
  if (m.subject == "router.register") {
    in->kind = Kind::reg;
  } else if (m.subject == "router.unregister") {
    in->kind = Kind::unreg;
  } else if (m.subject == "router.greet") {
    in->kind = Kind::greet;
    in->reply = m.reply;
    return true;
  } else if (m.subject == "router.start") {  // ours or another router's
    in->kind = Kind::start;
    return true;
  } else {
    return false;
  }
  auto parsed = route::parse_route_message(m.data);
  if (auto* err = std::get_if<route::ParseError>(&parsed)) {
    int cause = static_cast<int>(err->cause);
    invalid_by_cause_[cause]->inc();
    if (invalid_log_limit_[cause]->allow(std::chrono::steady_clock::now()))
      log::warn("registry-message-invalid",
                log::Fields()("subject", m.subject)("cause", route::to_string(err->cause))("detail", err->detail)(
                    "bytes", static_cast<unsigned long long>(m.data.size()))(
                    "suppressed", invalid_log_limit_[cause]->take_suppressed()));
    return false;
  }
  in->msg = std::move(std::get<route::RouteMessage>(parsed));
  return true;
}

void Control::on_batch(const std::vector<nats::NatsClient::Message>& batch) {
  std::vector<Inbound> parsed;
  parsed.reserve(batch.size());
  for (const auto& m : batch) {
    Inbound in;
    if (parse(m, &in)) parsed.push_back(std::move(in));
  }
  if (!parsed.empty()) enqueue(std::move(parsed));
}

void Control::enqueue(std::vector<Inbound> parsed) {
  std::lock_guard lock(queue_mutex_);
  if (queue_.empty()) {
    queue_ = std::move(parsed);
  } else {
    for (auto& in : parsed) queue_.push_back(std::move(in));
  }
  if (!drain_posted_) {
    drain_posted_ = true;
    asio::post(io_, [this] { drain(); });
  }
}

void Control::drain() {
  std::vector<Inbound> batch;
  {
    std::lock_guard lock(queue_mutex_);
    batch.swap(queue_);
    drain_posted_ = false;
  }
  auto now = route::Clock::now();
  for (Inbound& in : batch) apply(in, now);
  if (registry_.dirty()) {
    publish_snapshot();
    refresh_gauges();
  }
}

// The `component` label comes from any NATS publisher: the first
// ComponentSlots::kNamed values get their own series, the rest share "other".
metrics::Counter& Control::registry_counter(uint8_t slot, const char* action) {
  auto key = std::make_pair(slot, std::string(action));
  auto it = registry_counters_.find(key);
  if (it != registry_counters_.end()) return *it->second;
  auto& family = action[0] == 'r' ? *unregistry_message_ : *registry_message_;
  metrics::Labels labels{{"component", std::string(components_.name(slot))}};
  if (action[0] != 'r') labels["action"] = action;
  metrics::Counter* c = &family.add(labels);
  registry_counters_.emplace(key, c);
  return *c;
}

void Control::apply(Inbound& in, route::TimePoint now) {
  if (in.kind == Kind::greet) {
    if (!in.reply.empty()) nats_->publish(in.reply, start_message());
    return;
  }
  if (in.kind == Kind::start) {
    if (on_router_start_) on_router_start_();
    return;
  }
  if (!in.local) last_update_ = std::chrono::system_clock::now();
  // The slot travels with the endpoint: the workers count its requests by it.
  const uint8_t slot = components_.slot(in.msg.endpoint.meta.tag("component"));
  in.msg.endpoint.meta.component_slot = slot;
  if (in.kind == Kind::reg) {
    route::Change c = registry_.apply_register(in.msg, now);
    if (!in.local) {
      observe_registration_latency(in.msg);
      registry_counter(slot, c.endpoints_added > 0 ? "added" : "updated").inc();
    }
    if (c.endpoints_added > 0 || c.routes_added > 0)
      log::info("endpoint-registered", log::Fields()("address", in.msg.endpoint.address())("uris", in.msg.uris.size() == 1 ? in.msg.uris[0].str() : std::to_string(in.msg.uris.size()) + " uris")("new_routes", c.routes_added));
  } else {
    route::Change c = registry_.apply_unregister(in.msg, now);
    if (!in.local) registry_counter(slot, "removed").inc();
    if (c.endpoints_removed > 0)
      log::info("endpoint-unregistered",
                log::Fields()("address", in.msg.endpoint.address())("removed", c.endpoints_removed)("routes_removed", c.routes_removed));
  }
}

// gorouter's route_registration_latency: from the emitter's
// endpoint_updated_at_ns to now, for messages that carry it (clocks of
// different machines: a negative difference is skew, not latency).
void Control::observe_registration_latency(const route::RouteMessage& msg) {
  if (msg.endpoint.updated_at_ns <= 0) return;
  const auto now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
  const double ms = static_cast<double>(now_ns - msg.endpoint.updated_at_ns) / 1e6;
  if (ms >= 0) registration_latency_->observe(ms);
}

double Control::ms_since_last_update() const {
  if (last_update_ == std::chrono::system_clock::time_point{}) return -1;
  return std::chrono::duration<double, std::milli>(std::chrono::system_clock::now() - last_update_).count();
}

void Control::on_connected() {
  nats_up_->set(1);
  if (pruner_.nats_up(route::Clock::now())) {  // heartbeats freshened: the outage counts against no one
    nats_reconnects_->inc();
    ++reconnects_;
    log::info("nats-reconnected", log::Fields()("url", nats_->connected_url()));
  } else {
    log::info("nats-connected", log::Fields()("url", nats_->connected_url()));
  }
  nats_->publish("router.start", start_message());
}

void Control::on_disconnected() {
  nats_up_->set(0);
  pruner_.nats_down();
  log::warn("nats-disconnected", log::Fields()("suspend_pruning", config_.suspend_pruning_if_nats_unavailable));
}

void Control::schedule_prune() {
  prune_timer_.expires_after(config_.prune_stale_droplets_interval);
  prune_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    prune();
    schedule_prune();
  });
}

void Control::prune() {
  route::Change c;
  if (pruner_.tick(route::Clock::now(), &c) == route::Pruner::Result::suspended) {
    log::info("prune-suspended", log::Fields()("routes", static_cast<unsigned long long>(registry_.route_count())));
    return;
  }
  if (c.endpoints_removed > 0) {
    routes_pruned_->inc(c.endpoints_removed);
    for (const auto& what : c.removed_addresses) log::info("pruned-route", log::Fields()("route", what));
  }
  if (registry_.dirty()) publish_snapshot();
  refresh_gauges();
}

void Control::publish_snapshot() {
  route::RouteTablePtr table = registry_.publish();
  snapshots_.publish(table);
  if (on_published_) on_published_(*table);
}

void Control::refresh_gauges() {
  if (nats_) {
    uint64_t dropped = nats_->dropped();
    if (dropped > nats_dropped_seen_) {
      nats_dropped_->inc(static_cast<double>(dropped - nats_dropped_seen_));
      log::warn("nats-messages-dropped", log::Fields()("dropped", dropped - nats_dropped_seen_)("total", dropped));
      nats_dropped_seen_ = dropped;
    }
  }
  if (nats_) nats_buffered_->set(static_cast<double>(nats_->pending()));
  total_routes_->set(static_cast<double>(registry_.route_count()));
  total_endpoints_->set(static_cast<double>(registry_.endpoint_count()));
  if (last_update_ != std::chrono::system_clock::time_point{})
    ms_since_update_->set(std::chrono::duration<double, std::milli>(std::chrono::system_clock::now() - last_update_).count());
}

}  // namespace sy::control
