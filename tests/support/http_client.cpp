#include "tests/support/http_client.hpp"

#include <strings.h>

#include <cstdio>
#include <cstdlib>

#include "tests/support/temp_dir.hpp"

namespace sy::test {

struct HttpCall::State {
  TempDir dir{"sy-curl"};
  Process process;
  HttpRequest request;
  bool started = false;
};

namespace {

std::string trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) text.remove_suffix(1);
  return std::string(text);
}

std::string seconds_text(std::chrono::milliseconds timeout) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.3f", static_cast<double>(timeout.count()) / 1000.0);
  return buffer;
}

std::vector<std::string> curl_args(const HttpRequest& request, const TempDir& dir) {
  std::vector<std::string> args = {"curl", "-sS", "--http1.1", "-D", dir.file("headers"), "-w",
                                   "%{http_code} %{size_download}", "-m", seconds_text(request.timeout)};
  args.insert(args.end(), {"-o", request.discard_body ? "/dev/null" : dir.file("body")});
  if (!request.method.empty()) args.insert(args.end(), {"-X", request.method});
  if (!request.host.empty()) args.insert(args.end(), {"-H", "Host: " + request.host});
  for (const auto& header : request.headers) args.insert(args.end(), {"-H", header});
  if (!request.resolve.empty()) args.insert(args.end(), {"--resolve", request.resolve});
  if (!request.user.empty()) args.insert(args.end(), {"-u", request.user});
  if (!request.data.empty()) {
    dir.write_file("data", request.data);
    args.insert(args.end(), {"--data-binary", "@" + dir.file("data")});
  }
  if (!request.data_file.empty()) args.insert(args.end(), {"--data-binary", "@" + request.data_file});
  if (!request.upload_file.empty()) args.insert(args.end(), {"-T", request.upload_file});
  args.insert(args.end(), request.extra_args.begin(), request.extra_args.end());
  args.push_back(request.url);
  return args;
}

}  // namespace

std::pair<int, std::vector<std::pair<std::string, std::string>>> parse_header_dump(std::string_view text) {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.rfind("HTTP/", 0) == 0) {  // a new response block (1xx, redirects)
      headers.clear();
      const size_t space = line.find(' ');
      status = space == std::string_view::npos ? 0 : std::atoi(std::string(line.substr(space + 1, 3)).c_str());
      continue;
    }
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) continue;
    headers.emplace_back(trim(line.substr(0, colon)), trim(line.substr(colon + 1)));
  }
  return {status, headers};
}

std::optional<std::string> HttpResponse::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key.size() == name.size() && ::strncasecmp(key.data(), name.data(), name.size()) == 0) return value;
  }
  return std::nullopt;
}

std::vector<std::string> HttpResponse::header_values(std::string_view name) const {
  std::vector<std::string> values;
  for (const auto& [key, value] : headers) {
    if (key.size() == name.size() && ::strncasecmp(key.data(), name.data(), name.size()) == 0) values.push_back(value);
  }
  return values;
}

std::string HttpResponse::describe() const {
  std::string text = "status=" + std::to_string(status) + " curl_exit=" + std::to_string(exit_code);
  if (!error.empty()) text += " curl_error=" + trim(error);
  if (!body.empty() && body.size() < 400) text += " body=" + body;
  return text;
}

HttpCall::HttpCall() : state_(std::make_unique<State>()) {}
HttpCall::~HttpCall() = default;
HttpCall::HttpCall(HttpCall&&) noexcept = default;
HttpCall& HttpCall::operator=(HttpCall&&) noexcept = default;

bool HttpCall::start(const HttpRequest& request) {
  state_->request = request;
  ProcessOptions options;
  options.argv = curl_args(request, state_->dir);
  options.log_path = state_->dir.file("stdout");
  options.stderr_path = state_->dir.file("stderr");
  state_->started = state_->process.start(options);
  return state_->started;
}

bool HttpCall::running() { return state_->process.running(); }

HttpResponse HttpCall::wait() {
  HttpResponse response;
  if (!state_->started) {
    response.error = "curl did not start: " + state_->process.error();
    return response;
  }
  auto code = state_->process.wait_exit(state_->request.timeout + std::chrono::seconds(5));
  if (!code) code = state_->process.kill();
  response.exit_code = code.value_or(-1);
  response.error = read_file(state_->dir.file("stderr"));
  const std::string out = read_file(state_->dir.file("stdout"));
  unsigned long long size = 0;
  int status = 0;
  if (std::sscanf(out.c_str(), "%d %llu", &status, &size) == 2) response.size_download = size;
  auto [parsed_status, headers] = parse_header_dump(read_file(state_->dir.file("headers")));
  response.status = parsed_status != 0 ? parsed_status : status;
  response.headers = std::move(headers);
  if (!state_->request.discard_body) response.body = read_file(state_->dir.file("body"));
  return response;
}

HttpResponse http(const HttpRequest& request) {
  HttpCall call;
  call.start(request);
  return call.wait();
}

HttpResponse http_get(uint16_t port, const std::string& host, const std::string& path,
                      std::chrono::milliseconds timeout) {
  HttpRequest request;
  request.url = "http://127.0.0.1:" + std::to_string(port) + path;
  request.host = host;
  request.timeout = timeout;
  return http(request);
}

}  // namespace sy::test
