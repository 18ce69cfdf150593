// ChunkedDecoder (router/http/chunked.hpp): where a chunked body ends, fed in
// any split, and every way the grammar can be broken.
#include <gtest/gtest.h>

#include <string>

#include "router/http/chunked.hpp"

namespace sy::http {
namespace {

struct Outcome {
  size_t consumed = 0;
  ChunkedDecoder::Status status = ChunkedDecoder::Status::more;
};

// Feeds `text` in pieces of `piece` bytes; stops at done or error.
Outcome feed(const std::string& text, size_t piece = SIZE_MAX) {
  ChunkedDecoder d;
  Outcome o;
  for (size_t at = 0; at < text.size();) {
    size_t n = std::min(piece, text.size() - at);
    ChunkedDecoder::Result r = d.feed(text.data() + at, n);
    o.consumed += r.consumed;
    o.status = r.status;
    if (r.status != ChunkedDecoder::Status::more) break;
    EXPECT_EQ(r.consumed, n) << "short of done, every byte belongs to the body";
    at += n;
  }
  return o;
}

const std::string kBody = "5\r\nhello\r\n1A;name=\"v\"\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-Trailer: t\r\n\r\n";

TEST(ChunkedDecoder, FindsTheEndInAnySplit) {
  const std::string next = "GET /next HTTP/1.1\r\n";
  for (size_t piece : {size_t{1}, size_t{2}, size_t{3}, size_t{7}, kBody.size()}) {
    Outcome o = feed(kBody + next, piece);
    EXPECT_EQ(o.status, ChunkedDecoder::Status::done) << piece;
    EXPECT_EQ(o.consumed, kBody.size()) << "bytes after the body are not taken (" << piece << ")";
  }
  for (size_t cut = 1; cut < kBody.size(); ++cut) {  // every two-way split
    ChunkedDecoder d;
    auto a = d.feed(kBody.data(), cut);
    auto b = d.feed(kBody.data() + cut, kBody.size() - cut);
    EXPECT_EQ(a.consumed + b.consumed, kBody.size()) << cut;
    EXPECT_TRUE(d.done()) << cut;
  }
}

TEST(ChunkedDecoder, MinimalAndUpperCaseAndZeroPadded) {
  EXPECT_EQ(feed("0\r\n\r\n").status, ChunkedDecoder::Status::done);
  EXPECT_EQ(feed("00A\r\n0123456789\r\n000\r\n\r\n").status, ChunkedDecoder::Status::done);
  EXPECT_EQ(feed("5 ;ext\r\nhello\r\n0\r\n\r\n").status, ChunkedDecoder::Status::done) << "BWS before ';'";
}

TEST(ChunkedDecoder, RefusesWhatCanBeReadTwoWays) {
  for (const char* bad : {
           "x\r\n",                        // not hex
           "\r\n",                         // no size
           "5\nhello\r\n0\r\n\r\n",        // bare LF after the size
           "5\r\nhello\n0\r\n\r\n",        // bare LF after the data
           "5\r\nhelloX\r\n0\r\n\r\n",     // data longer than its size
           "5 \r\nhello\r\n0\r\n\r\n",     // trailing whitespace without an extension
           "-5\r\n",                       // sign
           "0x5\r\n",                      // C prefix
           "11111111111111111\r\n",        // over 64 bits of size
           "5;a=\x01\r\n",                 // control character in an extension
           "0\r\nX: a\nY: b\r\n\r\n",      // bare LF in a trailer
           "0\r\nX: a\r\n folded\r\n\r\n",  // folded trailer
           "0\r\nX a\r\n\r\n",             // trailer without a colon
           "0\r\n\r\r\n",                  // CR CR
       }) {
    EXPECT_EQ(feed(bad).status, ChunkedDecoder::Status::error) << bad;
    EXPECT_EQ(feed(bad, 1).status, ChunkedDecoder::Status::error) << "byte by byte: " << bad;
  }
}

TEST(ChunkedDecoder, ExtensionsAndTrailersAreBounded) {
  std::string long_ext = "5;" + std::string(ChunkedDecoder::kMaxLine, 'a') + "\r\nhello\r\n0\r\n\r\n";
  EXPECT_EQ(feed(long_ext).status, ChunkedDecoder::Status::error);
  std::string ok_ext = "5;" + std::string(100, 'a') + "\r\nhello\r\n0\r\n\r\n";
  EXPECT_EQ(feed(ok_ext).status, ChunkedDecoder::Status::done);
  std::string trailers = "0\r\n";
  while (trailers.size() < ChunkedDecoder::kMaxTrailers + 100) trailers += "X-T: " + std::string(100, 'v') + "\r\n";
  EXPECT_EQ(feed(trailers + "\r\n").status, ChunkedDecoder::Status::error);
}

TEST(ChunkedDecoder, LargeChunkDataIsSkippedNotScanned) {
  std::string big = "100000\r\n" + std::string(0x100000, '\n') + "\r\n0\r\n\r\n";  // data may hold anything
  Outcome o = feed(big, 4096);
  EXPECT_EQ(o.status, ChunkedDecoder::Status::done);
  EXPECT_EQ(o.consumed, big.size());
}

// feed_payload: the chunk data alone, moved to the front of each piece, in
// every split; the bytes after the body are left where they are.
TEST(ChunkedDecoder, PayloadIsTheChunkDataAloneInAnySplit) {
  const std::string body = "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n";
  const std::string text = body + "NEXT";
  for (size_t piece = 1; piece <= text.size(); ++piece) {
    ChunkedDecoder d;
    std::string payload, copy = text;
    size_t consumed = 0;
    for (size_t at = 0; at < copy.size() && !d.done();) {
      const size_t n = std::min(piece, copy.size() - at);
      size_t got = 0;
      ChunkedDecoder::Result r = d.feed_payload(copy.data() + at, n, &got);
      ASSERT_NE(r.status, ChunkedDecoder::Status::error) << piece;
      payload.append(copy.data() + at, got);
      consumed += r.consumed;
      at += n;
    }
    EXPECT_EQ(payload, "hello world") << "pieces of " << piece;
    EXPECT_EQ(consumed, body.size()) << "pieces of " << piece;
  }
  ChunkedDecoder bad;
  std::string broken = "5\r\nhelloXX";
  size_t got = 0;
  EXPECT_EQ(bad.feed_payload(broken.data(), broken.size(), &got).status, ChunkedDecoder::Status::error);
}

}  // namespace
}  // namespace sy::http
