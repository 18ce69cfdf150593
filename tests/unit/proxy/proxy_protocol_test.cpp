// PROXY protocol v1 (text) and v2 (binary): source address, incremental
// input (need_more on every strict prefix), rejection of malformed headers,
// and the consumed length when an HTTP request follows.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "router/proxy/proxy_protocol.hpp"

namespace sy::proxy {
namespace {

using Status = ProxyHeader::Status;

const std::string kSig("\r\n\r\n\0\r\nQUIT\n", 12);
const std::string kHttp = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";

std::string be16(unsigned v) { return std::string{static_cast<char>((v >> 8) & 0xff), static_cast<char>(v & 0xff)}; }

// v2 header: signature, ver/cmd, family, big-endian length, then `payload`.
std::string v2(unsigned char ver_cmd, unsigned char family, const std::string& payload) {
  return kSig + static_cast<char>(ver_cmd) + static_cast<char>(family) + be16(static_cast<unsigned>(payload.size())) +
         payload;
}

std::string v4_payload(std::vector<unsigned char> src, std::vector<unsigned char> dst, unsigned sport, unsigned dport) {
  std::string s(src.begin(), src.end());
  s.append(dst.begin(), dst.end());
  return s + be16(sport) + be16(dport);
}

std::string v6_payload() {
  std::string src(16, '\0'), dst(16, '\0');
  // 2001:db8::1 -> 2001:db8::2
  src[0] = 0x20, src[1] = 0x01, src[2] = 0x0d, src[3] = static_cast<char>(0xb8), src[15] = 1;
  dst[0] = 0x20, dst[1] = 0x01, dst[2] = 0x0d, dst[3] = static_cast<char>(0xb8), dst[15] = 2;
  return src + dst + be16(54321) + be16(443);
}

// Status as text, so failures print readably.
std::string str(Status s) {
  switch (s) {
    case Status::need_more: return "need_more";
    case Status::ok: return "ok";
    case Status::invalid: return "invalid";
  }
  return "?";
}

std::string status_of(std::string_view data) { return str(parse_proxy_header(data).status); }

void expect_need_more_on_prefixes(const std::string& header) {
  for (size_t n = 0; n < header.size(); ++n) {
    ProxyHeader h = parse_proxy_header(std::string_view(header).substr(0, n));
    EXPECT_EQ(str(h.status), "need_more") << "prefix of " << n << " of " << header.size() << " bytes";
  }
}

void expect_ok(const std::string& header, const std::string& ip, uint16_t port) {
  SCOPED_TRACE(header.substr(0, 60));
  ProxyHeader h = parse_proxy_header(header);
  ASSERT_EQ(str(h.status), "ok");
  EXPECT_EQ(h.length, header.size());
  EXPECT_EQ(h.source_ip, ip);
  EXPECT_EQ(h.source_port, port);
  // Followed by an HTTP request: the length must not include it.
  ProxyHeader with_http = parse_proxy_header(header + kHttp);
  ASSERT_EQ(str(with_http.status), "ok");
  EXPECT_EQ(with_http.length, header.size());
  EXPECT_EQ(with_http.source_ip, ip);
  expect_need_more_on_prefixes(header);
}



// ---------------------------------------------------------------- v1

TEST(ProxyProtocolV1, Tcp4) { expect_ok("PROXY TCP4 1.2.3.4 5.6.7.8 1111 2222\r\n", "1.2.3.4", 1111); }

TEST(ProxyProtocolV1, Tcp6) {
  expect_ok("PROXY TCP6 2001:db8::1 2001:db8::2 65535 443\r\n", "2001:db8::1", 65535);
  expect_ok("PROXY TCP6 ::ffff:10.0.0.1 ::1 0 80\r\n", "::ffff:10.0.0.1", 0);
}

TEST(ProxyProtocolV1, UnknownKeepsSocketPeer) {
  expect_ok("PROXY UNKNOWN\r\n", "", 0);
  expect_ok("PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n", "", 0);
}

TEST(ProxyProtocolV1, LongestValidLineIs107Bytes) {
  std::string line = "PROXY UNKNOWN " + std::string(91, 'x') + "\r\n";
  ASSERT_EQ(line.size(), 107u);
  expect_ok(line, "", 0);
}

TEST(ProxyProtocolV1, Garbage) {
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), "invalid");
  EXPECT_EQ(status_of("G"), "invalid") << "one byte is enough to tell";
  EXPECT_EQ(status_of("PROXX"), "invalid");
  EXPECT_EQ(status_of("PROXY\r\n"), "invalid");
  EXPECT_EQ(status_of("proxy TCP4 1.2.3.4 5.6.7.8 1111 2222\r\n"), "invalid");
  EXPECT_EQ(status_of("PROXY \r\n"), "invalid");
  EXPECT_EQ(status_of("PROXY UDP4 1.2.3.4 5.6.7.8 1111 2222\r\n"), "invalid");
}

TEST(ProxyProtocolV1, WrongFieldCount) {
  EXPECT_EQ(status_of("PROXY TCP4 1.2.3.4 5.6.7.8 1111\r\n"), "invalid");
  EXPECT_EQ(status_of("PROXY TCP4 1.2.3.4 5.6.7.8 1111 2222 3333\r\n"), "invalid");
  EXPECT_EQ(status_of("PROXY TCP4 1.2.3.4  5.6.7.8 1111 2222\r\n"), "invalid");
  EXPECT_EQ(status_of("PROXY TCP4\r\n"), "invalid");
}

TEST(ProxyProtocolV1, BadSourceAddress) {
  EXPECT_EQ(status_of("PROXY TCP4 1.2.3.256 5.6.7.8 1111 2222\r\n"), "invalid");
  EXPECT_EQ(status_of("PROXY TCP4 1.2.3 5.6.7.8 1111 2222\r\n"), "invalid");
  EXPECT_EQ(status_of("PROXY TCP4 ::1 5.6.7.8 1111 2222\r\n"), "invalid") << "family mismatch";
  EXPECT_EQ(status_of("PROXY TCP6 1.2.3.4 ::1 1111 2222\r\n"), "invalid") << "family mismatch";
  EXPECT_EQ(status_of("PROXY TCP4 example.com 5.6.7.8 1111 2222\r\n"), "invalid");
}

// Found by tests/fuzz/fuzz_proxy_protocol: inet_pton stops at a NUL byte, so
// "::f<NUL>junk" passed as the address ::f and the junk became source_ip.
TEST(ProxyProtocolV1, NulByteInAddressIsInvalid) {
  using namespace std::string_literals;
  EXPECT_EQ(status_of("PROXY TCP6 ::f\0Cfff:10.0.0.1 ::1 1 65535\r\n"s), "invalid");
  EXPECT_EQ(status_of("PROXY TCP4 1.2.3.4\0\r 5.6.7.8 1111 2222\r\n"s), "invalid");
  EXPECT_EQ(status_of("PROXY TCP4 1.2.3.4 5.6.7.8\0x 1111 2222\r\n"s), "invalid") << "destination too";
}

TEST(ProxyProtocolV1, BadSourcePort) {
  EXPECT_EQ(status_of("PROXY TCP4 1.2.3.4 5.6.7.8 65536 2222\r\n"), "invalid");
  EXPECT_EQ(status_of("PROXY TCP4 1.2.3.4 5.6.7.8 99999999999 2222\r\n"), "invalid");
  EXPECT_EQ(status_of("PROXY TCP4 1.2.3.4 5.6.7.8 -1 2222\r\n"), "invalid");
  EXPECT_EQ(status_of("PROXY TCP4 1.2.3.4 5.6.7.8 12a 2222\r\n"), "invalid");
  EXPECT_EQ(status_of("PROXY TCP4 1.2.3.4 5.6.7.8  2222\r\n"), "invalid");
}

TEST(ProxyProtocolV1, UnterminatedLineOver107BytesIsInvalid) {
  std::string data = "PROXY UNKNOWN " + std::string(200, 'x');
  EXPECT_EQ(status_of(data), "invalid");
  EXPECT_EQ(status_of(data.substr(0, 106)), "need_more");
  EXPECT_EQ(status_of(data.substr(0, 107)), "invalid") << "no CRLF within 107 bytes";
}

// The v1 spec (and go-proxyproto, which gorouter uses) caps the line at 107
// bytes including CRLF; a 108-byte line that arrives in one read is accepted.
TEST(ProxyProtocolV1, LineOf108BytesAcceptedWhenCrlfPresent) {
  std::string line = "PROXY UNKNOWN " + std::string(92, 'x') + "\r\n";
  ASSERT_EQ(line.size(), 108u);
  EXPECT_EQ(status_of(line), "invalid");
  std::string line109 = "PROXY UNKNOWN " + std::string(93, 'x') + "\r\n";
  EXPECT_EQ(status_of(line109), "invalid");
}

// Only the source address/port are checked; a bad destination address is accepted.
TEST(ProxyProtocolV1, DestinationAddressNotValidated) {
  EXPECT_EQ(status_of("PROXY TCP4 1.2.3.4 not-an-ip 1111 2222\r\n"), "invalid");
  EXPECT_EQ(status_of("PROXY TCP4 1.2.3.4 ::1 1111 2222\r\n"), "invalid") << "family mismatch";
}

TEST(ProxyProtocolV1, DestinationPortNotValidated) {
  EXPECT_EQ(status_of("PROXY TCP4 1.2.3.4 5.6.7.8 1111 65536\r\n"), "invalid");
  EXPECT_EQ(status_of("PROXY TCP4 1.2.3.4 5.6.7.8 1111 port\r\n"), "invalid");
}

// ---------------------------------------------------------------- v2

TEST(ProxyProtocolV2, Tcp4) {
  expect_ok(v2(0x21, 0x11, v4_payload({1, 2, 3, 4}, {5, 6, 7, 8}, 1111, 2222)), "1.2.3.4", 1111);
  expect_ok(v2(0x21, 0x11, v4_payload({192, 168, 255, 1}, {10, 0, 0, 1}, 65535, 80)), "192.168.255.1", 65535);
}

TEST(ProxyProtocolV2, Tcp6) { expect_ok(v2(0x21, 0x21, v6_payload()), "2001:db8::1", 54321); }

TEST(ProxyProtocolV2, LocalKeepsSocketPeer) {
  expect_ok(v2(0x20, 0x00, ""), "", 0);
  // LOCAL ignores any addresses but still skips them.
  expect_ok(v2(0x20, 0x11, v4_payload({1, 2, 3, 4}, {5, 6, 7, 8}, 1, 2)), "", 0);
}

TEST(ProxyProtocolV2, TlvsAfterAddressesAreSkipped) {
  std::string tlv = std::string("\x04\x00\x03", 3) + "abc";  // PP2_TYPE_NOOP, length 3
  expect_ok(v2(0x21, 0x11, v4_payload({9, 8, 7, 6}, {5, 6, 7, 8}, 4000, 80) + tlv), "9.8.7.6", 4000);
}

TEST(ProxyProtocolV2, LengthIsBigEndian) {
  std::string payload = v4_payload({1, 2, 3, 4}, {5, 6, 7, 8}, 1111, 2222) + std::string(256 - 12, '\0');
  std::string header = v2(0x21, 0x11, payload);
  ASSERT_EQ(static_cast<unsigned char>(header[14]), 0x01);
  ASSERT_EQ(static_cast<unsigned char>(header[15]), 0x00);
  EXPECT_EQ(status_of(header.substr(0, header.size() - 1)), "need_more");
  ProxyHeader h = parse_proxy_header(header + kHttp);
  ASSERT_EQ(str(h.status), "ok");
  EXPECT_EQ(h.length, 16u + 256u);
  EXPECT_EQ(h.source_ip, "1.2.3.4");
}

TEST(ProxyProtocolV2, BadVersionOrCommand) {
  std::string payload = v4_payload({1, 2, 3, 4}, {5, 6, 7, 8}, 1, 2);
  EXPECT_EQ(status_of(v2(0x11, 0x11, payload)), "invalid") << "version 1 in a v2 header";
  EXPECT_EQ(status_of(v2(0x31, 0x11, payload)), "invalid") << "version 3";
  EXPECT_EQ(status_of(v2(0x22, 0x11, payload)), "invalid") << "command 2";
  EXPECT_EQ(status_of(v2(0x2f, 0x11, payload)), "invalid") << "command 15";
}

TEST(ProxyProtocolV2, BrokenSignatureIsInvalid) {
  std::string header = v2(0x21, 0x11, v4_payload({1, 2, 3, 4}, {5, 6, 7, 8}, 1, 2));
  for (size_t i = 0; i < 12; ++i) {
    std::string broken = header;
    broken[i] = static_cast<char>(broken[i] ^ 0x40);
    EXPECT_EQ(status_of(broken), "invalid") << "signature byte " << i;
  }
}

// go-proxyproto (gorouter) and HAProxy reject a TCP4/TCP6 PROXY header whose
// length is too short for the addresses; here it is accepted as if LOCAL.
TEST(ProxyProtocolV2, AddressBlockTooShortIsAccepted) {
  EXPECT_EQ(status_of(v2(0x21, 0x11, std::string(4, '\x01'))), "invalid") << "TCP4 needs 12 bytes";
  EXPECT_EQ(status_of(v2(0x21, 0x21, std::string(12, '\x01'))), "invalid") << "TCP6 needs 36 bytes";
}

}  // namespace
}  // namespace sy::proxy
