#pragma once
// Worker: one thread, one io_context, one SO_REUSEPORT acceptor on the proxy
// port, one upstream connector with its keep-alive pool, and a cached route
// snapshot. A client connection lives its whole life on the worker that
// accepted it, so nothing in a session needs a lock.
//
// Threading: bind()/start()/join() from main; open()/stop_accepting()/
// close_idle()/stop() may be called from any thread (they post to the worker).
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <memory>
#include <thread>
#include <unordered_set>

#include "router/io/poller.hpp"
#include "router/proxy/http_head.hpp"
#include "router/proxy/io_buffer.hpp"
#include "router/proxy/proxy_context.hpp"
#include "router/proxy/splice.hpp"
#include "router/route/snapshot.hpp"
#include "router/upstream/connector.hpp"

namespace sy::proxy {

class Session;

// Per-connection growable storage, recycled by the worker so a new
// connection does not pay a dozen mallocs growing it again.
struct SessionScratch {
  std::string out;                 // the head being written
  std::string request_id;
  std::vector<Field> request_fields;
  std::vector<Field> response_fields;
};

// Builds the connector a worker uses (TCP, or the tunnel-aware one in main).
using ConnectorFactory =
    std::function<std::unique_ptr<upstream::Connector>(boost::asio::io_context&, io::Poller&)>;

class Worker {
 public:
  Worker(int index, ProxyContext& context, const route::SnapshotHolder& routes, const ConnectorFactory& connectors);
  ~Worker();

  // Binds the acceptor without listening yet (throws std::system_error at
  // start-up if it cannot), so a busy port fails fast but no connection is
  // accepted before open().
  void bind(const boost::asio::ip::tcp::endpoint& endpoint);
  void start();  // runs the worker thread
  void open();   // listen and accept (after start_response_delay_interval, as gorouter)
  void stop_accepting();
  void close_idle();  // close keep-alive connections waiting for a request
  void stop();        // stop the io_context now
  void join();

  int index() const { return index_; }
  boost::asio::io_context& io() { return io_; }
  ProxyContext& context() { return context_; }
  upstream::Connector& connector() { return *connector_; }
  io::Poller& poller() { return poller_; }
  BufferPool& buffers() { return buffers_; }
  PipePool& pipes() { return pipes_; }
  SessionScratch take_scratch();
  void give_scratch(SessionScratch&& scratch);
  const route::RouteTablePtr& routes() { return cache_.get(); }
  int open_connections() const { return open_connections_.load(std::memory_order_relaxed); }

  // Session bookkeeping (worker thread only).
  void session_started(Session* s);
  void session_finished(Session* s);

 private:
  boost::asio::awaitable<void> accept_loop();
  void refuse(int fd);
  void schedule_tick();
  void tick();

  void shutdown_sessions();

  int index_;
  ProxyContext& context_;
  // Declared before io_ so they outlive it: destroying io_ destroys any
  // session coroutine still suspended, and a session's destructor uses both.
  BufferPool buffers_;
  PipePool pipes_;
  std::vector<SessionScratch> scratch_;
  std::unordered_set<Session*> sessions_;
  // Every socket of a worker is created, used and closed on its thread, so
  // the reactor's per-descriptor locks are not needed (posts stay locked).
  // The proxy's sockets (io::Socket). Declared before io_ so it outlives it
  // (destroying io_ destroys suspended sessions, whose sockets detach); its
  // nested descriptor is closed in ~Worker while io_ still exists.
  io::Poller poller_{io_};
  boost::asio::io_context io_{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};
  route::SnapshotCache cache_;
  std::unique_ptr<upstream::Connector> connector_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer tick_timer_;  // deadlines of every session, pool sweeps
  route::TimePoint next_sweep_{};
  bool closing_idle_ = false;  // draining: idle keep-alive connections are closed
  std::atomic<int> open_connections_{0};
  std::thread thread_;
  bool accepting_ = true;
};

}  // namespace sy::proxy
