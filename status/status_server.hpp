#pragma once
// The status listener (status.port): GET /health, GET /routes (basic auth),
// GET /metrics; and, as a second instance with routes_only, gorouter's
// /routes listener (status.routes.port, 127.0.0.1). It runs on the control
// thread's io_context; each connection serves one request and closes, as
// gorouter's does.
#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <map>
#include <utility>
#include <vector>
#include <list>
#include <string>

#include "router/route/snapshot.hpp"
#include "status/metrics.hpp"

namespace sy::status {

enum class Health { starting, healthy, draining };

struct StatusOptions {
  std::string user;
  std::string pass;
  bool routes_only = false;  // the status.routes.port listener: /routes and nothing else
};

// One request as a handler sees it.
struct StatusRequest {
  std::string_view path;   // without the query string
  std::string_view authorization;
  std::string_view query;  // after '?', "" when none
};

struct StatusResponse {
  int status = 200;
  std::string body;
  std::string content_type = "text/plain; charset=utf-8";
  std::vector<std::pair<std::string, std::string>> headers;
};

StatusResponse plain(int status, std::string body);

class StatusServer {
 public:
  // Answers GET/HEAD for one path; runs on the control thread.
  using Handler = std::function<void(const StatusRequest&, StatusResponse&)>;

  // Connections served at once. At the cap, the oldest connection still
  // waiting for its request head is closed to make room, so idle clients
  // cannot keep /health from the load balancer; when every connection is
  // past its head, the new one is closed instead.
  static constexpr int kMaxConnections = 64;
  static constexpr uint32_t kMaxHead = 8 * 1024;  // request head bytes; no request here has a body

  // `refresh` runs before /metrics is serialised (to sample gauges).
  StatusServer(boost::asio::io_context& io, StatusOptions options, const route::SnapshotHolder& routes,
               const metrics::Registry& registry, const std::atomic<Health>& health,
               std::function<void()> refresh = {});
  // Binds and starts accepting (throws std::system_error at start-up).
  void start(const boost::asio::ip::tcp::endpoint& endpoint);
  // Adds (or replaces) the handler for `path`; `needs_auth`: basic auth with
  // status.user/pass, 401 otherwise. Before start(). Built in: /health,
  // /healthz, /is-process-alive-do-not-use-for-loadbalancing, /routes
  // (auth), /metrics. A routes_only server answers /routes alone.
  void handle(std::string path, bool needs_auth, Handler handler);
  void stop();
  uint16_t port() const;

 private:
  // A connection still reading its request head; `listed` is cleared when
  // it is evicted.
  struct Waiting {
    boost::asio::ip::tcp::socket* socket;
    bool* listed;
  };

  boost::asio::awaitable<void> accept_loop();
  boost::asio::awaitable<void> serve(boost::asio::ip::tcp::socket socket);
  void respond(const StatusRequest& req, StatusResponse& res) const;
  void add_builtin_handlers();
  struct Route {
    bool needs_auth = false;
    Handler handler;
  };
  bool evict_oldest_waiting();

  boost::asio::io_context& io_;
  StatusOptions options_;
  const route::SnapshotHolder& routes_;
  const metrics::Registry& registry_;
  const std::atomic<Health>& health_;
  std::function<void()> refresh_;
  boost::asio::ip::tcp::acceptor acceptor_;
  int open_ = 0;  // connections being served (control thread only)
  std::map<std::string, Route, std::less<>> handlers_;
  std::list<Waiting> waiting_;  // those still reading their head, oldest first (control thread only)
};

// /routes body: gorouter's JSON shape. Pure; any thread.
std::string routes_json(const route::RouteTable& table);
// True when `authorization` is "Basic base64(user:pass)" for these credentials.
bool basic_auth_ok(std::string_view authorization, const std::string& user, const std::string& pass);

}  // namespace sy::status
