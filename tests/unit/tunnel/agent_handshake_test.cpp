// The agent's upgrade request and its verdict on the node's answer.
#include <gtest/gtest.h>

#include "tunnel/agent/handshake.hpp"
#include "tunnel/ws/handshake.hpp"

namespace sy::agent {
namespace {

constexpr std::string_view kKey = "dGhlIHNhbXBsZSBub25jZQ==";  // RFC 6455's example

Options options(std::string token = "", std::string label = "") {
  Options o;
  o.id = "381433e1-7980-11ee-bbdb-60f262c1e32d";
  o.token = std::move(token);
  o.label = std::move(label);
  return o;
}

ServerUrl server(const char* url) { return *parse_server_url(url); }

HandshakeResult check(std::string head, std::string_view body = {}, std::string_view key = kKey) {
  return check_upgrade_response(head.data(), head.size(), key, body);
}

std::string accepted_head(std::string_view extra = "Switchyard-Tunnel-Host: b7de88a94729b931.tunnel.test\r\n") {
  return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" + std::string(extra) + "\r\n";
}

TEST(AgentHandshake, RequestText) {
  EXPECT_EQ(upgrade_request(server("ws://node.example:8443"), options(), kKey),
            "GET /v1/tunnel HTTP/1.1\r\n"
            "Host: node.example:8443\r\n"
            "Upgrade: websocket\r\n"
            "Connection: Upgrade\r\n"
            "Sec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Switchyard-Tunnel-Id: 381433e1-7980-11ee-bbdb-60f262c1e32d\r\n"
            "User-Agent: switchyard-tunnel\r\n\r\n");
}

TEST(AgentHandshake, RequestWithTokenAndLabelAndDefaultPort) {
  const std::string text = upgrade_request(server("wss://tunnel.example.com"), options("0.abc", "my-app"), kKey);
  EXPECT_NE(text.find("Host: tunnel.example.com\r\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\r\nAuthorization: Bearer 0.abc\r\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\r\nSwitchyard-Tunnel-Host: my-app\r\n"), std::string::npos) << text;
  EXPECT_EQ(text.substr(text.size() - 4), "\r\n\r\n");
}

TEST(AgentHandshake, AcceptKeyIsRfc6455s) { EXPECT_EQ(ws::accept_key(kKey), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="); }

TEST(AgentHandshake, ValidSwitchingProtocols) {
  const HandshakeResult r = check(accepted_head());
  EXPECT_EQ(r.verdict, Verdict::accepted) << r.reason;
  EXPECT_EQ(r.status, 101);
  EXPECT_EQ(r.host, "b7de88a94729b931.tunnel.test");
}

TEST(AgentHandshake, HeaderNamesAndTokensAreCaseInsensitive) {
  std::string head =
      "HTTP/1.1 101 Switching Protocols\r\nupgrade: WebSocket\r\nconnection: keep-alive, upgrade\r\n"
      "sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nswitchyard-tunnel-host: a.tunnel.test\r\n\r\n";
  const HandshakeResult r = check(head);
  EXPECT_EQ(r.verdict, Verdict::accepted) << r.reason;
  EXPECT_EQ(r.host, "a.tunnel.test");
}

TEST(AgentHandshake, WrongAcceptKeyIsRetried) {
  const HandshakeResult r = check(accepted_head(), {}, "AQIDBAUGBwgJCgsMDQ4PEA==");
  EXPECT_EQ(r.verdict, Verdict::retry);
  EXPECT_NE(r.reason.find("Sec-WebSocket-Accept"), std::string::npos) << r.reason;
}

TEST(AgentHandshake, MissingOrBadHostHeaderIsRetried) {
  EXPECT_EQ(check(accepted_head("")).verdict, Verdict::retry);
  EXPECT_NE(check(accepted_head("")).reason.find("Switchyard-Tunnel-Host"), std::string::npos);
  EXPECT_EQ(check(accepted_head("Switchyard-Tunnel-Host: \r\n")).verdict, Verdict::retry);
  EXPECT_EQ(check(accepted_head("Switchyard-Tunnel-Host: a b\r\n")).verdict, Verdict::retry);
}

TEST(AgentHandshake, MissingUpgradeOrUnaskedExtensionIsRetried) {
  std::string no_upgrade =
      "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSwitchyard-Tunnel-Host: a.t\r\n\r\n";
  EXPECT_EQ(check(no_upgrade).verdict, Verdict::retry);
  EXPECT_EQ(check(accepted_head("Switchyard-Tunnel-Host: a.t\r\nSec-WebSocket-Extensions: permessage-deflate\r\n")).verdict,
            Verdict::retry);
}

TEST(AgentHandshake, UnauthorizedAndConflictExitThree) {
  for (int status : {401, 409}) {
    const std::string head = "HTTP/1.1 " + std::to_string(status) +
                             " Whatever\r\nContent-Type: text/plain\r\nContent-Length: 22\r\n\r\n";
    const HandshakeResult r = check(head, "bad or expired token\r\n");
    EXPECT_EQ(r.verdict, Verdict::refused) << status;
    EXPECT_EQ(r.exit_code, 3) << status;
    EXPECT_EQ(r.status, status);
    EXPECT_EQ(r.reason, "bad or expired token") << "the body's first line is the reason";
  }
}

TEST(AgentHandshake, BadRequestExitsTwoAndReasonFallsBackToThePhrase) {
  const HandshakeResult r = check("HTTP/1.1 400 Bad Tunnel Id\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(r.verdict, Verdict::refused);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.reason, "Bad Tunnel Id");
}

TEST(AgentHandshake, OtherStatusesAreRetried) {
  for (const char* status : {"200 OK", "404 Not Found", "502 Bad Gateway", "503 Service Unavailable"}) {
    const HandshakeResult r = check(std::string("HTTP/1.1 ") + status + "\r\nContent-Length: 0\r\n\r\n");
    EXPECT_EQ(r.verdict, Verdict::retry) << status;
    EXPECT_EQ(r.exit_code, 0) << status;
  }
}

TEST(AgentHandshake, MalformedHeadIsRetriedAndReasonsAreSanitised) {
  EXPECT_EQ(check("HTTP/1.1 101\nUpgrade: websocket\n\n").verdict, Verdict::retry);
  const HandshakeResult r = check("HTTP/1.1 401 x\r\nContent-Length: 5\r\n\r\n", std::string("a\x1b" "[1mb"));
  EXPECT_EQ(r.reason, "a?[1mb");
}

}  // namespace
}  // namespace sy::agent
