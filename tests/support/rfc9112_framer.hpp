#pragma once
// A small strict RFC 9112 request framer for the tests, written apart from
// the router's parser (router/http) so that a mistake there is not mirrored
// here. It has two users:
//   - RawBackend frames what the router forwards, as a backend would;
//   - the hostile and differential tests frame what the client sent, as the
//     reference for what a correct recipient reads.
//
// It refuses what RFC 9112 lets a recipient refuse (bare LF or CR, obs-fold,
// whitespace before a colon, control characters, a Transfer-Encoding whose
// last coding is not chunked, Content-Lengths that disagree, no or several
// Host lines, bad chunk syntax). Where the RFC defines a reading of a shape
// that recipients are known to read differently (Transfer-Encoding with
// Content-Length: chunked wins; chunked applied twice) it frames the message
// that way and lists the shape in `ambiguities`, so a smuggled request shows
// up as one. Pure; any thread.
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sy::test {

struct FramedRequest {
  enum class Framing { none, length, chunked };

  std::string method;
  std::string target;
  int version = 11;  // 10 or 11
  std::vector<std::pair<std::string, std::string>> headers;  // names as sent, values without OWS
  std::string body;      // decoded (chunked) or as sent (Content-Length)
  std::string trailers;  // the trailer lines of a chunked body, as sent
  Framing framing = Framing::none;
  std::vector<std::string> ambiguities;  // shapes recipients read differently
  bool close = false;  // the connection ends after this request

  // First value of a header (case-insensitive name), "" if absent.
  std::string header(std::string_view name) const;
  size_t count(std::string_view name) const;
  // The host the request is for: an absolute-form target's authority, else Host.
  std::string host() const;
  // The target in origin-form (an absolute-form target's path and query, "/" if none).
  std::string origin_target() const;
  // "GET /x (Host h, 5 body bytes)" for messages.
  std::string describe() const;
};

struct FrameResult {
  enum class Status { complete, incomplete, error };
  Status status = Status::incomplete;
  FramedRequest request;  // complete only
  size_t length = 0;      // complete: bytes of the request, leading empty lines included
  std::string error;      // error: why
};

// Frames the request at the front of `data`.
FrameResult frame_request(std::string_view data);

// What a correct server reads from a stream of client bytes: the requests up
// to the first that is invalid, ambiguous or incomplete, or up to the one
// that ends the connection.
struct FramedStream {
  std::vector<FramedRequest> requests;  // complete and unambiguous, in order
  std::string stop;                     // "" = all bytes read; else why reading stopped
  bool incomplete = false;              // the last request was not sent whole
};
FramedStream frame_stream(std::string_view data);

// Bytes as a C string literal would show them (\r \n \t \\ \xHH), cut
// after `max` bytes, for messages and reports.
std::string printable(std::string_view bytes, size_t max = 200);

// ASCII case-insensitive comparison (header names, codings).
bool equal_nocase(std::string_view a, std::string_view b);

}  // namespace sy::test
