#include "tunnel/agent/agent.hpp"

#include <openssl/rand.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <csignal>
#include <cstdio>
#include <stdexcept>

#include "common/log/log.hpp"
#include "router/http/head_parser.hpp"
#include "tunnel/ws/handshake.hpp"

namespace sy::agent {

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

std::unique_ptr<asio::ssl::context> make_tls_context(const Options& o) {
  bool any_tls = false;
  for (const ServerUrl& s : o.servers) any_tls = any_tls || s.tls;
  if (!any_tls) return nullptr;
  auto context = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
  context->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                       asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                       asio::ssl::context::no_tlsv1_1);
  context->set_verify_mode(asio::ssl::verify_peer);
  error_code ec;
  if (o.ca_file.empty())
    context->set_default_verify_paths(ec);
  else
    context->load_verify_file(o.ca_file, ec);
  if (ec) throw std::runtime_error("cannot load CA certificates " + o.ca_file + ": " + ec.message());
  return context;
}

std::vector<asio::ip::tcp::endpoint> resolve_target(asio::io_context& io, const Options& o) {
  asio::ip::tcp::resolver resolver(io);
  error_code ec;
  auto results = resolver.resolve(o.to_host, std::to_string(o.to_port), ec);
  if (ec) throw std::runtime_error("cannot resolve --to " + o.to_host + ": " + ec.message());
  std::vector<asio::ip::tcp::endpoint> out;
  for (const auto& r : results) out.push_back(r.endpoint());
  return out;
}

}  // namespace

Agent::Agent(Options options) : options_(std::move(options)), rng_(std::random_device{}()) {
  tls_ = make_tls_context(options_);
  session_config_ = default_session_config();
  session_config_.targets = resolve_target(io_, options_);
  for (size_t s = 0; s < options_.servers.size(); ++s)
    for (int c = 0; c < options_.connections; ++c)
      slots_.push_back(std::make_unique<Slot>(io_, s, static_cast<int>(slots_.size())));
}

Agent::~Agent() = default;

int Agent::run() {
  poller_.start();
  signals_.add(SIGTERM);
  signals_.add(SIGINT);
  signals_.async_wait([this](error_code ec, int signal) {
    if (ec) return;
    log::info("agent-stopping", log::Fields()("signal", signal));
    stop();
  });
  for (auto& slot : slots_) {
    ++running_slots_;
    asio::co_spawn(io_, slot_loop(*slot), asio::detached);
  }
  io_.run();
  return exit_code_;
}

asio::awaitable<void> Agent::slot_loop(Slot& slot) {
  const ServerUrl& server = options_.servers[slot.server];
  bool wait_first = false;
  while (!stopping_) {
    if (wait_first) {
      const auto delay = slot.backoff.next(std::uniform_real_distribution<double>(0.0, 1.0)(rng_));
      log::info("tunnel-reconnect-wait", log::Fields()("server", server.text)("ms", static_cast<long long>(delay.count())));
      slot.timer.expires_after(delay);
      auto waited = co_await slot.timer.async_wait(use_tuple);
      (void)waited;
      if (stopping_) break;
    }
    wait_first = true;
    auto connection = std::make_shared<NodeConnection>(poller_, tls_.get());
    slot.connecting = connection;
    Established established = co_await establish(server, connection);
    slot.connecting.reset();
    if (stopping_) break;
    const HandshakeResult& result = established.result;
    if (result.verdict == Verdict::refused) {
      fail(result.exit_code, "refused by " + server.text + ": " + std::to_string(result.status) + " " + result.reason);
      break;
    }
    if (result.verdict != Verdict::accepted) {
      log::warn("tunnel-connect-failed", log::Fields()("server", server.text)("status", result.status)("reason", result.reason));
      continue;
    }
    start_session(slot, std::move(connection), established);
    TunnelSession* session = slot.current;
    while (slot.current == session && !stopping_) co_await slot.wake.async_wait(asio::use_awaitable);
    if (slot.went_away) {
      wait_first = false;  // the replacement first, at once
    } else {
      slot.backoff.session_ended(slot.lived);
    }
  }
  --running_slots_;
  maybe_finish();
}

void Agent::start_session(Slot& slot, std::shared_ptr<NodeConnection> connection, Established& established) {
  auto session = std::make_unique<TunnelSession>(poller_, session_config_, std::move(connection),
                                                 std::move(established.leftover), *this, slot.index,
                                                 established.result.host);
  for (TunnelSession* other : sessions_)
    if (other->slot() == slot.index && other->going_away()) other->mark_replaced();
  sessions_.insert(session.get());
  slot.current = session.get();
  slot.went_away = false;
  log::info("tunnel-session-up", log::Fields()("server", options_.servers[slot.server].text)("host", session->host())("slot", slot.index));
  host_up(session->host(), options_.servers[slot.server].text);
  if (established.result.tcp_port != 0) {
    std::printf("tcp-entry host=%s server=%s port=%u\n", session->host().c_str(),
                options_.servers[slot.server].text.c_str(), static_cast<unsigned>(established.result.tcp_port));
    std::fflush(stdout);
  }
  asio::co_spawn(io_, own(std::move(session)), asio::detached);
}

asio::awaitable<void> Agent::own(std::unique_ptr<TunnelSession> session) {
  TunnelSession& s = *session;
  co_await s.run();
  const auto lived = Clock::now() - s.started();
  log::info("tunnel-session-ended", log::Fields()("host", s.host())("slot", s.slot())("reason", s.end_reason())(
                                        "lived_ms", static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(lived).count())));
  host_down(s.host());
  sessions_.erase(&s);
  Slot& slot = *slots_[static_cast<size_t>(s.slot())];
  if (slot.current == &s) {
    slot.current = nullptr;
    slot.went_away = false;
    slot.lived = lived;
    slot.wake.notify();
  }
  session.reset();
  maybe_finish();
}

void Agent::on_go_away(TunnelSession& session) {
  Slot& slot = *slots_[static_cast<size_t>(session.slot())];
  if (slot.current != &session) return;
  slot.current = nullptr;
  slot.went_away = true;
  slot.wake.notify();
}

void Agent::on_close_code(TunnelSession& session, uint16_t code) {
  if (code == 4409)
    fail(3, "the node closed the session for " + session.host() + " with 4409: the host is owned by another tunnel id");
}

void Agent::host_up(const std::string& host, const std::string& server) {
  if (++hosts_[host] != 1) return;
  std::printf("tunnel-ready host=%s server=%s\n", host.c_str(), server.c_str());
  std::fflush(stdout);
}

void Agent::host_down(const std::string& host) {
  auto it = hosts_.find(host);
  if (it != hosts_.end() && --it->second == 0) hosts_.erase(it);
}

void Agent::fail(int code, const std::string& message) {
  std::fprintf(stderr, "switchyard-tunnel: %s\n", message.c_str());
  if (exit_code_ == 0) exit_code_ = code;
  stop();
}

void Agent::stop() {
  if (stopping_) return;
  stopping_ = true;
  for (auto& slot : slots_) {
    slot->timer.cancel();
    slot->wake.notify();
    if (auto c = slot->connecting.lock()) c->close();
  }
  for (TunnelSession* s : sessions_) s->shutdown();
  maybe_finish();
}

void Agent::maybe_finish() {
  if (!stopping_ || running_slots_ > 0 || !sessions_.empty()) return;
  error_code ignored;
  signals_.cancel(ignored);
  poller_.close();
}

}  // namespace sy::agent
