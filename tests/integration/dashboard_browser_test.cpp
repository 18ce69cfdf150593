// The live dashboard in a real browser: Debian's headless Chromium, driven by
// playwright-core (tests/browser/dashboard.mjs, npm packages installed into
// the build directory), loads GET /dashboard through the credentialed URL
// http://user:pass@127.0.0.1:port/dashboard while traffic flows, and checks
// the rendered DOM: numbers present, a registered host listed, a host
// registered while the page is open shown within two refreshes. It leaves a
// screenshot at <build>/dashboard.png (docs/img/dashboard.png is one).
#include <filesystem>

#include "tests/integration/integration_fixture.hpp"

namespace sy::test {
namespace {

namespace fs = std::filesystem;

class DashboardBrowserTest : public RouterTest {
 protected:
  void TearDown() override {
    for (Process* p : {&browser_, &load_, &load_missing_})
      if (p->running()) p->kill();
    if (HasFailure()) std::fprintf(stderr, "---- browser ----\n%s\n", tail(browser_.log()).c_str());
    RouterTest::TearDown();
  }

  // playwright-core from the npm registry into <build>/browser-tests (once),
  // next to a copy of the script (ES modules resolve node_modules beside them).
  std::string install_driver() {
    const fs::path dir = fs::path(SY_BIN_DIR) / "browser-tests";
    fs::create_directories(dir);
    const fs::path source = fs::path(SY_SOURCE_DIR) / "tests" / "browser";
    for (const char* f : {"package.json", "dashboard.mjs"})
      fs::copy_file(source / f, dir / f, fs::copy_options::overwrite_existing);
    if (!fs::exists(dir / "node_modules" / "playwright-core" / "package.json")) {
      ProcessOptions npm;
      npm.argv = {"npm", "install", "--no-audit", "--no-fund", "--prefix", dir.string()};
      npm.log_path = dir_.file("npm.log");
      const auto code = run_process(npm, std::chrono::seconds(240));
      EXPECT_EQ(code, std::optional<int>(0)) << read_file(npm.log_path);
    }
    return (dir / "dashboard.mjs").string();
  }

  void start_load(Process& p, const std::string& host, int per_second, const std::string& name) {
    ProcessOptions o;
    o.argv = {"curl", "-s", "-o", "/dev/null", "--rate", std::to_string(per_second) + "/s", "-m", "90", "-H",
              "Host: " + host, router_.url("/load/[1-" + std::to_string(per_second * 80) + "]")};
    o.log_path = dir_.file(name + ".log");
    ASSERT_TRUE(p.start(o)) << p.error();
  }

  Process browser_, load_, load_missing_;
};

TEST_F(DashboardBrowserTest, RendersLiveNumbersRoutesAndNewRegistrations) {
  if (!is_executable("/usr/bin/chromium") || !is_executable("/usr/bin/node"))
    GTEST_SKIP() << "chromium or node not installed (scripts/install-deps.sh --with-tests)";
  const std::string script = install_driver();
  ASSERT_FALSE(HasFailure());
  ASSERT_NO_FATAL_FAILURE(start_all());
  EchoBackend& shop = start_echo("shop");
  EchoBackend& api = start_echo("api");
  ASSERT_NO_FATAL_FAILURE(route("shop.example.com", shop.port(), R"("tags":{"component":"route-emitter"})"));
  ASSERT_NO_FATAL_FAILURE(route("api.example.com", api.port(), R"("tags":{"component":"CloudController"})"));
  ASSERT_NO_FATAL_FAILURE(start_load(load_, "shop.example.com", 30, "load-shop"));
  ASSERT_NO_FATAL_FAILURE(start_load(load_missing_, "missing.example.com", 3, "load-404"));

  const RouterConfig& cfg = router_.config();
  const std::string url = "http://" + cfg.status_user + ":" + cfg.status_pass + "@127.0.0.1:" +
                          std::to_string(router_.status_port()) + "/dashboard";
  const std::string ready = dir_.file("browser.ready"), trigger = dir_.file("browser.trigger");
  const std::string screenshot = (fs::path(SY_BIN_DIR) / "dashboard.png").string();
  ProcessOptions o;
  o.argv = {"node", script, "--url", url, "--host", "shop.example.com", "--new-host", "fresh.example.com",
            "--ready", ready, "--trigger", trigger, "--screenshot", screenshot};
  o.log_path = dir_.file("browser.log");
  ASSERT_TRUE(browser_.start(o)) << browser_.error();

  ASSERT_TRUE(wait_until([&] { return fs::exists(ready) || !browser_.running(); }, std::chrono::seconds(60)))
      << browser_.log();
  ASSERT_TRUE(fs::exists(ready)) << "the page never got ready:\n" << browser_.log();
  EchoBackend& fresh = start_echo("fresh");
  ASSERT_NO_FATAL_FAILURE(route("fresh.example.com", fresh.port()));
  dir_.write_file("browser.trigger", "go\n");
  const auto code = browser_.wait_exit(std::chrono::seconds(30));
  EXPECT_EQ(code, std::optional<int>(0)) << browser_.log();
  EXPECT_TRUE(fs::exists(screenshot));
  std::fprintf(stderr, "%s", browser_.log().c_str());
}

TEST_F(DashboardBrowserTest, PageAndJsonNeedBasicAuth) {
  ASSERT_NO_FATAL_FAILURE(start_all());
  EXPECT_EQ(router_.status_get("/dashboard").status, 401);
  EXPECT_EQ(router_.status_get("/dashboard.json").status, 401);
  const std::string user = router_.config().status_user + ":" + router_.config().status_pass;
  const HttpResponse page = router_.status_get("/dashboard", user);
  ASSERT_EQ(page.status, 200) << page.describe();
  EXPECT_NE(page.body.find("<title>switchyard</title>"), std::string::npos);
  const HttpResponse json = router_.status_get("/dashboard.json?host=x&limit=5", user);
  ASSERT_EQ(json.status, 200) << json.describe();
  EXPECT_NE(json.body.find("\"routes\":{"), std::string::npos) << json.body;
}

}  // namespace
}  // namespace sy::test
