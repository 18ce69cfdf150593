#pragma once
// Worker: one thread, one io_context, its SO_REUSEPORT listeners (the proxy
// port, and the tunnel port when tunnels are on), one upstream connector with
// its keep-alive pool, and a cached route snapshot. A connection lives its
// whole life on the worker that accepted it, so nothing in it needs a lock.
//
// The worker knows what it serves only as Connections (connection.hpp): one
// set of them, whatever the listener, so every deadline is enforced by one
// tick and a drain reaches, and counts, every connection it holds.
//
// Threading: bind()/start()/join() from main; open()/stop_accepting()/
// drain()/stop() may be called from any thread (they post to the worker);
// everything else on the worker's thread.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "router/http/message.hpp"
#include "router/io/poller.hpp"
#include "router/proxy/connection.hpp"
#include "router/proxy/io_buffer.hpp"
#include "router/proxy/proxy_context.hpp"
#include "router/proxy/splice.hpp"
#include "router/proxy/worker_stats.hpp"
#include "router/route/snapshot.hpp"
#include "router/upstream/connector.hpp"

namespace sy::proxy {

// Per-connection growable storage, recycled by the worker so a new
// connection does not pay a dozen mallocs growing it again.
struct SessionScratch {
  std::string out;  // the head being written
  std::string request_id;
  std::vector<http::Field> request_fields;
  std::vector<http::Field> response_fields;
};

class Worker;

// Builds the connector a worker uses (TCP, or the tunnel-aware one in main).
// Called while the worker is being constructed: io() and poller() are ready;
// keep the reference, do nothing else with the worker yet.
using ConnectorFactory = std::function<std::unique_ptr<upstream::Connector>(Worker&)>;

// What a listener does with an accepted socket (non-blocking fd, owned).
using ServeFn = std::function<boost::asio::awaitable<void>(Worker&, int fd, boost::asio::ip::tcp::endpoint peer)>;

struct ListenerSpec {
  std::string name;  // "proxy", "tunnel": logs
  boost::asio::ip::tcp::endpoint endpoint;
  ServeFn serve;
};

class Worker {
 public:
  Worker(int index, ProxyContext& context, const route::SnapshotHolder& routes, const ConnectorFactory& connectors);
  ~Worker();

  // Binds a listener without listening yet (throws std::system_error at
  // start-up if it cannot), so a busy port fails fast but no connection is
  // accepted before open(). Any number, before start().
  void bind(ListenerSpec spec);
  void start();  // runs the worker thread
  void open();   // listen and accept (after start_response_delay_interval, as gorouter)
  void stop_accepting();
  void drain();  // every connection finishes its current work, then closes
  void stop();   // stop the io_context now
  void join();
  // At exit, after stop() and join() of every worker: a worker's pooled
  // streams may belong to another worker's tunnel session, and closing one
  // posts to its owner. So every worker ends its connections, then every
  // connector goes, while all io_contexts still exist; end_connections()
  // once more runs the closes that were posted. (Main thread.)
  void end_connections() { shutdown_connections(); }
  void drop_connector() { connector_.reset(); }

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
  // What this worker counted (written by its thread only; read by the control thread).
  WorkerStats& stats() { return stats_; }
  const WorkerStats& stats() const { return stats_; }
  int open_connections() const { return open_connections_.load(std::memory_order_relaxed); }
  // True once in 16 calls: the requests whose route lookup is timed.
  bool sample_lookup() { return (lookups_++ & 15) == 0; }

  // The connection set (worker thread only).
  void add(Connection* c);
  void remove(Connection* c);
  // The tick's work, public so tests can pass their own `now`.
  void check_deadlines(route::TimePoint now);

 private:
  struct Listener {
    ListenerSpec spec;
    boost::asio::ip::tcp::acceptor acceptor;
    std::unique_ptr<io::Socket> ring;  // io_uring: the listening fd, taken from `acceptor`
    void close();
  };
  boost::asio::awaitable<void> accept_loop(Listener& listener);
  boost::asio::awaitable<void> ring_accept_loop(Listener& listener);
  void accepted(Listener& listener, int fd, const boost::asio::ip::tcp::endpoint& peer);
  void refuse(int fd);
  void schedule_tick();
  void shutdown_connections();

  int index_;
  ProxyContext& context_;
  WorkerStats stats_;
  // Declared before io_ so they outlive it: destroying io_ destroys any
  // coroutine still suspended, and a session's destructor uses them.
  BufferPool buffers_;
  PipePool pipes_;
  std::vector<SessionScratch> scratch_;
  std::unordered_set<Connection*> connections_;
  // The proxy's sockets (io::Socket). Declared before io_ so it outlives it
  // (destroying io_ destroys suspended sessions, whose sockets detach); its
  // nested descriptor is closed in ~Worker while io_ still exists.
  io::Poller poller_;  // on ProxyContext::io_engine
  // Every socket of a worker is created, used and closed on its thread, so
  // the reactor's per-descriptor locks are not needed (posts stay locked).
  boost::asio::io_context io_{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};
  route::SnapshotCache cache_;
  std::unique_ptr<upstream::Connector> connector_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  boost::asio::steady_timer tick_timer_;  // deadlines of every connection, pool sweeps
  route::TimePoint next_sweep_{};
  bool draining_ = false;
  std::atomic<int> open_connections_{0};
  uint32_t lookups_ = 0;
  std::thread thread_;
  bool accepting_ = true;
};

}  // namespace sy::proxy
