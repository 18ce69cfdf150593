#include "common/nats/nats_client.hpp"

#include <nats/nats.h>
#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <stdexcept>

#include "common/log/log.hpp"

namespace sy::nats {
namespace {

constexpr std::chrono::milliseconds kCloseWait{2000};

void check(natsStatus s, const char* what) {
  if (s != NATS_OK) throw std::runtime_error(std::string(what) + ": " + natsStatus_GetText(s));
}

// NATS traffic is background work: its threads (nats.c's reader, flusher,
// timers and callbacks, and the batch readers) run SCHED_BATCH, which keeps
// their fair share of CPU but does not let their wake-ups preempt a proxy
// worker on the same core (100k routes heartbeating wake them thousands of
// times a second). Threads inherit the policy, so the ones nats.c starts
// are covered by holding it while nats.c creates them.
class BackgroundScheduling {
 public:
  BackgroundScheduling() : saved_(::pthread_getschedparam(::pthread_self(), &policy_, &param_) == 0) { make_current(); }
  ~BackgroundScheduling() {
    if (saved_) ::pthread_setschedparam(::pthread_self(), policy_, &param_);
  }
  BackgroundScheduling(const BackgroundScheduling&) = delete;
  BackgroundScheduling& operator=(const BackgroundScheduling&) = delete;
  static void make_current() {
    const ::sched_param none{};
    ::pthread_setschedparam(::pthread_self(), SCHED_BATCH, &none);  // best effort
  }

 private:
  int policy_ = SCHED_OTHER;
  ::sched_param param_{};
  bool saved_;
};

}  // namespace

struct NatsClient::Batched {
  BatchHandler handler;
  std::chrono::milliseconds max_delay;
  size_t max_batch;
  natsSubscription* sub = nullptr;
  std::thread thread;
};

NatsClient::NatsClient(const NatsOptions& options, ConnectionEvents events) : events_(std::move(events)) {
  if (options.urls.empty()) throw std::runtime_error("nats: no servers");
  BackgroundScheduling background;  // for the threads nats.c starts from here
  std::vector<const char*> urls;
  for (const auto& u : options.urls) urls.push_back(u.c_str());
  check(natsOptions_Create(&options_), "nats options");
  check(natsOptions_SetServers(options_, urls.data(), static_cast<int>(urls.size())), "nats servers");
  check(natsOptions_SetName(options_, options.name.c_str()), "nats name");
  check(natsOptions_SetMaxReconnect(options_, -1), "nats max reconnect");
  check(natsOptions_SetReconnectWait(options_, options.reconnect_wait.count()), "nats reconnect wait");
  check(natsOptions_SetPingInterval(options_, options.ping_interval.count()), "nats ping interval");
  check(natsOptions_SetReconnectedCB(options_, &NatsClient::on_connected, this), "nats reconnected cb");
  check(natsOptions_SetDisconnectedCB(options_, &NatsClient::on_disconnected, this), "nats disconnected cb");
  check(natsOptions_SetClosedCB(options_, &NatsClient::on_closed, this), "nats closed cb");
  check(natsOptions_SetRetryOnFailedConnect(options_, true, &NatsClient::on_connected, this), "nats retry");
  natsStatus s = natsConnection_Connect(&conn_, options_);
  if (s == NATS_NOT_YET_CONNECTED) {
    log::warn("nats-connection-pending", log::Fields()("servers", static_cast<long long>(urls.size())));
  } else {
    if (s != NATS_OK) natsOptions_Destroy(options_);
    check(s, "nats connect");
    connected_at_start_ = true;
  }
}

NatsClient::~NatsClient() {
  closing_ = true;
  for (auto& b : batched_) natsSubscription_Unsubscribe(b->sub);  // NextMsg returns an error
  for (auto& b : batched_) {
    if (b->thread.joinable()) b->thread.join();
    natsSubscription_Destroy(b->sub);
  }
  for (auto& s : subs_) {
    if (natsSubscription_Unsubscribe(s->sub) == NATS_OK) {
      std::unique_lock lock(s->mutex);
      s->done_cv.wait_for(lock, kCloseWait, [&s] { return s->done; });
    }
  }
  if (conn_ != nullptr) {
    natsConnection_Close(conn_);
    {
      std::unique_lock lock(closed_mutex_);
      closed_cv_.wait_for(lock, kCloseWait, [this] { return closed_; });
    }
    natsConnection_Destroy(conn_);
  }
  for (auto& s : subs_) natsSubscription_Destroy(s->sub);
  natsOptions_Destroy(options_);
}

void NatsClient::subscribe(const std::string& subject, MessageHandler handler) {
  auto sub = std::make_unique<Subscription>();
  sub->handler = std::move(handler);
  BackgroundScheduling background;  // the subscription's delivery thread
  check(natsConnection_Subscribe(&sub->sub, conn_, subject.c_str(), &NatsClient::on_message, sub.get()), "nats subscribe");
  check(natsSubscription_SetOnCompleteCB(sub->sub, &NatsClient::on_complete, sub.get()), "nats on-complete cb");
  // gorouter's pending limits: a burst of heartbeats is buffered, not dropped.
  check(natsSubscription_SetPendingLimits(sub->sub, 131072, 128 * 1024 * 1024), "nats pending limits");
  subs_.push_back(std::move(sub));
}

void NatsClient::subscribe_batched(const std::string& subject, BatchHandler handler,
                                   std::chrono::milliseconds max_delay, size_t max_batch) {
  auto b = std::make_unique<Batched>();
  b->handler = std::move(handler);
  b->max_delay = max_delay;
  b->max_batch = max_batch;
  check(natsConnection_SubscribeSync(&b->sub, conn_, subject.c_str()), "nats subscribe");
  // Room for a whole platform re-registering at once (gorouter keeps 131072
  // messages; a 1M-route burst needs more). Beyond it nats.c drops, counted.
  check(natsSubscription_SetPendingLimits(b->sub, 4 * 1024 * 1024, 1024 * 1024 * 1024), "nats pending limits");
  Batched* raw = b.get();
  b->thread = std::thread([this, raw] {
    BackgroundScheduling::make_current();
    read_batches(*raw);
  });
  batched_.push_back(std::move(b));
}

// Blocks for the first message of a batch, then sleeps max_delay so the
// rest gather without waking this thread once each (nats.c signals only a
// waiting reader), then takes whatever is pending, up to max_batch. Under a
// backlog it skips the sleep. Hands the batch over, then frees it.
void NatsClient::read_batches(Batched& b) {
  std::vector<natsMsg*> raw;
  std::vector<Message> batch;
  for (;;) {
    natsMsg* msg = nullptr;
    natsStatus s = natsSubscription_NextMsg(&msg, b.sub, 200);
    if (s == NATS_TIMEOUT || s == NATS_SLOW_CONSUMER) continue;
    if (s != NATS_OK || closing_) {
      natsMsg_Destroy(msg);
      break;  // unsubscribed or closed: the client is going away
    }
    raw.push_back(msg);
    int pending = 0, pending_bytes = 0;
    natsSubscription_GetPending(b.sub, &pending, &pending_bytes);
    if (static_cast<size_t>(pending) < b.max_batch) std::this_thread::sleep_for(b.max_delay);
    while (raw.size() < b.max_batch && natsSubscription_NextMsg(&msg, b.sub, 0) == NATS_OK) raw.push_back(msg);
    batch.clear();
    for (natsMsg* m : raw) {
      const char* reply = natsMsg_GetReply(m);
      const char* data = natsMsg_GetData(m);
      batch.push_back(Message{natsMsg_GetSubject(m),
                              data ? std::string_view(data, static_cast<size_t>(natsMsg_GetDataLength(m))) : std::string_view(),
                              reply ? std::string_view(reply) : std::string_view()});
    }
    if (!closing_) b.handler(batch);
    for (natsMsg* m : raw) natsMsg_Destroy(m);
    raw.clear();
  }
}

uint64_t NatsClient::pending() const {
  uint64_t total = 0;
  for (const auto& b : batched_) {
    int msgs = 0, bytes = 0;
    if (natsSubscription_GetPending(b->sub, &msgs, &bytes) == NATS_OK && msgs > 0) total += static_cast<uint64_t>(msgs);
  }
  return total;
}

uint64_t NatsClient::dropped() const {
  uint64_t total = 0;
  for (const auto& b : batched_) {
    int64_t d = 0;
    if (natsSubscription_GetDropped(b->sub, &d) == NATS_OK && d > 0) total += static_cast<uint64_t>(d);
  }
  return total;
}

void NatsClient::start() {
  // With retry-on-failed-connect, nats.c calls the connected callback only
  // when the first attempt failed; a first-time success is reported here.
  if (connected_at_start_) on_connected(conn_, this);
}

bool NatsClient::publish(const std::string& subject, std::string_view payload) {
  return natsConnection_Publish(conn_, subject.c_str(), payload.data(), static_cast<int>(payload.size())) == NATS_OK;
}

bool NatsClient::publish_request(const std::string& subject, const std::string& reply, std::string_view payload) {
  return natsConnection_PublishRequest(conn_, subject.c_str(), reply.c_str(), payload.data(),
                                       static_cast<int>(payload.size())) == NATS_OK;
}

bool NatsClient::flush(std::chrono::milliseconds timeout) {
  return natsConnection_FlushTimeout(conn_, timeout.count()) == NATS_OK;
}

bool NatsClient::connected() const { return natsConnection_Status(conn_) == NATS_CONN_STATUS_CONNECTED; }

std::string NatsClient::connected_url() const {
  char buf[256] = {};
  if (natsConnection_GetConnectedUrl(conn_, buf, sizeof buf) != NATS_OK) return "";
  return buf;
}


void NatsClient::on_message(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
  auto* sub = static_cast<Subscription*>(closure);
  const char* reply = natsMsg_GetReply(msg);
  const char* data = natsMsg_GetData(msg);
  sub->handler(natsMsg_GetSubject(msg),
               data ? std::string_view(data, static_cast<size_t>(natsMsg_GetDataLength(msg))) : std::string_view(),
               reply ? std::string_view(reply) : std::string_view());
  natsMsg_Destroy(msg);
}

void NatsClient::on_complete(void* closure) {
  auto* sub = static_cast<Subscription*>(closure);
  {
    std::lock_guard lock(sub->mutex);
    sub->done = true;
  }
  sub->done_cv.notify_all();
}

void NatsClient::on_connected(natsConnection*, void* closure) {
  auto* self = static_cast<NatsClient*>(closure);
  if (!self->closing_ && self->events_.connected) self->events_.connected();
}

void NatsClient::on_disconnected(natsConnection*, void* closure) {
  auto* self = static_cast<NatsClient*>(closure);
  if (!self->closing_ && self->events_.disconnected) self->events_.disconnected();
}

void NatsClient::on_closed(natsConnection*, void* closure) {
  auto* self = static_cast<NatsClient*>(closure);
  {
    std::lock_guard lock(self->closed_mutex_);
    self->closed_ = true;
  }
  self->closed_cv_.notify_all();
}

}  // namespace sy::nats
