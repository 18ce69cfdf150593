#pragma once
// Agent: the switchyard-tunnel process (SPEC §5.4). One io_context thread
// runs everything: for each --server, --connections slots; a slot is one
// coroutine that keeps one tunnel session up:
//
//   connect (TCP, TLS for wss) -> upgrade handshake (bounded: 10 s, 8 KiB
//   head) -> run the TunnelSession -> when it ends, wait Backoff::next()
//   (0.5 s doubling to 30 s, jittered, reset by a session that lived 30 s)
//   and start over.
//
// GoAway: the session tells us (SessionObserver); the slot opens the
// replacement at once, without waiting, while the old session keeps serving
// its streams; once the replacement is up the old session is marked
// replaced and closes when its streams are done (TunnelSession's drain).
//
// Host names: `tunnel-ready host=<name> server=<url>` goes to stdout
// (flushed) when a host gets its first live session — once per distinct
// host while it stays up, and again after all its sessions were lost and one
// came back.
//
// Exit codes (run()): 0 after SIGTERM/SIGINT (sessions closed with GoAway
// and a WebSocket close); 3 when a node refused us (401 bad token, 409 host
// held by another id) or closed a session with code 4409 (ownership lost);
// 2 for a 400 (bad id or label). The constructor throws std::runtime_error
// for an unusable --ca file or an unresolvable --to (main: exit 2).
//
// Threading: construct and run on one thread; everything runs on it.
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "router/io/poller.hpp"
#include "tunnel/agent/backoff.hpp"
#include "tunnel/agent/handshake.hpp"
#include "tunnel/agent/options.hpp"
#include "tunnel/agent/session.hpp"

namespace sy::agent {

class Agent final : public SessionObserver {
 public:
  explicit Agent(Options options);
  ~Agent();
  int run();

  void on_go_away(TunnelSession& session) override;
  void on_close_code(TunnelSession& session, uint16_t code) override;

 private:
  struct Slot {
    Slot(asio::io_context& io, size_t server_index, int slot_index)
        : server(server_index), index(slot_index), wake(io.get_executor()), timer(io) {}
    size_t server;
    int index;
    TunnelSession* current = nullptr;  // the live session this slot keeps up
    bool went_away = false;            // current ended by a GoAway (reconnect at once)
    Clock::duration lived{};           // how long the last session lived
    std::weak_ptr<NodeConnection> connecting;
    Wakeup wake;
    asio::steady_timer timer;
    Backoff backoff;
  };
  struct Established {
    HandshakeResult result;
    std::vector<uint8_t> leftover;
  };

  asio::awaitable<void> slot_loop(Slot& slot);
  asio::awaitable<Established> establish(const ServerUrl& server, std::shared_ptr<NodeConnection> connection);
  asio::awaitable<void> own(std::unique_ptr<TunnelSession> session);
  void start_session(Slot& slot, std::shared_ptr<NodeConnection> connection, Established& established);
  void host_up(const std::string& host, const std::string& server);
  void host_down(const std::string& host);
  void stop();
  void fail(int code, const std::string& message);
  void maybe_finish();

  Options options_;
  asio::io_context io_{1};
  io::Poller poller_{io_};
  asio::signal_set signals_{io_};
  std::unique_ptr<asio::ssl::context> tls_;
  SessionConfig session_config_;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::set<TunnelSession*> sessions_;
  std::map<std::string, int> hosts_;  // live sessions per host name
  std::mt19937_64 rng_;
  int running_slots_ = 0;
  bool stopping_ = false;
  int exit_code_ = 0;
};

}  // namespace sy::agent
