// The node's check of an agent's opening request (SPEC §5.2).
#include <gtest/gtest.h>

#include "tests/support/http_text.hpp"
#include "tunnel/identity/identity.hpp"
#include "tunnel/server/handshake.hpp"

namespace sy::tunnel {
namespace {

const HandshakeSettings kOpen{"t.example.com", {}};
const HandshakeSettings kSecret{"t.example.com", {"s3cret"}};

std::string request(const std::string& extra, const std::string& line = "GET /v1/tunnel HTTP/1.1") {
  return line + "\r\nHost: t.example.com\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
         extra + "\r\n";
}

HandshakeVerdict check(const std::string& text, const HandshakeSettings& s = kOpen, int64_t now = 1000) {
  auto p = test::parse_request(text);
  EXPECT_EQ(p->error, http::HeadError::none) << http::to_string(p->error);
  return check_handshake(p->head, s, now);
}

TEST(TunnelHandshake, AcceptsAndNamesTheHost) {
  HandshakeVerdict v = check(request("Switchyard-Tunnel-Id: 381433e1-7980-11ee-bbdb-60f262c1e32d\r\n"));
  ASSERT_EQ(v.status, 101) << v.reason;
  EXPECT_EQ(v.host, "b7de88a94729b931.t.example.com");
  EXPECT_EQ(v.accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  const std::string answer = handshake_response(v);
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 101 Switching Protocols\r\n"));
  EXPECT_NE(answer.find("Switchyard-Tunnel-Host: b7de88a94729b931.t.example.com\r\n"), std::string::npos);
  HandshakeVerdict labelled = check(request("Switchyard-Tunnel-Id: a\r\nSwitchyard-Tunnel-Host: shop\r\n"));
  EXPECT_EQ(labelled.host, "shop.t.example.com");
}

TEST(TunnelHandshake, RefusesBadRequestsWithAReason) {
  EXPECT_EQ(check(request("")).status, 400) << "no id";
  EXPECT_EQ(check(request("Switchyard-Tunnel-Id: a/b\r\n")).status, 400);
  EXPECT_EQ(check(request("Switchyard-Tunnel-Id: a\r\nSwitchyard-Tunnel-Host: Shop\r\n")).status, 400);
  EXPECT_EQ(check(request("Switchyard-Tunnel-Id: a\r\n", "GET /other HTTP/1.1")).status, 404);
  EXPECT_EQ(check(request("Switchyard-Tunnel-Id: a\r\n", "POST /v1/tunnel HTTP/1.1")).status, 405);
  auto plain = test::parse_request("GET /v1/tunnel HTTP/1.1\r\nHost: t\r\nSwitchyard-Tunnel-Id: a\r\n\r\n");
  EXPECT_EQ(check_handshake(plain->head, kOpen, 0).status, 426);
  HandshakeVerdict bad = check(request("Switchyard-Tunnel-Id: a/b\r\n"));
  const std::string answer = handshake_response(bad);
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 400 Bad Request\r\n"));
  EXPECT_TRUE(answer.ends_with("\r\n\r\n" + bad.reason + "\n"));
}

TEST(TunnelHandshake, TokensAreCheckedWhenTheNodeHasSecrets) {
  const std::string token = mint_token("s3cret", "id-1", "shop", 2000);
  const std::string ok = "Switchyard-Tunnel-Id: id-1\r\nSwitchyard-Tunnel-Host: shop\r\nAuthorization: Bearer " + token + "\r\n";
  EXPECT_EQ(check(request(ok), kSecret).status, 101);
  EXPECT_EQ(check(request(ok), kSecret, 2001).status, 401) << "expired";
  EXPECT_EQ(check(request("Switchyard-Tunnel-Id: id-1\r\nSwitchyard-Tunnel-Host: shop\r\n"), kSecret).status, 401);
  const std::string other_label =
      "Switchyard-Tunnel-Id: id-1\r\nSwitchyard-Tunnel-Host: bank\r\nAuthorization: Bearer " + token + "\r\n";
  EXPECT_EQ(check(request(other_label), kSecret).status, 401) << "a label needs a token minted for it";
  EXPECT_EQ(check(request("Switchyard-Tunnel-Id: id-1\r\nAuthorization: Bearer 1.abc\r\n"), kSecret).status, 401);
}

// SPEC §7: a TCP tunnel only where tunnel.tcp_ports is set; a declared
// address, canonicalised; an edge policy, re-encoded; garbage in any is 400.
TEST(TunnelHandshake, ProtocolAddressAndPolicyAreCheckedAndKept) {
  const HandshakeSettings tcp_on{"t.example.com", {}, true};
  const std::string id = "Switchyard-Tunnel-Id: a\r\n";
  HandshakeVerdict v = check(request(id + "Switchyard-Tunnel-Protocol: tcp\r\n"), tcp_on);
  ASSERT_EQ(v.status, 101) << v.reason;
  EXPECT_TRUE(v.tcp);
  EXPECT_EQ(check(request(id + "Switchyard-Tunnel-Protocol: tcp\r\n")).status, 400) << "tcp_ports not set";
  EXPECT_EQ(check(request(id + "Switchyard-Tunnel-Protocol: udp\r\n"), tcp_on).status, 400);
  EXPECT_FALSE(check(request(id + "Switchyard-Tunnel-Protocol: http\r\n")).tcp);

  v = check(request(id + "Switchyard-Tunnel-Address: [FD00:0::1]:22\r\n"));
  ASSERT_EQ(v.status, 101) << v.reason;
  EXPECT_EQ(v.address, "[fd00::1]:22");
  EXPECT_EQ(check(request(id + "Switchyard-Tunnel-Address: 10.1.2.3\r\n")).status, 400) << "no port";
  EXPECT_EQ(check(request(id + "Switchyard-Tunnel-Address: db.internal:22\r\n")).status, 400) << "not an IP";

  v = check(request(id + "Switchyard-Tunnel-Policy: allow=10.0.0.0/8;rate=5/s\r\n"));
  ASSERT_EQ(v.status, 101) << v.reason;
  EXPECT_EQ(v.policy, "allow=10.0.0.0/8;rate=5/s");
  EXPECT_EQ(check(request(id + "Switchyard-Tunnel-Policy: allow=10.0.0.0/99\r\n")).status, 400);

  v.tcp_port = 20001;
  EXPECT_NE(handshake_response(v).find("\r\nSwitchyard-Tunnel-Port: 20001\r\n"), std::string::npos);
}

}  // namespace
}  // namespace sy::tunnel
