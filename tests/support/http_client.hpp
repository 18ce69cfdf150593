#pragma once
// HTTP requests through the real `curl` binary (fork/exec, no shell), so the
// router is tested with a real, independent client. Body, headers and the
// write-out line go to files in a per-call temporary directory.
//
// Not thread-safe per object; separate HttpCall objects may run in parallel.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tests/support/process.hpp"

namespace sy::test {

struct HttpRequest {
  std::string url;                   // e.g. http://127.0.0.1:8081/path
  std::string method;                // -X; empty = curl's default (GET, or POST/PUT with data)
  std::string host;                  // adds "Host: <host>" when not empty
  std::vector<std::string> headers;  // raw -H values: "Name: value", "Name;" (empty), "Name:" (remove)
  std::string resolve;               // --resolve host:port:addr
  std::string user;                  // -u user:pass (basic auth)
  std::string data;                  // request body (--data-binary from a temp file)
  std::string data_file;             // --data-binary @file
  std::string upload_file;           // -T file (PUT unless method is set)
  bool discard_body = false;         // -o /dev/null; only size_download is reported
  std::chrono::milliseconds timeout{10000};  // curl -m; the process is killed 5 s later
  std::vector<std::string> extra_args;       // appended before the URL
};

struct HttpResponse {
  int exit_code = -1;  // curl's exit code (0 = transfer ok); -1 = did not finish
  int status = 0;      // HTTP status of the last response; 0 if none
  std::vector<std::pair<std::string, std::string>> headers;  // of the last response, in order
  std::string body;
  uint64_t size_download = 0;
  std::string error;  // curl's stderr

  // First value of a header (case-insensitive name).
  std::optional<std::string> header(std::string_view name) const;
  // Every value of a header, in order.
  std::vector<std::string> header_values(std::string_view name) const;
  bool has_header(std::string_view name) const { return header(name).has_value(); }
  // "status=N exit=N error=..." for assertion messages.
  std::string describe() const;
};

// One curl run, possibly in the background.
class HttpCall {
 public:
  HttpCall();
  ~HttpCall();
  HttpCall(HttpCall&&) noexcept;
  HttpCall& operator=(HttpCall&&) noexcept;

  bool start(const HttpRequest& request);
  bool running();
  // Waits for curl to finish (killing it after request.timeout + 5 s) and
  // collects the response.
  HttpResponse wait();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Runs a request to completion.
HttpResponse http(const HttpRequest& request);
// GET http://127.0.0.1:port<path> with the given Host header.
HttpResponse http_get(uint16_t port, const std::string& host, const std::string& path,
                      std::chrono::milliseconds timeout = std::chrono::milliseconds(10000));

// Parses curl's -D output: headers of the last response block.
std::pair<int, std::vector<std::pair<std::string, std::string>>> parse_header_dump(std::string_view text);

}  // namespace sy::test
