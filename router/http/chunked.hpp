#pragma once
// ChunkedDecoder: checks the chunked transfer coding (RFC 9112 §7.1) of a
// body that is relayed raw, and finds where it ends. It is fed the bytes as
// they arrive, split anywhere, and says how many of them belong to the body;
// it never copies or buffers. Anything off the grammar is an error — a chunk
// size that is not hex or overflows, a line that ends in LF alone or holds a
// control character, a chunk not followed by CRLF, an extension line or a
// trailer section over its bound, a folded trailer — so the bytes a
// recipient sees can only be read one way.
//
// Pure; the owner's thread.
#include <cstddef>
#include <cstdint>

namespace sy::http {

class ChunkedDecoder {
 public:
  static constexpr size_t kMaxLine = 4096;       // a chunk-size line with its extensions
  static constexpr size_t kMaxTrailers = 16384;  // the whole trailer section

  enum class Status : uint8_t { more, done, error };
  struct Result {
    size_t consumed;  // bytes of the body at the front of the input
    Status status;
  };

  Result feed(const char* data, size_t size);
  // The same, and moves the chunk data among the consumed bytes to the
  // front of `data` (in place, order kept): `*payload` of them. For a
  // recipient that cannot read chunked (an HTTP/1.0 client).
  Result feed_payload(char* data, size_t size, size_t* payload);
  bool done() const { return state_ == State::done; }
  bool failed() const { return state_ == State::error; }
  void reset() { *this = ChunkedDecoder{}; }

 private:
  enum class State : uint8_t {
    size, size_ws, ext, size_lf, data, data_cr, data_lf,
    trailer_start, trailer_name, trailer_value, trailer_lf, final_lf, done, error,
  };
  bool step(unsigned char c);  // one byte outside chunk data; false = error
  Result run(const char* data, size_t size, char* out, size_t* payload);

  State state_ = State::size;
  uint64_t remaining_ = 0;  // chunk data still to come
  uint8_t digits_ = 0;
  size_t line_ = 0;      // bytes of the current size line
  size_t trailers_ = 0;  // bytes of the trailer section
};

}  // namespace sy::http
