// switchyard-registrar end to end: a real nats-server, a real switchyard
// router, real echo backends and the real registrar process. Services come
// and go with their health checks (HTTP, TCP, script), SIGTERM removes them at
// once (the router's stale threshold is 120 s, so only an unregister can), a
// restarted router or NATS learns them again, router.start can speed up
// heartbeats, and the one-shot CLI and config errors behave.
#include <signal.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <regex>

#include "tests/integration/integration_fixture.hpp"

namespace sy::test {
namespace {

using Clock = std::chrono::steady_clock;

std::string registrar_binary() {
  const char* env = std::getenv("SY_REGISTRAR_BIN");
  return env != nullptr && *env != '\0' ? env : std::string(SY_BIN_DIR) + "/switchyard-registrar";
}

// A process that has exited (gone, or a zombie nobody has reaped yet).
bool process_dead(const std::string& pid_text) {
  const long pid = std::strtol(pid_text.c_str(), nullptr, 10);
  if (pid <= 0) return false;
  const std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  if (stat.empty()) return true;
  const size_t paren = stat.rfind(')');
  return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] == 'Z';
}

struct RouteYaml {
  std::string name;
  uint16_t port = 0;
  std::string uri;
  std::string interval = "1s";
  std::string extra{};  // more keys, e.g. "    health_check: {type: tcp}\n"
};

std::string route_yaml(const RouteYaml& r) {
  return "  - name: " + r.name + "\n    port: " + std::to_string(r.port) + "\n    uris: [" + r.uri +
         "]\n    registration_interval: " + r.interval + "\n" + r.extra;
}

class RegistrarTest : public RouterTest {
 protected:
  void TearDown() override {
    if (HasFailure()) {
      dump_logs();
      std::fprintf(stderr, "---- registrar log ----\n%s\n", tail(registrar_.log()).c_str());
    }
  }

  std::string nats_yaml(const std::string& reconnect_wait = "100ms") const {
    return "nats:\n  hosts: [{hostname: 127.0.0.1, port: " + std::to_string(nats_->port()) +
           "}]\n  reconnect_wait: " + reconnect_wait + "\n";
  }

  void start_registrar(const std::vector<RouteYaml>& routes, const std::string& top = "") {
    std::string yaml = (top.empty() ? nats_yaml() : top) + "host: 127.0.0.1\nlogging: {level: debug}\nroutes:\n";
    for (const RouteYaml& r : routes) yaml += route_yaml(r);
    start_registrar_yaml(yaml);
  }

  void start_registrar_yaml(const std::string& yaml) {
    ASSERT_TRUE(is_executable(registrar_binary())) << "missing binary " << registrar_binary();
    ProcessOptions options;
    options.argv = {registrar_binary(), "-c", dir_.write_file("registrar.yml", yaml)};
    options.log_path = dir_.file("registrar.log");
    ASSERT_TRUE(registrar_.start(options)) << registrar_.error();
  }

  // Runs the registrar to completion: exit code, output in `output`.
  int run_registrar(const std::vector<std::string>& args, std::string* output = nullptr) {
    ProcessOptions options;
    options.argv = {registrar_binary()};
    options.argv.insert(options.argv.end(), args.begin(), args.end());
    options.log_path = dir_.file("registrar-run.log");
    std::remove(options.log_path.c_str());
    const std::optional<int> code = run_process(options, std::chrono::milliseconds(20000));
    if (output != nullptr) *output = read_file(options.log_path);
    return code.value_or(-1);
  }

  bool reachable_within(const std::string& host, int status, std::chrono::milliseconds timeout) {
    return wait_routable(router_, host, status, "/", timeout);
  }

  Process registrar_;
};

TEST_F(RegistrarTest, RegistersServiceAndSigtermRemovesItAtOnce) {
  ASSERT_NO_FATAL_FAILURE(start_all());
  EchoBackend& echo = start_echo("svc");
  ASSERT_NO_FATAL_FAILURE(start_registrar({{"svc", echo.port(), "svc.example.com", "2s"}}));
  ASSERT_TRUE(reachable_within("svc.example.com", 200, 5s)) << router_.get("svc.example.com").describe();
  const HttpResponse response = router_.get("svc.example.com");
  EXPECT_EQ(parse_echo(response.body).name, "svc");
  static const std::regex uuid("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$");
  EXPECT_TRUE(std::regex_match(parse_echo(response.body).header("x-cf-instanceid"), uuid)) << response.body;

  ASSERT_TRUE(registrar_.signal(SIGTERM));
  EXPECT_EQ(registrar_.wait_exit(5s), 0);
  EXPECT_TRUE(reachable_within("svc.example.com", 404, 1s)) << router_.get("svc.example.com").describe();
  EXPECT_NE(registrar_.log().find("routes-unregistered"), std::string::npos);
}

TEST_F(RegistrarTest, HttpCheckFailureUnregistersAndRecoveryRegisters) {
  ASSERT_NO_FATAL_FAILURE(start_all());
  EchoBackend& svc = start_echo("svc");
  EchoBackend& health = start_echo("health");
  const std::string base = "http://127.0.0.1:" + std::to_string(health.port());
  const uint16_t health_port = health.port();
  ASSERT_NO_FATAL_FAILURE(start_registrar({
      {"web", svc.port(), "web.example.com", "1s", "    health_check: {url: \"" + base + "/status/200\"}\n"},
      {"bad", svc.port(), "bad.example.com", "1s", "    health_check: {url: \"" + base + "/status/503\"}\n"},
      {"teapot", svc.port(), "teapot.example.com", "1s",
       "    health_check: {url: \"" + base + "/status/418\", expected_status: 418}\n"},
  }));
  ASSERT_TRUE(reachable_within("web.example.com", 200, 5s));
  ASSERT_TRUE(reachable_within("teapot.example.com", 200, 5s));
  // Two more heartbeats of `web` (a second interval's checks have run): by
  // then a 503 check would have registered `bad` if it ever did.
  NatsSubscription* registers = client_.subscribe("router.register");
  ASSERT_NE(registers, nullptr) << client_.error();
  auto is_web = [](const NatsMessage& m) { return m.data.find("web.example.com") != std::string::npos; };
  ASSERT_TRUE(registers->wait_for_message(5s, is_web).has_value());
  ASSERT_TRUE(registers->wait_for_message(5s, is_web).has_value());
  for (const NatsMessage& m : registers->messages())
    EXPECT_EQ(m.data.find("bad.example.com"), std::string::npos) << "a failing check registered: " << m.data;
  EXPECT_EQ(router_.get("bad.example.com").status, 404);

  health.stop();  // the check's connection is refused
  const auto failed_at = Clock::now();
  ASSERT_TRUE(reachable_within("web.example.com", 404, 3s)) << router_.get("web.example.com").describe();
  EXPECT_LT(Clock::now() - failed_at, 2500ms);
  ASSERT_TRUE(health.start("health", health_port));
  EXPECT_TRUE(reachable_within("web.example.com", 200, 3s)) << router_.get("web.example.com").describe();
}

TEST_F(RegistrarTest, TcpCheckFollowsTheBackend) {
  ASSERT_NO_FATAL_FAILURE(start_all());
  EchoBackend& svc = start_echo("tcp");
  const uint16_t port = svc.port();
  ASSERT_NO_FATAL_FAILURE(
      start_registrar({{"tcp", port, "tcp.example.com", "1s", "    health_check: {type: tcp, timeout: 300ms}\n"}}));
  ASSERT_TRUE(reachable_within("tcp.example.com", 200, 5s));
  svc.stop();
  EXPECT_TRUE(reachable_within("tcp.example.com", 404, 3s)) << router_.get("tcp.example.com").describe();
  ASSERT_TRUE(svc.start("tcp", port));
  EXPECT_TRUE(reachable_within("tcp.example.com", 200, 3s)) << router_.get("tcp.example.com").describe();
}

TEST_F(RegistrarTest, ScriptCheckFollowsAFile) {
  ASSERT_NO_FATAL_FAILURE(start_all());
  EchoBackend& svc = start_echo("script");
  const std::string flag = dir_.file("up");
  dir_.write_file("up", "");
  ASSERT_NO_FATAL_FAILURE(start_registrar({{"script", svc.port(), "script.example.com", "1s",
                                            "    health_check: {script_path: /usr/bin/test, args: [-f, \"" + flag +
                                                "\"], timeout: 500ms}\n"}}));
  ASSERT_TRUE(reachable_within("script.example.com", 200, 5s));
  std::remove(flag.c_str());
  EXPECT_TRUE(reachable_within("script.example.com", 404, 3s)) << router_.get("script.example.com").describe();
  dir_.write_file("up", "");
  EXPECT_TRUE(reachable_within("script.example.com", 200, 3s)) << router_.get("script.example.com").describe();
}

TEST_F(RegistrarTest, HungScriptIsKilledWithItsProcessGroup) {
  ASSERT_NO_FATAL_FAILURE(start_all());
  EchoBackend& svc = start_echo("hang");
  const std::string d = dir_.path();
  const std::string script = dir_.write_file(
      "check.sh", "#!/bin/sh\nif [ -f " + d + "/hang ]; then\n  sleep 60 &\n  echo $! > " + d + "/sleep.pid\n  echo $$ > " +
                      d + "/shell.pid\n  wait\nfi\nexit 0\n");
  ASSERT_EQ(::chmod(script.c_str(), 0755), 0);
  ASSERT_NO_FATAL_FAILURE(start_registrar(
      {{"hang", svc.port(), "hang.example.com", "1s", "    health_check: {script_path: " + script + ", timeout: 400ms}\n"}}));
  ASSERT_TRUE(reachable_within("hang.example.com", 200, 5s));

  dir_.write_file("hang", "");
  ASSERT_TRUE(reachable_within("hang.example.com", 404, 3s)) << router_.get("hang.example.com").describe();
  const std::string sleep_pid = read_file(dir_.file("sleep.pid"));
  const std::string shell_pid = read_file(dir_.file("shell.pid"));
  ASSERT_FALSE(sleep_pid.empty());
  // The check that wrote these is killed at its timeout, at most 400 ms later.
  EXPECT_TRUE(wait_until([&] { return process_dead(sleep_pid) && process_dead(shell_pid); }, 2s))
      << "sleep " << sleep_pid << " / sh " << shell_pid << " still running";
  EXPECT_NE(registrar_.log().find("health-check-script-killed"), std::string::npos);

  std::remove(dir_.file("hang").c_str());
  EXPECT_TRUE(reachable_within("hang.example.com", 200, 3s)) << router_.get("hang.example.com").describe();
}

TEST_F(RegistrarTest, RestartedRouterLearnsTheRouteAtOnce) {
  ASSERT_NO_FATAL_FAILURE(start_all());
  EchoBackend& svc = start_echo("again");
  ASSERT_NO_FATAL_FAILURE(start_registrar({{"again", svc.port(), "again.example.com", "10s"}}));
  ASSERT_TRUE(reachable_within("again.example.com", 200, 5s));
  router_.stop();

  Router second(dir_, test_binaries());
  ASSERT_TRUE(second.start_healthy(router_.config(), *nats_)) << second.log();
  // router.start makes the registrar re-register now, not at its next 10 s tick.
  EXPECT_TRUE(wait_routable(second, "again.example.com", 200, "/", 5s)) << second.get("again.example.com").describe();
  EXPECT_NE(registrar_.log().find("router-start-received source=router.start"), std::string::npos);
}

TEST_F(RegistrarTest, RouterStartWithSmallerMinimumMakesHeartbeatsFaster) {
  ASSERT_NO_FATAL_FAILURE(start_nats());
  NatsSubscription* registers = client_.subscribe("router.register");
  ASSERT_NE(registers, nullptr);
  ASSERT_NO_FATAL_FAILURE(start_registrar({{"fast", 9, "fast.example.com", "30s"}}));
  ASSERT_TRUE(registers->wait_for_message(5s)) << "no first router.register";
  while (registers->wait_for_message(700ms)) {  // the start-up burst (tick, connect)
  }
  EXPECT_FALSE(registers->wait_for_message(1s)) << "heartbeat sooner than the 30 s interval";

  ASSERT_TRUE(client_.publish("router.start", R"({"id":"0-test","hosts":["127.0.0.1"],)"
                                              R"("minimumRegisterIntervalInSeconds":1,"pruneThresholdInSeconds":120})"));
  std::vector<Clock::time_point> seen;
  const auto end = Clock::now() + 3500ms;
  while (Clock::now() < end) {
    if (registers->wait_for_message(std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now()))) {
      seen.push_back(Clock::now());
    }
  }
  ASSERT_GE(seen.size(), 4u) << "router.register messages in 3.5 s after router.start";
  const auto gap = seen.back() - seen[seen.size() - 2];
  EXPECT_GT(gap, 500ms);
  EXPECT_LT(gap, 1600ms);
}

TEST_F(RegistrarTest, GreetsAtStartAndHonoursTheReply) {
  ASSERT_NO_FATAL_FAILURE(start_nats());
  NatsSubscription* greets = client_.subscribe("router.greet");
  NatsSubscription* registers = client_.subscribe("router.register");
  ASSERT_TRUE(greets != nullptr && registers != nullptr);
  ASSERT_NO_FATAL_FAILURE(start_registrar({{"greet", 9, "greet.example.com", "30s"}}));
  const std::optional<NatsMessage> greet = greets->wait_for_message(5s);
  ASSERT_TRUE(greet) << "no router.greet";
  ASSERT_FALSE(greet->reply.empty());
  ASSERT_TRUE(registers->wait_for_message(5s));
  while (registers->wait_for_message(700ms)) {
  }
  // Answer as a router would: the reply asks for a heartbeat every second.
  ASSERT_TRUE(client_.publish(greet->reply, R"({"id":"0-greeter","minimumRegisterIntervalInSeconds":1})"));
  int count = 0;
  const auto end = Clock::now() + 2500ms;
  while (Clock::now() < end) {
    if (registers->wait_for_message(std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now()))) ++count;
  }
  EXPECT_GE(count, 3) << "router.register messages in 2.5 s after the greet reply";
}

TEST_F(RegistrarTest, ReRegistersRightAfterNatsComesBack) {
  ASSERT_NO_FATAL_FAILURE(start_all());
  NatsSubscription* registers = client_.subscribe("router.register");
  ASSERT_NE(registers, nullptr);
  ASSERT_NO_FATAL_FAILURE(start_registrar({{"back", 9, "back.example.com", "30s"}}, nats_yaml("1s")));
  ASSERT_TRUE(registers->wait_for_message(5s));
  while (registers->wait_for_message(700ms)) {
  }
  nats_->kill();
  ASSERT_TRUE(nats_->restart()) << nats_->error();
  // Long before the 30 s tick: on reconnect (and on the router's router.start).
  EXPECT_TRUE(registers->wait_for_message(8s)) << "no router.register after NATS came back";
}

TEST_F(RegistrarTest, MessageBusServersWithCredentials) {
  ASSERT_NO_FATAL_FAILURE(start_nats(NatsServerOptions{"reg-user", "reg-pass"}));
  ASSERT_NO_FATAL_FAILURE(start_router());
  EchoBackend& svc = start_echo("creds");
  const std::string bus = "message_bus_servers:\n  - host: \"127.0.0.1:" + std::to_string(nats_->port()) +
                          "\"\n    user: reg-user\n    password: reg-pass\n";
  ASSERT_NO_FATAL_FAILURE(start_registrar({{"creds", svc.port(), "creds.example.com", "2s"}}, bus));
  EXPECT_TRUE(reachable_within("creds.example.com", 200, 5s)) << router_.get("creds.example.com").describe();

  const std::string url = "nats://reg-user:reg-pass@127.0.0.1:" + std::to_string(nats_->port());
  EXPECT_EQ(run_registrar({"--once", "register", "--nats", url, "--host", "127.0.0.1", "--port",
                           std::to_string(svc.port()), "--uri", "creds-once.example.com"}),
            0);
  EXPECT_TRUE(reachable_within("creds-once.example.com", 200, 3s));
}

TEST_F(RegistrarTest, OnceRegisterThenUnregister) {
  ASSERT_NO_FATAL_FAILURE(start_all());
  EchoBackend& svc = start_echo("once");
  const std::vector<std::string> common = {"--nats", nats_->url(), "--host", "127.0.0.1", "--port",
                                           std::to_string(svc.port()), "--uri", "once.example.com",
                                           "--uri", "once2.example.com/api"};
  std::vector<std::string> reg = {"--once", "register"};
  reg.insert(reg.end(), common.begin(), common.end());
  reg.insert(reg.end(), {"--tag", "component=once", "--app", "app-guid-9", "--stale-threshold", "60s"});
  std::string output;
  ASSERT_EQ(run_registrar(reg, &output), 0) << output;
  ASSERT_TRUE(reachable_within("once.example.com", 200, 3s));
  EXPECT_EQ(parse_echo(router_.get("once.example.com").body).header("x-cf-applicationid"), "app-guid-9");
  EXPECT_EQ(router_.get("once2.example.com", "/api/x").status, 200);

  std::vector<std::string> unreg = {"--once", "unregister"};
  unreg.insert(unreg.end(), common.begin(), common.end());
  ASSERT_EQ(run_registrar(unreg, &output), 0) << output;
  EXPECT_TRUE(reachable_within("once.example.com", 404, 2s));
  EXPECT_TRUE(wait_routable(router_, "once2.example.com", 404, "/api/x", 2s));
}

TEST_F(RegistrarTest, OnceFailsOnUnreachableNatsAndBadArguments) {
  const std::string nowhere = "nats://127.0.0.1:" + std::to_string(free_port());
  std::string output;
  const auto started = Clock::now();
  EXPECT_EQ(run_registrar({"--once", "register", "--nats", nowhere, "--wait", "1s", "--host", "127.0.0.1", "--port",
                           "80", "--uri", "a.example.com"},
                          &output),
            1)
      << output;
  EXPECT_LT(Clock::now() - started, 8s);
  EXPECT_NE(output.find("NATS not reachable"), std::string::npos) << output;

  EXPECT_EQ(run_registrar({"--once", "register", "--host", "127.0.0.1", "--port", "0", "--uri", "a.b"}, &output), 2);
  EXPECT_NE(output.find("--port: value \"0\" is not a port"), std::string::npos) << output;
  EXPECT_EQ(run_registrar({"--once", "register", "--host", "127.0.0.1", "--port", "80"}, &output), 2);
  EXPECT_NE(output.find("--uri: missing"), std::string::npos) << output;
  EXPECT_EQ(run_registrar({"--once", "publish"}, &output), 2);
  EXPECT_EQ(run_registrar({"--bogus"}, &output), 2);
}

TEST_F(RegistrarTest, BadConfigExitsTwoNamingTheKey) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"host: h\nroutes:\n  - {name: a, port: 1, uris: [a.b]}\n", "routes[0].registration_interval: missing"},
      {"host: h\nroutes:\n  - {name: a, port: 1, uris: [], registration_interval: 1s}\n", "routes[0].uris:"},
      {"host: h\nroutes:\n  - {name: a, port: 1, uris: [a.b], registration_interval: 2s, "
       "health_check: {script_path: /bin/true, timeout: 5s}}\n",
       "routes[0].health_check.timeout: value \"5s\" is not shorter"},
      {"routes: [\n", "YAML syntax error"},
  };
  for (const auto& [yaml, expected] : cases) {
    std::string output;
    EXPECT_EQ(run_registrar({"-c", dir_.write_file("bad.yml", yaml)}, &output), 2) << yaml;
    EXPECT_NE(output.find(expected), std::string::npos) << "wanted " << expected << " in: " << output;
  }
  std::string output;
  EXPECT_EQ(run_registrar({"-c", dir_.file("missing.yml")}, &output), 2);
  EXPECT_NE(output.find("cannot open"), std::string::npos) << output;
}

}  // namespace
}  // namespace sy::test
