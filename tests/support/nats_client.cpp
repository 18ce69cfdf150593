#include "tests/support/nats_client.hpp"

#include <nats/nats.h>

#include <thread>

namespace sy::test {
namespace {

std::string status_text(natsStatus status) {
  const char* last = nats_GetLastError(nullptr);
  std::string text = natsStatus_GetText(status);
  if (last != nullptr && *last != '\0') text += std::string(": ") + last;
  return text;
}

}  // namespace

void NatsSubscription::on_message(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
  auto* self = static_cast<NatsSubscription*>(closure);
  NatsMessage message;
  message.subject = natsMsg_GetSubject(msg);
  const char* data = natsMsg_GetData(msg);
  if (data != nullptr) message.data.assign(data, static_cast<size_t>(natsMsg_GetDataLength(msg)));
  const char* reply = natsMsg_GetReply(msg);
  if (reply != nullptr) message.reply = reply;
  natsMsg_Destroy(msg);
  {
    std::lock_guard lock(self->mutex_);
    self->queue_.push_back(std::move(message));
    ++self->received_;
  }
  self->changed_.notify_all();
}

void NatsSubscription::on_complete(void* closure) {
  auto* self = static_cast<NatsSubscription*>(closure);
  {
    std::lock_guard lock(self->mutex_);
    self->complete_ = true;
  }
  self->changed_.notify_all();
}

bool NatsSubscription::wait_complete(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [this] { return complete_; });
}

std::optional<NatsMessage> NatsSubscription::wait_for_message(std::chrono::milliseconds timeout,
                                                              const MessagePredicate& predicate) {
  std::optional<NatsMessage> found;
  auto take = [&] {
    for (auto it = queue_.begin(); it != queue_.end(); ++it) {
      if (!predicate || predicate(*it)) {
        found = std::move(*it);
        queue_.erase(it);
        return true;
      }
    }
    return false;
  };
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, timeout, take);
  return found;
}

std::vector<NatsMessage> NatsSubscription::messages() const {
  std::lock_guard lock(mutex_);
  return {queue_.begin(), queue_.end()};
}

uint64_t NatsSubscription::received() const {
  std::lock_guard lock(mutex_);
  return received_;
}

void NatsSubscription::clear() {
  std::lock_guard lock(mutex_);
  queue_.clear();
}

NatsClient::~NatsClient() { close(); }

bool NatsClient::connect(const std::string& url, const std::string& user, const std::string& pass,
                         std::chrono::milliseconds retry_for) {
  close();
  natsOptions* opts = nullptr;
  natsStatus status = natsOptions_Create(&opts);
  if (status == NATS_OK) status = natsOptions_SetURL(opts, url.c_str());
  if (status == NATS_OK && !user.empty()) status = natsOptions_SetUserInfo(opts, user.c_str(), pass.c_str());
  if (status == NATS_OK) status = natsOptions_SetTimeout(opts, 2000);
  if (status == NATS_OK) status = natsOptions_SetAllowReconnect(opts, true);
  if (status == NATS_OK) status = natsOptions_SetMaxReconnect(opts, -1);
  if (status == NATS_OK) status = natsOptions_SetReconnectWait(opts, 50);
  if (status != NATS_OK) {
    error_ = "nats options: " + status_text(status);
    natsOptions_Destroy(opts);
    return false;
  }
  const auto deadline = std::chrono::steady_clock::now() + retry_for;
  while (true) {
    status = natsConnection_Connect(&conn_, opts);
    if (status == NATS_OK || std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  natsOptions_Destroy(opts);
  if (status != NATS_OK) {
    conn_ = nullptr;
    error_ = "nats connect " + url + ": " + status_text(status);
    return false;
  }
  return true;
}

bool NatsClient::publish_async(const std::string& subject, std::string_view payload) {
  if (conn_ == nullptr) return false;
  const natsStatus status =
      natsConnection_Publish(conn_, subject.c_str(), payload.data(), static_cast<int>(payload.size()));
  if (status != NATS_OK) error_ = "publish " + subject + ": " + status_text(status);
  return status == NATS_OK;
}

bool NatsClient::flush(std::chrono::milliseconds timeout) {
  if (conn_ == nullptr) return false;
  const natsStatus status = natsConnection_FlushTimeout(conn_, timeout.count());
  if (status != NATS_OK) error_ = "flush: " + status_text(status);
  return status == NATS_OK;
}

bool NatsClient::publish(const std::string& subject, std::string_view payload) {
  return publish_async(subject, payload) && flush();
}

NatsSubscription* NatsClient::subscribe(const std::string& subject) {
  if (conn_ == nullptr) return nullptr;
  auto sub = std::make_unique<NatsSubscription>();
  natsStatus status =
      natsConnection_Subscribe(&sub->sub_, conn_, subject.c_str(), &NatsSubscription::on_message, sub.get());
  if (status == NATS_OK) {
    status = natsSubscription_SetOnCompleteCB(sub->sub_, &NatsSubscription::on_complete, sub.get());
  }
  if (status == NATS_OK) status = natsConnection_FlushTimeout(conn_, 5000);
  if (status != NATS_OK) {
    error_ = "subscribe " + subject + ": " + status_text(status);
    if (sub->sub_ != nullptr) {
      natsSubscription_Unsubscribe(sub->sub_);
      sub->wait_complete(std::chrono::milliseconds(2000));
      natsSubscription_Destroy(sub->sub_);
    }
    return nullptr;
  }
  subs_.push_back(std::move(sub));
  return subs_.back().get();
}

std::optional<std::string> NatsClient::request(const std::string& subject, std::string_view payload,
                                               std::chrono::milliseconds timeout) {
  if (conn_ == nullptr) return std::nullopt;
  natsMsg* reply = nullptr;
  const natsStatus status = natsConnection_Request(&reply, conn_, subject.c_str(), payload.data(),
                                                   static_cast<int>(payload.size()), timeout.count());
  if (status != NATS_OK) {
    error_ = "request " + subject + ": " + status_text(status);
    return std::nullopt;
  }
  std::string data;
  if (natsMsg_GetData(reply) != nullptr) {
    data.assign(natsMsg_GetData(reply), static_cast<size_t>(natsMsg_GetDataLength(reply)));
  }
  natsMsg_Destroy(reply);
  return data;
}

bool NatsClient::connected() const {
  return conn_ != nullptr && natsConnection_Status(conn_) == NATS_CONN_STATUS_CONNECTED;
}

void NatsClient::close() {
  // Closing the connection closes every subscription; on_complete then says
  // when a handler can no longer run.
  if (conn_ != nullptr) natsConnection_Close(conn_);
  for (auto& sub : subs_) {
    const bool complete = sub->wait_complete(std::chrono::milliseconds(2000));
    natsSubscription_Destroy(sub->sub_);
    if (!complete) (void)sub.release();  // a handler may still run: leak rather than free under it
  }
  subs_.clear();
  if (conn_ != nullptr) {
    natsConnection_Destroy(conn_);
    conn_ = nullptr;
  }
}

}  // namespace sy::test
