// libFuzzer: the response head parser (with in-place obs-fold joining) and
// the client-side rewrite. Invariants: views stay inside the input; the head
// written to the client parses again to the same status and framing.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "router/http/head_parser.hpp"
#include "router/proxy/http_head.hpp"

namespace {

using namespace sy;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  http::HeadScanner scanner(64 * 1024);
  http::HeadScanner::Result r = scanner.scan(text);
  if (r.status != http::HeadScanner::Status::complete) return 0;
  http::ResponseHead head;
  if (http::parse_response_head(text.data(), r.length, http::HeadLimits{}, &head) != http::HeadError::none) return 0;
  std::string_view whole(text.data(), r.length);
  for (const http::Field& f : head.fields)
    check(f.name.data() >= whole.data() && f.value.data() + f.value.size() <= whole.data() + whole.size());
  check(head.status >= 100 && head.status <= 999);
  for (bool close : {false, true}) {
    std::string out;
    proxy::write_client_response(head, proxy::ResponseRewrite{"rid", close, false, {}}, &out);
    http::HeadScanner again_scanner(out.size() + 1);
    http::HeadScanner::Result again_r = again_scanner.scan(out);
    check(again_r.status == http::HeadScanner::Status::complete && again_r.length == out.size());
    http::ResponseHead again;
    check(http::parse_response_head(out.data(), out.size(), http::HeadLimits{out.size() + 1, 4096}, &again) ==
          http::HeadError::none);
    check(again.status == head.status);
    for (bool head_request : {false, true}) check(again.framing(head_request) == head.framing(head_request));
    if (head.framing(false) == http::BodyKind::length) check(again.content_length == head.content_length);
    if (close) check(!again.keep_alive);
  }
  return 0;
}
