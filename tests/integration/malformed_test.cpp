// Hostile input: malformed registry messages never crash or block the router
// (they are dropped and counted), and a bad config file stops the start with
// exit code 2 and a message naming the key.
#include <random>

#include "tests/integration/integration_fixture.hpp"

namespace sy::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// Just under nats-server's default max_payload (1 MiB).
constexpr size_t kNearMaxPayload = 1024 * 1024 - 1024;

std::string repeat(const std::string& text, size_t times) {
  std::string out;
  out.reserve(text.size() * times);
  for (size_t i = 0; i < times; ++i) out += text;
  return out;
}

// Every payload here must be rejected as a whole. `valid_port` is a live
// endpoint of valid.example.com: a message that was applied in part would
// unregister it.
std::vector<std::string> malformed_corpus(uint16_t valid_port) {
  const std::string p = std::to_string(valid_port);
  const std::string ok_head = R"({"host":"127.0.0.1","port":)" + p + ",";
  std::vector<std::string> corpus = {
      "not json at all",
      R"({"host":"127.0.0.1","port":)",                                        // truncated
      ok_head + R"("uris":["valid.example.com"])",                             // missing closing brace
      R"({"host":123,"port":)" + p + R"(,"uris":["valid.example.com"]})",      // host not a string
      R"({"host":"127.0.0.1","port":"80","uris":["m.example.com"]})",          // port as a string
      R"({"host":"127.0.0.1","port":0,"uris":["m.example.com"]})",
      R"({"host":"127.0.0.1","port":70000,"uris":["m.example.com"]})",
      R"({"host":"127.0.0.1","port":-1,"uris":["m.example.com"]})",
      R"({"host":"127.0.0.1","port":1.5,"uris":["m.example.com"]})",
      R"({"host":"127.0.0.1","port":true,"uris":["m.example.com"]})",
      ok_head + R"("uris":"valid.example.com"})",                              // uris not a list
      ok_head + R"("uris":[]})",                                               // empty uris
      ok_head + R"("uris":[123]})",
      ok_head + R"("uris":[null]})",
      ok_head + R"("uris":["valid.example.com","has space.example.com"]})",   // one bad uri
      ok_head + R"("uris":["valid.example.com","http://x.example.com"]})",    // scheme
      ok_head + R"("uris":["\u00fcn\u00efc\u00f8d\u00e9 host"]})",
      R"({"port":)" + p + R"(,"uris":["valid.example.com"]})",                 // host missing
      R"({"host":"127.0.0.1","uris":["valid.example.com"]})",                  // port missing
      R"({"host":"127.0.0.1","port":)" + p + "}",                              // uris missing
      R"({"host":"127.0.0.1","port":0,"port":70000,"uris":["m.example.com"]})",  // duplicated keys, both bad
      "null",
      "",
      "[]",
      "\"just a string\"",
      "42",
      "\xff\xfe\xfd\x80 junk \xc3\x28 \xe2\x98\x83 {{{",                        // invalid UTF-8
      ok_head + R"("uris":)" + repeat("[", 10000) + repeat("]", 10000) + "}",  // deeply nested uris
      repeat("[", 10000) + repeat("]", 10000),                                 // deeply nested document
      repeat("{\"a\":", 5000) + "1" + repeat("}", 5000),                       // deeply nested objects
  };
  // ~1 MiB of seeded JSON-ish garbage.
  std::mt19937 random(12345);
  const std::string alphabet = "{}[]\":,0123456789abcdef \\\n";
  std::string garbage = "{";
  while (garbage.size() < kNearMaxPayload) garbage += alphabet[random() % alphabet.size()];
  corpus.push_back(garbage);
  // A valid JSON document whose host is a ~1 MiB string.
  const std::string tail = R"(","port":)" + p + R"(,"uris":["valid.example.com"]})";
  const std::string head = R"({"host":")";
  corpus.push_back(head + std::string(kNearMaxPayload - head.size() - tail.size(), 'h') + tail);
  return corpus;
}

class MalformedTest : public RouterTest {};

TEST_F(MalformedTest, MalformedRegistryMessagesAreDroppedAndCounted) {
  ASSERT_NO_FATAL_FAILURE(start_all());
  EchoBackend& echo = start_echo("valid");
  ASSERT_NO_FATAL_FAILURE(route("valid.example.com", echo.port()));
  const double invalid_before = metric_sum(router_.metrics(), "registry_message_invalid_total");

  const std::vector<std::string> corpus = malformed_corpus(echo.port());
  ASSERT_GE(corpus.size(), 20u);
  for (const std::string& payload : corpus) {
    ASSERT_TRUE(client_.publish_async("router.register", payload)) << client_.error();
    ASSERT_TRUE(client_.publish_async("router.unregister", payload)) << client_.error();
  }
  // A valid registration after the corpus: once it is routable, every
  // message before it was handled (one subscriber, in order).
  ASSERT_TRUE(register_route(client_, echo.port(), {"sentinel.example.com"})) << client_.error();
  ASSERT_TRUE(client_.flush()) << client_.error();
  const bool handled = wait_until(
      [&] { return !router_.process().running() || router_.get("sentinel.example.com", "/").status == 200; },
      seconds(10), milliseconds(50));
  ASSERT_TRUE(router_.process().running()) << "router died on malformed input";
  EXPECT_TRUE(handled) << "the registration after the corpus never became routable";
  const double invalid_after = metric_sum(router_.metrics(), "registry_message_invalid_total");
  EXPECT_EQ(invalid_after - invalid_before, 2.0 * static_cast<double>(corpus.size()))
      << router_.status_get("/metrics").body;

  EXPECT_EQ(router_.health_status(), 200);
  const HttpResponse response = router_.get("valid.example.com", "/still");
  EXPECT_EQ(response.status, 200) << response.describe();
  EXPECT_EQ(router_.get("m.example.com", "/").status, 404);
  // The subscriber still works.
  EchoBackend& late = start_echo("late");
  ASSERT_TRUE(register_route(client_, late.port(), {"late.example.com"}));
  EXPECT_TRUE(wait_routable(router_, "late.example.com", 200)) << router_.get("late.example.com").describe();
  EXPECT_TRUE(router_.process().running());
}

class ConfigErrorTest : public ::testing::Test {
 protected:
  // Runs `switchyard -c FILE`; returns the exit code and fills stderr_.
  std::optional<int> run_with(const std::string& yaml) {
    const Binaries binaries = test_binaries();
    EXPECT_TRUE(is_executable(binaries.switchyard)) << "missing binary " << binaries.switchyard;
    ProcessOptions options;
    options.argv = {binaries.switchyard, "-c", dir_.write_file("bad.yml", yaml)};
    options.log_path = dir_.file("stdout.log");
    options.stderr_path = dir_.file("stderr.log");
    const auto code = run_process(options, seconds(10));
    stderr_ = read_file(options.stderr_path);
    return code;
  }

  TempDir dir_;
  std::string stderr_;
};

TEST_F(ConfigErrorTest, PortOutOfRangeExits2NamingTheKey) {
  const auto code = run_with("port: 70000\n");
  EXPECT_EQ(code, std::optional<int>(2)) << stderr_;
  EXPECT_NE(stderr_.find("port"), std::string::npos) << stderr_;
  EXPECT_NE(stderr_.find("70000"), std::string::npos) << stderr_;
}

TEST_F(ConfigErrorTest, NestedBadValueExits2NamingThePath) {
  const auto code = run_with("nats:\n  hosts:\n    - hostname: 127.0.0.1\n      port: nope\n");
  EXPECT_EQ(code, std::optional<int>(2)) << stderr_;
  EXPECT_NE(stderr_.find("port"), std::string::npos) << stderr_;
}

TEST_F(ConfigErrorTest, YamlSyntaxErrorExits2) {
  const auto code = run_with("port: [8081\nstatus: {\n");
  EXPECT_EQ(code, std::optional<int>(2)) << stderr_;
  EXPECT_FALSE(stderr_.empty());
}

}  // namespace
}  // namespace sy::test
