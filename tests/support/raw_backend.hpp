#pragma once
// RawBackend: a logging HTTP/1.1 backend for the hostile and differential
// tests. It listens on a free 127.0.0.1 port and frames every connection's
// bytes with its own strict RFC 9112 framer (rfc9112_framer.hpp: chunked
// wins over Content-Length, as a recipient must), so a request smuggled
// through a proxy shows up here as a request of its own. Each request (or
// the error that ended a connection) is logged in memory and, optionally,
// as one JSON line in a file; each complete request is answered with a fixed
// 200 carrying X-Seen-Count (or what the responder returns), and connections
// stay open. A framing error is answered 400 and the connection closed.
//
// One thread runs every connection (poll). The accessors may be called from
// any thread.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/rfc9112_framer.hpp"

namespace sy::test {

struct BackendEntry {
  uint64_t connection = 0;  // 1, 2, ... in accept order
  uint64_t epoch = 0;       // set_epoch()'s value when the request's first bytes arrived
  bool complete = false;    // a whole request; otherwise `error` ended the connection
  std::string error;        // a framing error, or "incomplete" (EOF inside a request)
  FramedRequest request;    // complete only
};

// What to send for a request: the bytes, and whether to close afterwards.
struct RawReply {
  std::string bytes;
  bool close = false;
};
// Called on the backend's thread; nullopt = the default 200.
using RawResponder = std::function<std::optional<RawReply>(const FramedRequest& request, uint64_t seen)>;

class RawBackend {
 public:
  explicit RawBackend(std::string log_path = {});  // JSON lines, appended; empty = none
  ~RawBackend();
  RawBackend(const RawBackend&) = delete;
  RawBackend& operator=(const RawBackend&) = delete;

  bool start();  // binds 127.0.0.1:0 and starts the thread
  void stop();   // closes every connection and joins
  uint16_t port() const { return port_; }

  void set_responder(RawResponder responder);
  // Tags the entries whose first bytes arrive from now on.
  void set_epoch(uint64_t epoch);

  std::vector<BackendEntry> entries() const;
  std::vector<BackendEntry> entries_since(uint64_t epoch) const;
  // The complete requests among entries().
  std::vector<FramedRequest> requests() const;
  size_t size() const;
  uint64_t connections() const;
  // Waits until at least `n` entries are logged.
  bool wait_for_entries(size_t n, std::chrono::milliseconds timeout) const;
  // Waits for a pass over every connection, begun after this call, that
  // found nothing to read: whatever was sent to the backend before the call
  // has then been framed and logged.
  bool settle(std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) const;

  // The default answer: 200, X-Seen-Count and a "seen N" body.
  static RawReply default_reply(const FramedRequest& request, uint64_t seen);

 private:
  struct Connection;
  void run();
  void accept_all();
  bool serve(Connection& c);  // false: close it
  void log(BackendEntry entry);

  std::string log_path_;
  int listener_ = -1;
  int wake_ = -1;  // eventfd: stop()
  uint16_t port_ = 0;
  std::thread thread_;
  std::vector<Connection*> open_;  // the backend thread's only
  uint64_t accepted_ = 0;

  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  RawResponder responder_;
  std::vector<BackendEntry> entries_;
  uint64_t epoch_ = 0;
  uint64_t passes_ = 0;     // poll passes begun
  uint64_t idle_pass_ = 0;  // the last pass that found nothing to read
  bool stopping_ = false;
};

}  // namespace sy::test
