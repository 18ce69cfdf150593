#pragma once
// Test helpers: parse request/response heads from text with the router's own
// strict parser (router/http), as a session would. A parsed head's fields are
// views into its text, so both live in one heap object that never moves.
#include <memory>
#include <string>

#include "router/http/head_parser.hpp"

namespace sy::test {

struct ParsedRequest {
  std::string text;
  http::RequestHead head;
  http::HeadError error = http::HeadError::none;
  bool complete = false;  // the scanner found the end of the head
  size_t consumed = 0;    // bytes of the head
};

inline std::unique_ptr<ParsedRequest> parse_request(std::string text, size_t limit = 64 * 1024) {
  auto p = std::make_unique<ParsedRequest>();
  p->text = std::move(text);
  http::HeadScanner scanner(limit);
  http::HeadScanner::Result r = scanner.scan(p->text);
  p->error = r.error;
  if (r.status != http::HeadScanner::Status::complete) return p;
  p->complete = true;
  p->consumed = r.length;
  http::HeadLimits limits;
  limits.max_bytes = limit;
  p->error = http::parse_request_head(std::string_view(p->text).substr(0, r.length), limits, &p->head);
  return p;
}

struct ParsedResponse {
  std::string text;
  http::ResponseHead head;
  http::HeadError error = http::HeadError::none;
  bool complete = false;
  size_t consumed = 0;
};

inline std::unique_ptr<ParsedResponse> parse_response(std::string text) {
  auto p = std::make_unique<ParsedResponse>();
  p->text = std::move(text);
  http::HeadScanner scanner(1024 * 1024);
  http::HeadScanner::Result r = scanner.scan(p->text);
  p->error = r.error;
  if (r.status != http::HeadScanner::Status::complete) return p;
  p->complete = true;
  p->consumed = r.length;
  p->error = http::parse_response_head(p->text.data(), r.length, http::HeadLimits{}, &p->head);
  return p;
}

}  // namespace sy::test
