#pragma once
// A small nats.c client for tests: publish, collect messages from
// subscriptions, request/reply. Reconnects forever (50 ms apart) while the
// server is down, re-subscribing automatically.
//
// Thread-safety: publish/request/subscribe may be called from any thread;
// connect/close and destruction from the owning thread only. nats_Close() is
// never called: the nats.c library state is process-global.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct __natsConnection;
struct __natsSubscription;
struct __natsMsg;

namespace sy::test {

struct NatsMessage {
  std::string subject;
  std::string data;
  std::string reply;
};

using MessagePredicate = std::function<bool(const NatsMessage&)>;

class NatsSubscription {
 public:
  NatsSubscription() = default;
  NatsSubscription(const NatsSubscription&) = delete;
  NatsSubscription& operator=(const NatsSubscription&) = delete;

  // Removes and returns the first queued message matching `predicate` (any
  // message when empty), waiting up to `timeout` for one to arrive.
  std::optional<NatsMessage> wait_for_message(std::chrono::milliseconds timeout,
                                              const MessagePredicate& predicate = {});
  // Copies of the queued messages.
  std::vector<NatsMessage> messages() const;
  // Messages received since subscribing (including ones already taken).
  uint64_t received() const;
  void clear();

 private:
  friend class NatsClient;
  static void on_message(__natsConnection* nc, __natsSubscription* sub, __natsMsg* msg, void* closure);
  static void on_complete(void* closure);
  bool wait_complete(std::chrono::milliseconds timeout);

  __natsSubscription* sub_ = nullptr;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<NatsMessage> queue_;
  uint64_t received_ = 0;
  bool complete_ = false;
};

class NatsClient {
 public:
  NatsClient() = default;
  ~NatsClient();
  NatsClient(const NatsClient&) = delete;
  NatsClient& operator=(const NatsClient&) = delete;

  // Connects, retrying every 20 ms for up to `retry_for`. False (error()
  // says why) if no connection could be made.
  bool connect(const std::string& url, const std::string& user = {}, const std::string& pass = {},
               std::chrono::milliseconds retry_for = std::chrono::milliseconds(5000));
  // Publishes and flushes (waits for the server's PONG, up to 5 s).
  bool publish(const std::string& subject, std::string_view payload);
  // Publishes without flushing (buffered while reconnecting).
  bool publish_async(const std::string& subject, std::string_view payload);
  bool flush(std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));
  // Subscribes; the client owns the subscription. nullptr on failure.
  NatsSubscription* subscribe(const std::string& subject);
  // Request/reply: the reply's payload, or nullopt on timeout/no responders.
  std::optional<std::string> request(const std::string& subject, std::string_view payload,
                                     std::chrono::milliseconds timeout);
  bool connected() const;
  // Unsubscribes everything and closes the connection.
  void close();
  const std::string& error() const { return error_; }

 private:
  __natsConnection* conn_ = nullptr;
  std::vector<std::unique_ptr<NatsSubscription>> subs_;
  std::string error_;
};

}  // namespace sy::test
