// libFuzzer: the chunked decoder. Invariants: fed whole, in two pieces or
// byte by byte it takes the same bytes and reaches the same verdict; it
// never takes a byte past the end of the body; feed_payload (the de-chunking
// for HTTP/1.0 clients) agrees with feed in every split, moves at most the
// bytes it consumed, and yields the same chunk data whatever the split.
#include <cstddef>
#include <cstdint>
#include <string>

#include "router/http/chunked.hpp"
#include "tests/fuzz/harness.hpp"

namespace {

using sy::http::ChunkedDecoder;

struct Outcome {
  size_t consumed = 0;
  ChunkedDecoder::Status status = ChunkedDecoder::Status::more;
};

Outcome feed(const char* data, size_t size, size_t piece) {
  ChunkedDecoder d;
  Outcome o;
  for (size_t at = 0; at < size;) {
    size_t n = piece < size - at ? piece : size - at;
    ChunkedDecoder::Result r = d.feed(data + at, n);
    SY_FUZZ_CHECK(r.consumed <= n);
    o.consumed += r.consumed;
    o.status = r.status;
    if (r.status != ChunkedDecoder::Status::more) break;
    SY_FUZZ_CHECK(r.consumed == n);
    at += n;
  }
  SY_FUZZ_CHECK(d.done() == (o.status == ChunkedDecoder::Status::done));
  return o;
}

// The same with feed_payload, on a copy: the concatenated chunk data.
Outcome feed_payload(const char* data, size_t size, size_t piece, std::string* payload) {
  std::string copy(data, size);
  ChunkedDecoder d;
  Outcome o;
  for (size_t at = 0; at < size;) {
    size_t n = piece < size - at ? piece : size - at;
    size_t got = 0;
    ChunkedDecoder::Result r = d.feed_payload(copy.data() + at, n, &got);
    SY_FUZZ_CHECK(got <= r.consumed);
    payload->append(copy.data() + at, got);
    o.consumed += r.consumed;
    o.status = r.status;
    if (r.status != ChunkedDecoder::Status::more) break;
    at += n;
  }
  return o;
}

}  // namespace

namespace sy::fuzz {

int fuzz_chunked(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const size_t piece = 1 + data[0] % 17;
  const char* body = reinterpret_cast<const char*>(data + 1);
  Outcome whole = feed(body, size - 1, size);
  Outcome split = feed(body, size - 1, piece);
  Outcome bytes = feed(body, size - 1, 1);
  SY_FUZZ_CHECK(whole.status == split.status && whole.status == bytes.status);
  if (whole.status != ChunkedDecoder::Status::error) {
    SY_FUZZ_CHECK(whole.consumed == split.consumed && whole.consumed == bytes.consumed);
  }
  std::string payload_whole, payload_split;
  Outcome pw = feed_payload(body, size - 1, size, &payload_whole);
  Outcome ps = feed_payload(body, size - 1, piece, &payload_split);
  SY_FUZZ_CHECK(pw.status == whole.status && ps.status == whole.status);
  if (whole.status != ChunkedDecoder::Status::error) {
    SY_FUZZ_CHECK(pw.consumed == whole.consumed && ps.consumed == whole.consumed);
    SY_FUZZ_CHECK(payload_whole == payload_split);
  }
  return 0;
}

}  // namespace sy::fuzz

SY_FUZZ_TARGET(fuzz_chunked)
