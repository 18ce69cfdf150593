// Instance affinity through the real router: X-CF-APP-INSTANCE picks one
// instance (or gets gorouter's 400s), and sticky sessions (JSESSIONID +
// __VCAP_ID__) keep a client on its instance until that instance goes away.
#include <set>
#include <string>

#include "tests/integration/integration_fixture.hpp"

namespace sy::test {
namespace {

const std::string kApp = "5cdc7595-2e9b-4f62-8d5a-a86b92f2df0e";
// Each instance runs a different process of the app (tags.process_id).
const std::string kProcess[2] = {"11111111-2222-3333-4444-555555555555", "66666666-7777-8888-9999-aaaaaaaaaaaa"};

std::string instance_json(const std::string& id, int index) {
  return R"("app":")" + kApp + R"(","private_instance_id":")" + id + R"(","private_instance_index":")" +
         std::to_string(index) + R"(","tags":{"process_id":")" + kProcess[index] + R"("})";
}

class AffinityTest : public RouterTest {
 protected:
  // Two instances of one app on `host`: "inst-0" (index 0) and "inst-1" (index 1).
  void start_two(const std::string& host) {
    ASSERT_NO_FATAL_FAILURE(start_all());
    for (int i = 0; i < 2; ++i) {
      EchoBackend& echo = start_echo("inst-" + std::to_string(i));
      ports_[i] = echo.port();
      ASSERT_TRUE(register_route(client_, echo.port(), {host}, instance_json("inst-" + std::to_string(i), i)));
    }
    ASSERT_TRUE(wait_routable(router_, host, 200));
    // Both registered: round-robin reaches both.
    std::set<std::string> seen;
    for (int i = 0; i < 20 && seen.size() < 2; ++i) seen.insert(parse_echo(router_.get(host).body).name);
    ASSERT_EQ(seen.size(), 2u) << "the second instance never became routable";
  }

  HttpResponse get_with(const std::string& host, const std::string& path, const std::vector<std::string>& headers) {
    HttpRequest request;
    request.url = router_.url(path);
    request.host = host;
    request.headers = headers;
    return http(request);
  }

  uint16_t ports_[2] = {0, 0};
};

TEST_F(AffinityTest, AppInstanceHeaderReachesThatInstanceOnly) {
  ASSERT_NO_FATAL_FAILURE(start_two("pick.example.com"));
  for (int index = 0; index < 2; ++index) {
    for (int i = 0; i < 6; ++i) {
      const HttpResponse r =
          get_with("pick.example.com", "/", {"X-CF-APP-INSTANCE: " + kApp + ":" + std::to_string(index)});
      ASSERT_EQ(r.status, 200) << r.describe();
      const EchoSeen seen = parse_echo(r.body);
      EXPECT_EQ(seen.name, "inst-" + std::to_string(index));
      EXPECT_FALSE(seen.has("x-cf-app-instance")) << "the header must not reach the backend";
      EXPECT_EQ(seen.header("x-cf-instanceindex"), std::to_string(index));
    }
  }
}

TEST_F(AffinityTest, AppInstanceHeaderErrorsAreGorouters) {
  ASSERT_NO_FATAL_FAILURE(start_two("pick.example.com"));
  const HttpResponse bad = get_with("pick.example.com", "/", {"X-CF-APP-INSTANCE: not-a-guid:1"});
  EXPECT_EQ(bad.status, 400) << bad.describe();
  EXPECT_EQ(bad.header("X-Cf-Routererror").value_or(""), "invalid_cf_app_instance_header");
  EXPECT_EQ(bad.body, "400 Bad Request: Invalid X-CF-App-Instance Header\n");

  const HttpResponse missing = get_with("pick.example.com", "/", {"X-CF-APP-INSTANCE: " + kApp + ":7"});
  EXPECT_EQ(missing.status, 400) << missing.describe();
  EXPECT_EQ(missing.header("X-Cf-Routererror").value_or(""), "unknown_route");
  EXPECT_EQ(missing.body, "400 Bad Request: Requested instance ('7') with guid ('" + kApp +
                              "') does not exist for route ('pick.example.com')\n");

  const HttpResponse other_app =
      get_with("pick.example.com", "/", {"X-CF-APP-INSTANCE: aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa:0"});
  EXPECT_EQ(other_app.status, 400) << other_app.describe();
  EXPECT_EQ(other_app.header("X-Cf-Routererror").value_or(""), "unknown_route");

  const HttpResponse no_route = get_with("nowhere.example.com", "/", {"X-CF-APP-INSTANCE: " + kApp + ":0"});
  EXPECT_EQ(no_route.status, 400) << no_route.describe();
  EXPECT_EQ(no_route.header("X-Cf-Routererror").value_or(""), "unknown_route");

  // The router keeps serving the route normally.
  EXPECT_EQ(router_.get("pick.example.com").status, 200);
}

TEST_F(AffinityTest, ProcessInstanceHeaderReachesThatProcess) {
  ASSERT_NO_FATAL_FAILURE(start_two("proc.example.com"));
  for (int i = 0; i < 6; ++i) {
    const HttpResponse any_index = get_with("proc.example.com", "/", {"X-CF-PROCESS-INSTANCE: " + kProcess[1]});
    ASSERT_EQ(any_index.status, 200) << any_index.describe();
    EXPECT_EQ(parse_echo(any_index.body).name, "inst-1");
    EXPECT_FALSE(parse_echo(any_index.body).has("x-cf-process-instance"));
    const HttpResponse with_index = get_with("proc.example.com", "/", {"X-CF-PROCESS-INSTANCE: " + kProcess[0] + ":0"});
    ASSERT_EQ(with_index.status, 200) << with_index.describe();
    EXPECT_EQ(parse_echo(with_index.body).name, "inst-0");
  }
  const HttpResponse wrong_index = get_with("proc.example.com", "/", {"X-CF-PROCESS-INSTANCE: " + kProcess[0] + ":1"});
  EXPECT_EQ(wrong_index.status, 400) << wrong_index.describe();
  EXPECT_EQ(wrong_index.header("X-Cf-Routererror").value_or(""), "unknown_route");
  EXPECT_EQ(wrong_index.body, "400 Bad Request: Requested instance ('1') with process guid ('" + kProcess[0] +
                                  "') does not exist for route ('proc.example.com')\n");
  const HttpResponse bad = get_with("proc.example.com", "/", {"X-CF-PROCESS-INSTANCE: web:1"});
  EXPECT_EQ(bad.status, 400) << bad.describe();
  EXPECT_EQ(bad.header("X-Cf-Routererror").value_or(""), "invalid_cf_process_instance_header");
}

TEST_F(AffinityTest, StickySessionStaysOnItsInstanceUntilItIsGone) {
  ASSERT_NO_FATAL_FAILURE(start_two("sticky.example.com"));

  // The app starts a session: the router names the instance in __VCAP_ID__.
  const HttpResponse first =
      get_with("sticky.example.com", "/headers-set?name=Set-Cookie&value=JSESSIONID%3Dabc%3B%20Secure", {});
  ASSERT_EQ(first.status, 200) << first.describe();
  const std::string served = parse_echo(first.body).name;
  std::string vcap;
  for (const std::string& cookie : first.header_values("Set-Cookie")) {
    if (cookie.rfind("__VCAP_ID__=", 0) == 0) vcap = cookie;
  }
  ASSERT_EQ(vcap, "__VCAP_ID__=" + served + "; Path=/; HttpOnly; Secure") << first.describe();

  // With both cookies every request lands on that instance, and no new cookie is set.
  for (int i = 0; i < 8; ++i) {
    const HttpResponse r = get_with("sticky.example.com", "/", {"Cookie: JSESSIONID=abc; __VCAP_ID__=" + served});
    ASSERT_EQ(r.status, 200) << r.describe();
    EXPECT_EQ(parse_echo(r.body).name, served);
    EXPECT_FALSE(r.has_header("Set-Cookie")) << r.describe();
  }
  // __VCAP_ID__ alone (no session cookie) is not sticky: round-robin again.
  std::set<std::string> spread;
  for (int i = 0; i < 8; ++i) spread.insert(parse_echo(get_with("sticky.example.com", "/", {"Cookie: __VCAP_ID__=" + served}).body).name);
  EXPECT_EQ(spread.size(), 2u);

  // The instance goes away: the session moves, and the cookie follows it.
  const int gone = served == "inst-0" ? 0 : 1;
  ASSERT_TRUE(unregister_route(client_, ports_[gone], {"sticky.example.com"}, instance_json(served, gone)));
  const std::string other = "inst-" + std::to_string(1 - gone);
  bool moved = false;
  for (int i = 0; i < 100 && !moved; ++i) {
    const HttpResponse r = get_with("sticky.example.com", "/", {"Cookie: JSESSIONID=abc; __VCAP_ID__=" + served});
    if (r.status == 200 && parse_echo(r.body).name == other) {
      moved = true;
      EXPECT_EQ(r.header("Set-Cookie").value_or(""), "__VCAP_ID__=" + other + "; Path=/; HttpOnly") << r.describe();
    } else {
      sleep_for(std::chrono::milliseconds(20));
    }
  }
  EXPECT_TRUE(moved) << "the session never moved to " << other;
}

}  // namespace
}  // namespace sy::test
