#pragma once
// NatsClient: RAII over a nats.c connection. Connects in the background and
// reconnects forever (the process starts even while NATS is down). Callbacks
// run on nats.c's threads: they must only hand work off (post to the control
// thread), never block.
#include <nats/nats.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace sy::mbus {

struct ConnectionEvents {
  std::function<void()> connected;     // first connect and every reconnect
  std::function<void()> disconnected;
};

// Handler for a delivered message: subject, payload, reply subject ("" if none).
using MessageHandler = std::function<void(std::string_view, std::string_view, std::string_view)>;

class NatsClient {
 public:
  // Throws std::runtime_error at start-up if the options are unusable.
  NatsClient(const config::NatsConfig& config, ConnectionEvents events, std::string name);
  ~NatsClient();
  NatsClient(const NatsClient&) = delete;
  NatsClient& operator=(const NatsClient&) = delete;

  // Registers a subscription (before or after the connection is up; nats.c
  // re-subscribes after reconnects). pending_msgs/bytes bound the buffer.
  void subscribe(const std::string& subject, MessageHandler handler, int pending_msgs = 131072,
                 int64_t pending_bytes = 131072LL * 1024);
  // Call once after the initial subscribe() calls: reports the connection
  // if it was already up (then `events.connected` fires).
  void start();
  // Publishes (buffered by nats.c while reconnecting). Any thread.
  bool publish(const std::string& subject, std::string_view payload);
  bool connected() const;
  std::string connected_url() const;

 private:
  struct Subscription {
    NatsClient* owner;
    MessageHandler handler;
    natsSubscription* sub = nullptr;
  };
  static void on_message(natsConnection*, natsSubscription*, natsMsg* msg, void* closure);
  static void on_connected(natsConnection*, void* closure);
  static void on_disconnected(natsConnection*, void* closure);
  static void on_closed(natsConnection*, void* closure);

  ConnectionEvents events_;
  natsOptions* options_ = nullptr;
  natsConnection* conn_ = nullptr;
  bool connected_at_start_ = false;
  // nats.c runs callbacks on its own thread, also while closing: the
  // destructor waits for the closed callback before freeing this object.
  std::atomic<bool> closing_{false};
  std::mutex closed_mutex_;
  std::condition_variable closed_cv_;
  bool closed_ = false;
  std::vector<std::unique_ptr<Subscription>> subs_;
};

// Server URLs from the config: nats://[user:pass@]host:port. Pure.
std::vector<std::string> nats_urls(const config::NatsConfig& config);

}  // namespace sy::mbus
