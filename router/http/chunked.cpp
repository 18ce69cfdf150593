#include "router/http/chunked.hpp"

#include <algorithm>
#include <cstring>

#include "router/http/head_parser.hpp"

namespace sy::http {
namespace {

int hex_value(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

ChunkedDecoder::Result ChunkedDecoder::feed(const char* data, size_t size) { return run(data, size, nullptr, nullptr); }

ChunkedDecoder::Result ChunkedDecoder::feed_payload(char* data, size_t size, size_t* payload) {
  *payload = 0;
  return run(data, size, data, payload);
}

// With `out`, chunk data is moved to out[*payload...] as it is passed over
// (out == data: never ahead of the bytes still to read).
ChunkedDecoder::Result ChunkedDecoder::run(const char* data, size_t size, char* out, size_t* payload) {
  size_t i = 0;
  while (i < size && state_ != State::done && state_ != State::error) {
    if (state_ == State::data) {  // the bulk of the body: skipped, not inspected
      const size_t n = static_cast<size_t>(std::min<uint64_t>(remaining_, size - i));
      if (out) {
        std::memmove(out + *payload, data + i, n);
        *payload += n;
      }
      remaining_ -= n;
      i += n;
      if (remaining_ == 0) state_ = State::data_cr;
      continue;
    }
    if (!step(static_cast<unsigned char>(data[i]))) {
      state_ = State::error;
      return {i, Status::error};
    }
    ++i;
  }
  if (state_ == State::error) return {i, Status::error};
  return {i, state_ == State::done ? Status::done : Status::more};
}

bool ChunkedDecoder::step(unsigned char c) {
  switch (state_) {
    case State::size: {
      const int v = hex_value(c);
      if (v >= 0) {
        if (++digits_ > 16) return false;  // 64 bits of size; leading zeros count too
        remaining_ = remaining_ * 16 + static_cast<uint64_t>(v);
        ++line_;
        return true;
      }
      if (digits_ == 0) return false;
      if (c == '\r') return state_ = State::size_lf, true;
      if (c == ';') return state_ = State::ext, ++line_, true;
      if (c == ' ' || c == '\t') return state_ = State::size_ws, ++line_, true;
      return false;
    }
    case State::size_ws:  // BWS is allowed only before an extension
      if (++line_ > kMaxLine) return false;
      if (c == ' ' || c == '\t') return true;
      if (c == ';') return state_ = State::ext, true;
      return false;
    case State::ext:  // extensions are relayed, never interpreted: visible text only
      if (c == '\r') return state_ = State::size_lf, true;
      return ++line_ <= kMaxLine && is_field_vchar(c);
    case State::size_lf:
      if (c != '\n') return false;
      line_ = 0;
      digits_ = 0;
      state_ = remaining_ == 0 ? State::trailer_start : State::data;
      return true;
    case State::data_cr: return c == '\r' ? (state_ = State::data_lf, true) : false;
    case State::data_lf: return c == '\n' ? (state_ = State::size, true) : false;
    case State::trailer_start:
      if (c == '\r') return state_ = State::final_lf, true;
      if (++trailers_ > kMaxTrailers || !is_tchar(c)) return false;  // a fold or junk
      return state_ = State::trailer_name, true;
    case State::trailer_name:
      if (++trailers_ > kMaxTrailers) return false;
      if (c == ':') return state_ = State::trailer_value, true;
      return is_tchar(c);
    case State::trailer_value:
      if (++trailers_ > kMaxTrailers) return false;
      if (c == '\r') return state_ = State::trailer_lf, true;
      return is_field_vchar(c);
    case State::trailer_lf: return c == '\n' ? (state_ = State::trailer_start, true) : false;
    case State::final_lf: return c == '\n' ? (state_ = State::done, true) : false;
    case State::data:
    case State::done:
    case State::error: return false;
  }
  return false;
}

}  // namespace sy::http
