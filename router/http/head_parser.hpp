#pragma once
// The strict HTTP/1.1 head parser (RFC 9112), for requests from clients and
// responses from upstreams. Two steps, so a head that trickles in costs one
// pass, not one per read:
//
//   HeadScanner::scan(buffer)     called after every read, looks only at the
//                                 new bytes: incomplete / complete(length) /
//                                 error (bare LF, over the size limit)
//   parse_request_head(head, ..)  once the head is complete: validates every
//   parse_response_head(head, ..) line and fills the head's fields and verdicts
//
// What it refuses, and why (see docs/SECURITY.md): a line ending in LF alone;
// obs-fold in a request (in a response it is replaced by spaces, as RFC 9112
// §5.2 allows); whitespace before a field's colon; control characters in a
// name or value; a target with whitespace, '#', or bytes outside visible
// ASCII, or whose form does not fit the method; a Transfer-Encoding whose
// last coding is not `chunked` (or with `chunked` twice, or an unknown
// coding), or in an HTTP/1.0 message; Transfer-Encoding together with
// Content-Length in a request;
// Content-Length values that disagree; more or fewer than one Host in an
// HTTP/1.1 request; a Host that is not a uri-host[:port]; a status outside
// 100..999. Each refusal is a HeadError with the status to answer.
//
// Pure, allocation-free apart from the head's field vector; any thread.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "router/http/message.hpp"

namespace sy::http {

enum class HeadError : uint8_t {
  none,
  too_large,            // 431
  too_many_fields,      // 431
  bare_lf,              // a line ended in LF without CR
  bad_start_line,       // request-line / status-line syntax
  bad_method,
  bad_target,
  bad_version,
  unsupported_version,  // 505: HTTP/2+ on an HTTP/1 connection
  bad_field,            // name or value syntax, whitespace before ':'
  obs_fold,             // a continuation line in a request
  bad_content_length,
  conflicting_content_length,
  bad_transfer_encoding,
  unknown_transfer_coding,  // 501
  te_with_content_length,
  te_in_http10,
  missing_host,
  duplicate_host,
  bad_host,
  bad_connection,       // more Connection tokens than we keep track of
  bad_status,
};
std::string_view to_string(HeadError e);
// The status a request head error is answered with (400 unless noted above).
int request_error_status(HeadError e);

struct HeadLimits {
  size_t max_bytes = 64 * 1024;  // the whole head, leading empty lines included
  size_t max_fields = 256;
};

// Finds the end of a head arriving in pieces. Feed it the whole buffered
// text each time (it resumes where it stopped); reset() before the next head.
class HeadScanner {
 public:
  enum class Status : uint8_t { incomplete, complete, error };
  struct Result {
    Status status;
    size_t length = 0;  // complete: bytes of the head, blank line included
    HeadError error = HeadError::none;
  };
  explicit HeadScanner(size_t max_bytes) : max_bytes_(max_bytes) {}
  Result scan(std::string_view data);
  void reset() { pos_ = 0, line_start_ = 0, seen_start_line_ = false; }

 private:
  size_t max_bytes_;
  size_t pos_ = 0;         // bytes already examined
  size_t line_start_ = 0;  // offset of the line being read
  bool seen_start_line_ = false;
};

// `head` is a complete head as HeadScanner found it. Fills `out` (views into
// `head`); on error `out` is partially filled and must not be used.
HeadError parse_request_head(std::string_view head, const HeadLimits& limits, RequestHead* out);

// `head` is writable: obs-folded lines are joined in place (CR LF and the
// fold's whitespace become spaces), so field values stay single views.
HeadError parse_response_head(char* head, size_t length, const HeadLimits& limits, ResponseHead* out);

// Byte classes of RFC 9110 §5.6.2 / §5.5, exposed for the chunked decoder.
bool is_tchar(unsigned char c);
bool is_field_vchar(unsigned char c);  // VCHAR / obs-text / SP / HTAB

}  // namespace sy::http
