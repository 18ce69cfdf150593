#pragma once
// Wakeup: a sticky, single-waiter event between coroutines on one
// io_context thread. notify() sets the flag and, when a coroutine is parked
// in async_wait(), posts its resumption; async_wait() completes (posted,
// never inline) as soon as the flag is set, clearing it. Several notify()
// calls before the waiter runs wake it once: a waiter re-checks its state
// after waking, so a wake-up stands for "something may have changed".
//
// Why not a steady_timer cancelled as a signal: no timer queue, no error
// code to tell apart from a real cancellation, and a notify() with nobody
// waiting costs a store.
//
// The owner must not destroy a Wakeup while a coroutine is parked in it
// (the agent's sessions wake every coroutine and wait for them to finish).
// Threading: the io_context's thread only.
#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <utility>

namespace sy::agent {

class Wakeup {
 public:
  explicit Wakeup(boost::asio::any_io_executor executor) : executor_(std::move(executor)) {}
  Wakeup(const Wakeup&) = delete;
  Wakeup& operator=(const Wakeup&) = delete;

  template <typename Token>
  auto async_wait(Token&& token) {
    return boost::asio::async_initiate<Token, void()>([this](auto handler) { start(Handler(std::move(handler))); },
                                                      token);
  }

  void notify() {
    if (!waiter_) {
      notified_ = true;
      return;
    }
    Handler h;
    h.swap(waiter_);  // any_completion_handler's move-assignment misbehaves in Boost 1.81
    resume(std::move(h));
  }

  bool notified() const { return notified_; }
  bool waiting() const { return static_cast<bool>(waiter_); }

 private:
  using Handler = boost::asio::any_completion_handler<void()>;

  void start(Handler h) {
    if (notified_) {
      notified_ = false;
      resume(std::move(h));
      return;
    }
    waiter_.swap(h);
  }

  void resume(Handler h) {
    boost::asio::post(executor_, [h = std::move(h)]() mutable { std::move(h)(); });
  }

  boost::asio::any_io_executor executor_;
  Handler waiter_;
  bool notified_ = false;
};

}  // namespace sy::agent
