// libFuzzer: the response head parser (with in-place obs-fold joining) and
// the client-side rewrite. Invariants: views stay inside the input; the head
// written to the client parses again to the same status and framing.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "router/http/head_parser.hpp"
#include "router/proxy/http_head.hpp"
#include "tests/fuzz/harness.hpp"

namespace {

using namespace sy;

}  // namespace

namespace sy::fuzz {

int fuzz_response_head(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  http::HeadScanner scanner(64 * 1024);
  http::HeadScanner::Result r = scanner.scan(text);
  if (r.status != http::HeadScanner::Status::complete) return 0;
  http::ResponseHead head;
  if (http::parse_response_head(text.data(), r.length, http::HeadLimits{}, &head) != http::HeadError::none) return 0;
  std::string_view whole(text.data(), r.length);
  for (const http::Field& f : head.fields)
    SY_FUZZ_CHECK(f.name.data() >= whole.data() && f.value.data() + f.value.size() <= whole.data() + whole.size());
  SY_FUZZ_CHECK(head.status >= 100 && head.status <= 999);
  for (bool close : {false, true}) {
    std::string out;
    proxy::write_client_response(head, proxy::ResponseRewrite{"rid", close, false, {}, false}, &out);
    http::HeadScanner again_scanner(out.size() + 1);
    http::HeadScanner::Result again_r = again_scanner.scan(out);
    SY_FUZZ_CHECK(again_r.status == http::HeadScanner::Status::complete && again_r.length == out.size());
    http::ResponseHead again;
    SY_FUZZ_CHECK(http::parse_response_head(out.data(), out.size(), http::HeadLimits{out.size() + 1, 4096}, &again) ==
          http::HeadError::none);
    SY_FUZZ_CHECK(again.status == head.status);
    for (bool head_request : {false, true}) SY_FUZZ_CHECK(again.framing(head_request) == head.framing(head_request));
    if (head.framing(false) == http::BodyKind::length) SY_FUZZ_CHECK(again.content_length == head.content_length);
    if (close) SY_FUZZ_CHECK(!again.keep_alive);
  }
  return 0;
}

}  // namespace sy::fuzz

SY_FUZZ_TARGET(fuzz_response_head)
