// libFuzzer: the request head scanner, parser and rewrite. Invariants (a
// broken one traps): the scanner finds the same end fed whole or in two
// pieces; a parsed head's views stay inside the input; and the head the
// router writes upstream parses again, strictly, to the same method, Host
// and body framing: what the backend reads is what the router decided.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "router/http/head_parser.hpp"
#include "router/proxy/http_head.hpp"
#include "tests/fuzz/harness.hpp"

namespace {

using namespace sy;

bool inside(std::string_view part, std::string_view whole) {
  return part.empty() || (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

http::HeadScanner::Result scan_in_two(std::string_view data, size_t cut, size_t limit) {
  http::HeadScanner scanner(limit);
  http::HeadScanner::Result first = scanner.scan(data.substr(0, cut));
  if (first.status != http::HeadScanner::Status::incomplete) return first;
  return scanner.scan(data);
}

void check_rewrite(const http::RequestHead& head) {
  proxy::RequestRewrite rw;
  rw.client_ip = "10.0.0.1";
  rw.request_id = "00000000-0000-0000-0000-000000000000";
  rw.instance_id = "10.0.0.2:8080";
  std::string out;
  proxy::write_upstream_request(head, rw, &out);
  http::HeadScanner scanner(out.size() + 1);
  http::HeadScanner::Result r = scanner.scan(out);
  SY_FUZZ_CHECK(r.status == http::HeadScanner::Status::complete && r.length == out.size());
  http::RequestHead again;
  SY_FUZZ_CHECK(http::parse_request_head(out, http::HeadLimits{out.size() + 1, 1024}, &again) == http::HeadError::none);
  SY_FUZZ_CHECK(again.method == head.method && again.version == head.version);
  SY_FUZZ_CHECK(again.body == head.body && again.content_length == head.content_length);
  SY_FUZZ_CHECK(again.codings.count == head.codings.count);
  SY_FUZZ_CHECK(again.host == head.host || (!head.has_host && head.version == 10));
  SY_FUZZ_CHECK(again.upgrade == head.upgrade);
}

}  // namespace

namespace sy::fuzz {

int fuzz_request_head(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const size_t limit = 512 + data[0] * 64;
  std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  http::HeadScanner whole_scanner(limit);
  http::HeadScanner::Result whole = whole_scanner.scan(text);
  http::HeadScanner::Result split = scan_in_two(text, text.size() / 2, limit);
  SY_FUZZ_CHECK(whole.status == split.status && whole.length == split.length && whole.error == split.error);
  if (whole.status != http::HeadScanner::Status::complete) return 0;
  SY_FUZZ_CHECK(whole.length <= text.size());
  std::string_view head_text = std::string_view(text).substr(0, whole.length);
  http::RequestHead head;
  if (http::parse_request_head(head_text, http::HeadLimits{limit, 64}, &head) != http::HeadError::none) return 0;
  SY_FUZZ_CHECK(inside(head.method, head_text) && inside(head.target, head_text) && inside(head.host, head_text));
  for (const http::Field& f : head.fields) SY_FUZZ_CHECK(inside(f.name, head_text) && inside(f.value, head_text));
  SY_FUZZ_CHECK(head.body != http::BodyKind::until_close);
  check_rewrite(head);
  return 0;
}

}  // namespace sy::fuzz

SY_FUZZ_TARGET(fuzz_request_head)
