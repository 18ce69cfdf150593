#pragma once
// NatsClient: RAII over a nats.c connection, shared by the router and the
// registrar. Connects in the background and reconnects forever (a process
// starts even while NATS is down); `connected` fires on the first connect and
// on every reconnect. Publishing with a reply subject (router.greet) and a
// bounded flush (unregister-all on shutdown, the one-shot CLI) included.
//
// Threads: callbacks run on nats.c's threads and must only hand work off
// (post to the control thread). publish/flush may be called from any thread.
// The destructor unsubscribes and closes, then waits (bounded) for nats.c to
// report the subscriptions complete and the connection closed, so no callback
// can run after it returns. Errors: the constructor throws
// std::runtime_error when the options are unusable (start-up only); publish
// and flush return false.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>


struct __natsConnection;
struct __natsOptions;
struct __natsSubscription;
struct __natsMsg;

namespace sy::nats {

struct ConnectionEvents {
  std::function<void()> connected;  // first connect and every reconnect
  std::function<void()> disconnected;
};

// subject, payload, reply subject ("" if none).
using MessageHandler = std::function<void(std::string_view, std::string_view, std::string_view)>;

struct NatsOptions {
  std::vector<std::string> urls;  // nats://[user:pass@]host:port
  std::chrono::milliseconds reconnect_wait{500};
  std::chrono::milliseconds ping_interval{20000};
  std::string name = "switchyard";
};

class NatsClient {
 public:
  NatsClient(const NatsOptions& options, ConnectionEvents events);
  ~NatsClient();
  NatsClient(const NatsClient&) = delete;
  NatsClient& operator=(const NatsClient&) = delete;

  // Before start(); nats.c re-subscribes after reconnects.
  void subscribe(const std::string& subject, MessageHandler handler);

  // A high-volume subscription read in batches by its own thread: `handler`
  // gets every message that arrived within `max_delay` (at most max_batch),
  // then the batch's messages are freed together. One hand-off per batch
  // instead of one per message: at thousands of heartbeats a second the
  // per-message thread wake-ups cost more than the work. `dropped` (any
  // thread) counts messages nats.c discarded over the pending limits.
  struct Message {
    std::string_view subject, data, reply;
  };
  using BatchHandler = std::function<void(const std::vector<Message>&)>;
  void subscribe_batched(const std::string& subject, BatchHandler handler, std::chrono::milliseconds max_delay,
                         size_t max_batch = 4096);
  uint64_t dropped() const;
  // Messages received and not yet handed to a batch handler (gorouter's buffered_messages).
  uint64_t pending() const;
  // Reports a connection that was already up when constructed.
  void start();
  // Buffered by nats.c while (re)connecting.
  bool publish(const std::string& subject, std::string_view payload);
  bool publish_request(const std::string& subject, const std::string& reply, std::string_view payload);
  // Waits until the server has processed everything published so far.
  bool flush(std::chrono::milliseconds timeout);
  bool connected() const;
  std::string connected_url() const;

 private:
  struct Subscription {
    MessageHandler handler;
    __natsSubscription* sub = nullptr;
    std::mutex mutex;
    std::condition_variable done_cv;
    bool done = false;
  };
  static void on_message(__natsConnection*, __natsSubscription*, __natsMsg* msg, void* closure);
  static void on_complete(void* closure);
  static void on_connected(__natsConnection*, void* closure);
  static void on_disconnected(__natsConnection*, void* closure);
  static void on_closed(__natsConnection*, void* closure);

  ConnectionEvents events_;
  __natsOptions* options_ = nullptr;
  __natsConnection* conn_ = nullptr;
  bool connected_at_start_ = false;
  std::vector<std::unique_ptr<Subscription>> subs_;
  struct Batched;
  void read_batches(Batched& b);
  std::vector<std::unique_ptr<Batched>> batched_;
  std::mutex closed_mutex_;
  std::condition_variable closed_cv_;
  bool closed_ = false;
  std::atomic<bool> closing_{false};  // no connection events once the destructor runs
};

// Server URLs from the config: nats://[user:pass@]host:port. Pure.

}  // namespace sy::nats
