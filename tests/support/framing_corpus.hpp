#pragma once
// The framing corpus (tests/data/framing_corpus.txt): byte-exact HTTP/1.1
// request streams for the differential test, each with the answers
// Switchyard gives it. Format, one directive a line:
//
//   # a comment
//   case NAME                 starts a case (names are unique)
//   expect 200 400            Switchyard's statuses, in order (none: no answer)
//   note TEXT                 why the case is there (shown with the results)
//   > BYTES                   bytes sent; a case's `>` lines are concatenated,
//                             the file's own line breaks are not sent
//
// In BYTES: \r \n \t \0 \\ \xHH are escapes, {HOST} is the routed host, and
// {TEXT*N} is TEXT (escapes allowed, no '}') N times.
#include <string>
#include <string_view>
#include <vector>

namespace sy::test {

struct FramingCase {
  std::string name;
  std::vector<int> expect;
  std::string note;
  std::string bytes;
  int line = 0;  // where the case starts in the file
};

// Reads and expands the corpus. Empty (and `error` set) on a syntax error.
std::vector<FramingCase> load_framing_corpus(const std::string& path, const std::string& host, std::string* error);

// One `>` line's text, expanded. False (and `error` set) on a bad escape.
bool expand_corpus_bytes(std::string_view text, const std::string& host, std::string* out, std::string* error);

}  // namespace sy::test
