// config/: the `sealed_gateway:` section (SPEC §7) — defaults, every key,
// and bad values that stop the start naming the key (the secret never echoed).
#include <gtest/gtest.h>

#include <string>

#include "config/config.hpp"

namespace sy::config {
namespace {

using namespace std::chrono_literals;

Config parse_ok(const std::string& yaml) {
  auto result = parse_config(yaml);
  if (auto* error = std::get_if<ConfigError>(&result)) {
    ADD_FAILURE() << "unexpected error: " << error->message << "\nfor:\n" << yaml;
    return Config{};
  }
  return std::get<Config>(result);
}

std::string parse_error(const std::string& yaml) {
  auto result = parse_config(yaml);
  if (auto* error = std::get_if<ConfigError>(&result)) return error->message;
  ADD_FAILURE() << "expected an error for:\n" << yaml;
  return "";
}

TEST(SealedGatewayConfig, AbsentOrNullIsOff) {
  EXPECT_FALSE(parse_ok("").sealed_gateway.enabled);
  EXPECT_FALSE(parse_ok("port: 8081\n").sealed_gateway.enabled);
  EXPECT_FALSE(parse_ok("sealed_gateway:\n").sealed_gateway.enabled);
}

TEST(SealedGatewayConfig, DefaultsOnceEnabled) {
  const SealedGatewayConfig g = parse_ok("sealed_gateway:\n  port: 4400\n  secret: \"p0S8rX680*48\"\n").sealed_gateway;
  EXPECT_TRUE(g.enabled);
  EXPECT_EQ(g.host, "0.0.0.0");
  EXPECT_EQ(g.port, 4400);
  EXPECT_EQ(g.secret, "p0S8rX680*48");
  EXPECT_EQ(g.connect_timeout, 3s);
  EXPECT_EQ(g.retry, 1);
  EXPECT_EQ(g.read_timeout, 10s);
  EXPECT_EQ(g.relay, SealedGatewayConfig::Relay::splice);
}

TEST(SealedGatewayConfig, EveryKey) {
  const Config c = parse_ok(
      "sealed_gateway:\n  host: 127.0.0.1\n  port: 4401\n  secret: s3\n  connect_timeout: 1500ms\n  retry: 3\n"
      "  read_timeout: 2\n  relay: copy\n  unknown_thing: 1\n");
  const SealedGatewayConfig& g = c.sealed_gateway;
  EXPECT_EQ(g.host, "127.0.0.1");
  EXPECT_EQ(g.port, 4401);
  EXPECT_EQ(g.secret, "s3");
  EXPECT_EQ(g.connect_timeout, 1500ms);
  EXPECT_EQ(g.retry, 3);
  EXPECT_EQ(g.read_timeout, 2s);
  EXPECT_EQ(g.relay, SealedGatewayConfig::Relay::copy);
  ASSERT_EQ(c.ignored_keys.size(), 1u);
  EXPECT_EQ(c.ignored_keys[0], "sealed_gateway.unknown_thing");
}

TEST(SealedGatewayConfig, PortAndSecretAreRequired) {
  EXPECT_NE(parse_error("sealed_gateway:\n  secret: x\n").find("sealed_gateway.port: required"), std::string::npos);
  EXPECT_NE(parse_error("sealed_gateway:\n  port: 4400\n").find("sealed_gateway.secret: required"), std::string::npos);
  EXPECT_NE(parse_error("sealed_gateway:\n  port: 4400\n  secret: \"\"\n").find("sealed_gateway.secret: must not be empty"),
            std::string::npos);
  EXPECT_NE(parse_error("sealed_gateway:\n  port: 4400\n  secret: [a, b]\n").find("sealed_gateway.secret"),
            std::string::npos);
}

TEST(SealedGatewayConfig, BadValuesNameTheirKey) {
  const struct {
    std::string line, key;
  } cases[] = {
      {"  port: 0\n", "sealed_gateway.port"},
      {"  port: 70000\n", "sealed_gateway.port"},
      {"  host: \"\"\n", "sealed_gateway.host"},
      {"  connect_timeout: 0s\n", "sealed_gateway.connect_timeout"},
      {"  connect_timeout: soon\n", "sealed_gateway.connect_timeout"},
      {"  read_timeout: -1s\n", "sealed_gateway.read_timeout"},
      {"  retry: 0\n", "sealed_gateway.retry"},
      {"  retry: 101\n", "sealed_gateway.retry"},
      {"  relay: zerocopy\n", "sealed_gateway.relay"},
  };
  for (const auto& c : cases) {
    // A later duplicate key fails as a duplicate, so the bad value replaces the base line.
    std::string yaml = "sealed_gateway:\n  secret: topsecret\n" + c.line;
    if (c.key != "sealed_gateway.port") yaml += "  port: 4400\n";
    const std::string message = parse_error(yaml);
    EXPECT_EQ(message.rfind(c.key, 0), 0u) << c.line << " -> " << message;
    EXPECT_EQ(message.find("topsecret"), std::string::npos) << message;
  }
  EXPECT_NE(parse_error("sealed_gateway: 4400\n").find("sealed_gateway"), std::string::npos);
}

}  // namespace
}  // namespace sy::config
