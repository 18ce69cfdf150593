// The SOCKS5 entry's parser (RFC 1928, RFC 1929): every message whole, in
// pieces, and refused.
#include <gtest/gtest.h>

#include <string>

#include "tunnel/server/socks_codec.hpp"

namespace sy::tunnel::socks {
namespace {

std::string bytes(std::initializer_list<int> b) {
  std::string s;
  for (int c : b) s.push_back(static_cast<char>(c));
  return s;
}

TEST(SocksCodec, GreetingPicksTheEntrysMethodOrNone) {
  const std::string both = bytes({5, 2, 0, 2});
  EXPECT_EQ(parse_greeting(both, false).method, kNoAuth);
  EXPECT_EQ(parse_greeting(both, true).method, kUserPass);
  EXPECT_EQ(parse_greeting(both, true).length, 4u);
  EXPECT_EQ(parse_greeting(bytes({5, 1, 0}), true).method, kNoAcceptable) << "credentials are not optional";
  EXPECT_EQ(parse_greeting(bytes({5, 1, 2}), false).method, kNoAcceptable);
  for (size_t n = 0; n < both.size(); ++n) EXPECT_EQ(parse_greeting(both.substr(0, n), true).status, Parse::more);
  EXPECT_EQ(parse_greeting(bytes({4, 1, 0}), false).status, Parse::bad) << "SOCKS4";
  EXPECT_EQ(parse_greeting(bytes({5, 0}), false).status, Parse::bad) << "no methods";
}

TEST(SocksCodec, Rfc1929Credentials) {
  const std::string msg = bytes({1, 3}) + "ops" + bytes({4}) + "pass";
  Credentials c = parse_credentials(msg);
  ASSERT_EQ(c.status, Parse::ok);
  EXPECT_EQ(c.user, "ops");
  EXPECT_EQ(c.pass, "pass");
  EXPECT_EQ(c.length, msg.size());
  for (size_t n = 0; n < msg.size(); ++n) EXPECT_EQ(parse_credentials(msg.substr(0, n)).status, Parse::more) << n;
  EXPECT_EQ(parse_credentials(bytes({5, 3}) + "ops").status, Parse::bad);
}

TEST(SocksCodec, ConnectRequestsByNameIpv4AndIpv6) {
  std::string name = bytes({5, 1, 0, 3, 10}) + "pg.t.local" + bytes({0x15, 0x38});
  Request r = parse_request(name);
  ASSERT_EQ(r.status, Parse::ok);
  EXPECT_EQ(r.host, "pg.t.local");
  EXPECT_EQ(r.port, 5432);
  EXPECT_EQ(r.length, name.size());
  for (size_t n = 0; n < name.size(); ++n) EXPECT_EQ(parse_request(name.substr(0, n)).status, Parse::more) << n;
  r = parse_request(bytes({5, 1, 0, 1, 10, 1, 2, 3, 0, 22}));
  EXPECT_EQ(r.host, "10.1.2.3");
  EXPECT_EQ(r.port, 22);
  r = parse_request(bytes({5, 1, 0, 4, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 22}));
  EXPECT_EQ(r.host, "fd00::1");
}

TEST(SocksCodec, RefusalsCarryTheirReplyCode) {
  Request bind = parse_request(bytes({5, 2, 0, 1, 10, 1, 2, 3, 0, 22}));
  EXPECT_EQ(bind.status, Parse::bad);
  EXPECT_EQ(bind.reply, kCommandNotSupported);
  Request atyp = parse_request(bytes({5, 1, 0, 9, 1, 2}));
  EXPECT_EQ(atyp.status, Parse::bad);
  EXPECT_EQ(atyp.reply, kAddressNotSupported);
  EXPECT_EQ(parse_request(bytes({5, 1, 0, 1, 10, 1, 2, 3, 0, 0})).status, Parse::bad) << "port 0";
  EXPECT_EQ(parse_request(bytes({5, 1, 0, 3, 0, 0, 22})).status, Parse::bad) << "empty name";
  EXPECT_EQ(parse_request(bytes({5, 1, 1, 1, 10, 1, 2, 3, 0, 22})).status, Parse::bad) << "RSV not zero";
  const auto ok = reply(kSucceeded);
  EXPECT_EQ(std::string(ok.data(), ok.size()), bytes({5, 0, 0, 1, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(reply(kNotAllowed)[1], 2);
}

}  // namespace
}  // namespace sy::tunnel::socks
