// CrossWorkerStream: two workers (io_contexts on two threads), the stream's
// resource on one, the request on the other. Every completion must arrive on
// the caller's thread, data must pass both ways intact, and close() from the
// caller must abort an operation pending on the owner.
#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <future>
#include <thread>

#include "router/upstream/cross_worker.hpp"
#include "tests/support/memory_stream.hpp"

namespace sy::upstream {
namespace {

namespace asio = boost::asio;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// A worker: an io_context run by its own thread until the test ends.
struct Thread {
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> guard{io.get_executor()};
  std::thread thread{[this] { io.run(); }};
  ~Thread() {
    guard.reset();
    io.stop();
    thread.join();
  }
};

struct Outcome {
  std::string read;
  bool all_on_caller = true;
  boost::system::error_code read_error;
  std::promise<void> last_read_started;
};

// The owner's side: read what came, answer "world".
asio::awaitable<void> owner_side(test::MemoryStream& far, std::promise<std::string>* got) {
  char buf[16];
  auto [ec, n] = co_await asio::async_read(far, asio::buffer(buf), use_tuple);
  got->set_value(std::string(buf, n));
  auto [wec, wn] = co_await asio::async_write(far, asio::buffer("world", 5), use_tuple);
  (void)wec;
}

asio::awaitable<void> exchange(ByteStream& s, std::thread::id caller, Outcome* out) {
  const std::string hello = "hello over there";
  auto [wec, wn] = co_await asio::async_write(s, asio::buffer(hello), use_tuple);
  out->all_on_caller &= std::this_thread::get_id() == caller && !wec;
  char buf[32];
  auto [rec, rn] = co_await asio::async_read(s, asio::buffer(buf, 5), use_tuple);
  out->all_on_caller &= std::this_thread::get_id() == caller;
  out->read.assign(buf, rn);
  out->last_read_started.set_value();
  auto [pec, pn] = co_await s.async_read_some(asio::buffer(buf), use_tuple);  // pending until close()
  out->all_on_caller &= std::this_thread::get_id() == caller;
  out->read_error = pec;
}

TEST(CrossWorkerStream, CompletionsComeBackToTheCallerAndCloseAbortsThePendingRead) {
  Thread owner, caller;
  auto [near, far] = test::MemoryStream::pair(owner.io.get_executor());
  std::shared_ptr<ByteStream> inner(std::move(near));
  auto cross = std::make_unique<CrossWorkerStream>(caller.io.get_executor(), inner);
  Outcome outcome;
  std::future<void> last_read = outcome.last_read_started.get_future();
  std::promise<void> finished;
  asio::co_spawn(caller.io, exchange(*cross, caller.thread.get_id(), &outcome),
                 [&finished](std::exception_ptr) { finished.set_value(); });
  // The owner's side: read what came, answer, then the caller closes.
  std::promise<std::string> got;
  asio::co_spawn(owner.io, owner_side(*far, &got), asio::detached);
  EXPECT_EQ(got.get_future().get(), "hello over there");
  last_read.get();  // the caller's last read is under way: close it from the caller
  asio::post(caller.io, [&] { cross->close(); });
  finished.get_future().get();
  EXPECT_EQ(outcome.read, "world");
  EXPECT_TRUE(outcome.all_on_caller) << "a completion ran on the owner's thread";
  EXPECT_EQ(outcome.read_error, asio::error::operation_aborted);
  std::promise<void> destroyed;
  asio::post(caller.io, [&] {
    cross.reset();
    destroyed.set_value();
  });
  destroyed.get_future().get();
  std::promise<void> far_done;
  asio::post(owner.io, [&, f = std::move(far)]() mutable {
    f.reset();
    far_done.set_value();
  });
  far_done.get_future().get();
}

}  // namespace
}  // namespace sy::upstream
