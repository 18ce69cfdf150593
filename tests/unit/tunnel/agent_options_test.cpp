// switchyard-tunnel's command line: what parses, and every exit-2 case.
#include <gtest/gtest.h>

#include "tunnel/agent/options.hpp"

namespace sy::agent {
namespace {

using Args = std::vector<std::string>;

Args base() { return {"--server", "ws://127.0.0.1:8443", "--id", "abc-123", "--to", "127.0.0.1:8080"}; }

Args with(Args args, std::initializer_list<std::string> more) {
  args.insert(args.end(), more);
  return args;
}

TEST(AgentOptions, MinimalFlagsAndDefaults) {
  ParseResult r = parse_options(base());
  ASSERT_TRUE(r.options) << r.error;
  const Options& o = *r.options;
  ASSERT_EQ(o.servers.size(), 1u);
  EXPECT_FALSE(o.servers[0].tls);
  EXPECT_EQ(o.servers[0].host, "127.0.0.1");
  EXPECT_EQ(o.servers[0].port, 8443);
  EXPECT_EQ(o.servers[0].text, "ws://127.0.0.1:8443");
  EXPECT_EQ(o.id, "abc-123");
  EXPECT_EQ(o.to_host, "127.0.0.1");
  EXPECT_EQ(o.to_port, 8080);
  EXPECT_EQ(o.connections, 2);
  EXPECT_TRUE(o.token.empty());
  EXPECT_TRUE(o.label.empty());
  EXPECT_TRUE(o.ca_file.empty());
}

TEST(AgentOptions, EveryFlagBothSpellings) {
  ParseResult r = parse_options({"--server=wss://tunnel.example.com", "--server", "ws://[::1]:9000/", "--id=x.y_z",
                                 "--token", "123.abcdef", "--label=my-app", "--to=localhost:3000",
                                 "--connections", "4", "--ca", "/tmp/ca.pem", "--log-level=debug"});
  ASSERT_TRUE(r.options) << r.error;
  const Options& o = *r.options;
  ASSERT_EQ(o.servers.size(), 2u);
  EXPECT_TRUE(o.servers[0].tls);
  EXPECT_EQ(o.servers[0].port, 443);
  EXPECT_EQ(o.servers[0].authority(), "tunnel.example.com");
  EXPECT_EQ(o.servers[1].host, "::1");
  EXPECT_EQ(o.servers[1].authority(), "[::1]:9000");
  EXPECT_EQ(o.token, "123.abcdef");
  EXPECT_EQ(o.label, "my-app");
  EXPECT_EQ(o.to_host, "localhost");
  EXPECT_EQ(o.connections, 4);
  EXPECT_EQ(o.ca_file, "/tmp/ca.pem");
  EXPECT_EQ(o.log_level, "debug");
}

TEST(AgentOptions, HelpIsNotAnError) {
  ParseResult r = parse_options({"--help"});
  EXPECT_TRUE(r.help);
  EXPECT_FALSE(r.options);
}

// Each of these must be refused with a message (main exits 2).
TEST(AgentOptions, BadFlagsAreRefused) {
  const std::vector<std::pair<const char*, Args>> cases = {
      {"no args", {}},
      {"missing --server", {"--id", "a", "--to", "127.0.0.1:1"}},
      {"missing --id", {"--server", "ws://h:1", "--to", "127.0.0.1:1"}},
      {"missing --to", {"--server", "ws://h:1", "--id", "a"}},
      {"http scheme", with({"--id", "a", "--to", "h:1"}, {"--server", "http://h:1"})},
      {"no scheme", with({"--id", "a", "--to", "h:1"}, {"--server", "h:1"})},
      {"a path", with({"--id", "a", "--to", "h:1"}, {"--server", "ws://h:1/v1/tunnel"})},
      {"userinfo", with({"--id", "a", "--to", "h:1"}, {"--server", "ws://u@h:1"})},
      {"port 0", with({"--id", "a", "--to", "h:1"}, {"--server", "ws://h:0"})},
      {"port too big", with({"--id", "a", "--to", "h:1"}, {"--server", "ws://h:65536"})},
      {"empty host", with({"--id", "a", "--to", "h:1"}, {"--server", "ws://:80"})},
      {"id with a space", with(base(), {"--id", "a b"})},
      {"id too long", with(base(), {"--id", std::string(65, 'a')})},
      {"empty id", with(base(), {"--id", ""})},
      {"label with a dot", with(base(), {"--label", "a.b"})},
      {"label upper case", with(base(), {"--label", "App"})},
      {"label leading dash", with(base(), {"--label", "-a"})},
      {"token with a newline", with(base(), {"--token", "a\r\nX-Evil: 1"})},
      {"token with a space", with(base(), {"--token", "a b"})},
      {"--to without a port", with(base(), {"--to", "127.0.0.1"})},
      {"--to port 0", with(base(), {"--to", "127.0.0.1:0"})},
      {"connections 0", with(base(), {"--connections", "0"})},
      {"connections 65", with(base(), {"--connections", "65"})},
      {"connections text", with(base(), {"--connections", "two"})},
      {"a flag without its value", with(base(), {"--label"})},
      {"unknown flag", with(base(), {"--bogus", "1"})},
      {"stray argument", with(base(), {"extra"})},
      {"bad log level", with(base(), {"--log-level", "loud"})},
  };
  for (const auto& [name, args] : cases) {
    ParseResult r = parse_options(args);
    EXPECT_FALSE(r.options) << name;
    EXPECT_FALSE(r.help) << name;
    EXPECT_FALSE(r.error.empty()) << name;
  }
}

TEST(AgentOptions, IdRuleIsSpecs) {
  EXPECT_TRUE(valid_tunnel_id("381433e1-7980-11ee-bbdb-60f262c1e32d"));
  EXPECT_TRUE(valid_tunnel_id(std::string(64, 'Z')));
  EXPECT_TRUE(valid_tunnel_id("a.b_c-D9"));
  EXPECT_FALSE(valid_tunnel_id("a/b"));
  EXPECT_FALSE(valid_tunnel_id("é"));
}

// SPEC §7: --tcp, a declared address, and the edge-policy flags, which
// become one wire line with the password hashed.
TEST(AgentOptions, TcpAddressAndEdgePolicy) {
  ParseResult r = parse_options(with(base(), {"--tcp", "--advertise-address", "[FD00::1]:22"}));
  ASSERT_TRUE(r.options) << r.error;
  EXPECT_TRUE(r.options->tcp);
  EXPECT_EQ(r.options->advertise_address, "[fd00::1]:22");
  EXPECT_FALSE(parse_options(with(base(), {"--advertise-address", "db.internal:22"})).options);
  EXPECT_FALSE(parse_options(with(base(), {"--advertise-address", "10.1.2.3"})).options);

  r = parse_options(with(base(), {"--basic-auth", "alice:wonder", "--allow", "10.0.0.0/8", "--allow=::1",
                                  "--rate", "5/s"}));
  ASSERT_TRUE(r.options) << r.error;
  Options o = *r.options;
  std::string error;
  ASSERT_TRUE(apply_edge_policy(o, &error)) << error;
  EXPECT_NE(o.policy.find("auth=sha256:"), std::string::npos) << o.policy;
  EXPECT_NE(o.policy.find("allow=10.0.0.0/8,::1/128"), std::string::npos) << o.policy;
  EXPECT_NE(o.policy.find("rate=5/s"), std::string::npos) << o.policy;
  EXPECT_EQ(o.policy.find("wonder"), std::string::npos) << "the password left the agent";

  Options tcp = *parse_options(with(base(), {"--tcp", "--basic-auth", "a:b"})).options;
  EXPECT_FALSE(apply_edge_policy(tcp, &error)) << "credentials cannot guard raw bytes";
  Options bad = *parse_options(with(base(), {"--allow", "10.0.0.0/33"})).options;
  EXPECT_FALSE(apply_edge_policy(bad, &error));
  Options none = *parse_options(base()).options;
  EXPECT_TRUE(apply_edge_policy(none, &error));
  EXPECT_EQ(none.policy, "");
  EXPECT_FALSE(parse_options(with(base(), {"--basic-auth", ":pass"})).options);
}

}  // namespace
}  // namespace sy::agent
