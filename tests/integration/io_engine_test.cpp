// `io_engine`: each engine by name proxies and the start log says which one
// runs; auto takes io_uring where the kernel allows it and, where a seccomp
// filter refuses io_uring_setup (as container runtimes' default profiles
// do), falls back to epoll and says so once; io_uring by name where it is
// refused stops the start; a bad value stops the start naming the key.
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>

#include "tests/integration/integration_fixture.hpp"

namespace sy::test {
namespace {

using std::chrono::seconds;

class IoEngineTest : public RouterTest {
 protected:
  // This test chooses the engine itself (SY_TEST_IO_ENGINE would add a
  // second io_engine key).
  void SetUp() override { ::unsetenv("SY_TEST_IO_ENGINE"); }

  // The router's binary behind a seccomp filter refusing io_uring_setup.
  void refuse_io_uring() {
    const std::string wrapper = dir_.file("switchyard-no-io-uring");
    std::ofstream(wrapper) << "#!/bin/sh\nexec " << SY_BIN_DIR << "/tests/no-io-uring " << test_binaries().switchyard
                           << " \"$@\"\n";
    ASSERT_EQ(::chmod(wrapper.c_str(), 0755), 0);
    router_.set_program(wrapper);
  }

  size_t count(const std::string& what) {
    const std::string log = router_.log();
    size_t n = 0;
    for (size_t at = log.find(what); at != std::string::npos; at = log.find(what, at + 1)) ++n;
    return n;
  }

  void proxies_a_request() {
    EchoBackend& echo = start_echo("engine");
    ASSERT_NO_FATAL_FAILURE(route("engine.example.com", echo.port()));
    const HttpResponse r = router_.get("engine.example.com", "/");
    EXPECT_EQ(r.status, 200) << r.describe();
    EXPECT_EQ(parse_echo(r.body).name, "engine");
  }
};

TEST_F(IoEngineTest, EpollByName) {
  RouterConfig config;
  config.extra_yaml = "io_engine: epoll\n";
  ASSERT_NO_FATAL_FAILURE(start_all(config));
  EXPECT_EQ(count("io_engine=epoll"), 1u) << router_.log();
  ASSERT_NO_FATAL_FAILURE(proxies_a_request());
}

TEST_F(IoEngineTest, IoUringByNameOrAClearRefusal) {
  RouterConfig config;
  config.extra_yaml = "io_engine: io_uring\n";
  ASSERT_NO_FATAL_FAILURE(start_nats());
  ASSERT_TRUE(router_.start(config, *nats_)) << router_.process().error();
  if (!router_.wait_healthy()) {
    ASSERT_NE(router_.log().find("io_engine: io_uring is not available here"), std::string::npos) << router_.log();
    GTEST_SKIP() << "io_uring is not available on this machine";
  }
  EXPECT_EQ(count("io_engine=io_uring"), 1u) << router_.log();
  ASSERT_NO_FATAL_FAILURE(proxies_a_request());
}

TEST_F(IoEngineTest, AutoFallsBackToEpollWhereSeccompRefusesIoUring) {
  ASSERT_NO_FATAL_FAILURE(refuse_io_uring());
  ASSERT_NO_FATAL_FAILURE(start_all());  // io_engine defaults to auto
  EXPECT_EQ(count("io-engine-fallback"), 1u) << router_.log();
  EXPECT_NE(router_.log().find("io_uring_setup: Operation not permitted"), std::string::npos) << router_.log();
  EXPECT_EQ(count("io_engine=epoll"), 1u) << router_.log();
  ASSERT_NO_FATAL_FAILURE(proxies_a_request());
}

TEST_F(IoEngineTest, IoUringByNameWhereRefusedStopsTheStart) {
  ASSERT_NO_FATAL_FAILURE(refuse_io_uring());
  RouterConfig config;
  config.extra_yaml = "io_engine: io_uring\n";
  ASSERT_NO_FATAL_FAILURE(start_nats());
  ASSERT_TRUE(router_.start(config, *nats_)) << router_.process().error();
  const auto code = router_.process().wait_exit(seconds(10));
  ASSERT_TRUE(code.has_value()) << "switchyard kept running without the engine it was told to use";
  EXPECT_NE(*code, 0);
  EXPECT_NE(router_.log().find("io_engine: io_uring is not available here (io_uring_setup: Operation not permitted)"),
            std::string::npos)
      << router_.log();
}

TEST_F(IoEngineTest, BadValueStopsTheStartNamingTheKey) {
  RouterConfig config;
  config.extra_yaml = "io_engine: kqueue\n";
  ASSERT_NO_FATAL_FAILURE(start_nats());
  ASSERT_TRUE(router_.start(config, *nats_)) << router_.process().error();
  const auto code = router_.process().wait_exit(seconds(10));
  ASSERT_TRUE(code.has_value()) << "switchyard started with io_engine: kqueue";
  EXPECT_NE(*code, 0);
  EXPECT_NE(router_.log().find("io_engine: value \"kqueue\" is not an io engine (auto, io_uring or epoll)"),
            std::string::npos)
      << router_.log();
}

}  // namespace
}  // namespace sy::test
