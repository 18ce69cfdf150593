#pragma once
// Wakeup: one coroutine waits, others notify — a condition flag for
// coroutines on one executor (Asio has no condition variable). notify()
// before the wait makes the next wait complete at once; several notifies
// before a wait count as one. The waiter resumes through a post, never
// inside notify(). close() completes a pending wait with operation_aborted
// and makes every later wait fail the same way.
//
// Threading: the owning executor only (no locks).
#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>

namespace sy {

class Wakeup {
 public:
  using Handler = boost::asio::any_completion_handler<void(boost::system::error_code)>;

  explicit Wakeup(boost::asio::any_io_executor ex) : ex_(std::move(ex)) {}
  Wakeup(const Wakeup&) = delete;
  Wakeup& operator=(const Wakeup&) = delete;

  template <typename Token>
  auto async_wait(Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code)>(
        [this](auto handler) { start(Handler(std::move(handler))); }, token);
  }

  void notify() {
    if (waiter_) {
      complete({});
    } else {
      pending_ = true;
    }
  }

  void close() {
    closed_ = true;
    if (waiter_) complete(boost::asio::error::operation_aborted);
  }

  bool waiting() const { return static_cast<bool>(waiter_); }
  bool notified() const { return pending_; }  // a notify() no wait has taken yet

 private:
  void start(Handler h) {
    if (closed_ || pending_) {
      pending_ = false;
      boost::system::error_code ec = closed_ ? boost::asio::error::operation_aborted : boost::system::error_code();
      boost::asio::post(ex_, [h = std::move(h), ec]() mutable { std::move(h)(ec); });
      return;
    }
    waiter_.swap(h);  // member swap: Boost 1.81's move-assignment wraps the handler in itself
  }

  void complete(boost::system::error_code ec) {
    Handler h;
    h.swap(waiter_);
    boost::asio::post(ex_, [h = std::move(h), ec]() mutable { std::move(h)(ec); });
  }

  boost::asio::any_io_executor ex_;
  Handler waiter_;
  bool pending_ = false;
  bool closed_ = false;
};

}  // namespace sy
