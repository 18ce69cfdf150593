// Instance affinity: X-CF-APP-INSTANCE parsing, the sticky-session cookie a
// request carries, and the __VCAP_ID__ Set-Cookie a response gets (gorouter's
// rules, see router/proxy/affinity.hpp).
#include <gtest/gtest.h>

#include <boost/asio/buffer.hpp>
#include <memory>
#include <string>
#include <vector>

#include "router/proxy/affinity.hpp"
#include "router/proxy/http_head.hpp"
#include "tests/support/http_text.hpp"

namespace sy::proxy {
namespace {

const std::string kGuid = "5cdc7595-2e9b-4f62-8d5a-a86b92f2df0e";
const std::vector<std::string> kSession = {"JSESSIONID"};

// Heads are views into their text: both live in one object that never moves.
std::unique_ptr<test::ParsedRequest> request(const std::string& headers) {
  auto r = test::parse_request("GET / HTTP/1.1\r\nHost: a.com\r\n" + headers + "\r\n");
  EXPECT_EQ(r->error, http::HeadError::none) << http::to_string(r->error);
  return r;
}

std::unique_ptr<test::ParsedResponse> response(const std::string& headers) {
  auto r = test::parse_response("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n" + headers + "\r\n");
  EXPECT_EQ(r->error, http::HeadError::none) << http::to_string(r->error);
  return r;
}

StickyResponse served_by(std::string_view served, std::string_view requested = {}, std::string_view path = "/") {
  StickyResponse s;
  s.session_cookies = &kSession;
  s.served = served;
  s.requested = requested;
  s.path = path;
  return s;
}

TEST(AppInstanceHeader, AcceptsGuidColonIndex) {
  const std::string value = kGuid + ":12";  // the views point into it
  std::string_view guid, index;
  ASSERT_TRUE(parse_app_instance(value, &guid, &index));
  EXPECT_EQ(guid, kGuid);
  EXPECT_EQ(index, "12");
}

TEST(AppInstanceHeader, RejectsWhatGorouterRejects) {
  std::string_view guid, index;
  const std::vector<std::string> bad_values = {
      "", kGuid, kGuid + ":", kGuid + ":1a", kGuid + ":-1", "abc:1",
      "5CDC7595-2E9B-4F62-8D5A-A86B92F2DF0E:1",  // upper case
      "5cdc75952e9b-4f62-8d5a-a86b92f2df0e0:1",  // dash misplaced
      "5cdc7595-2e9b-4f62-8d5a-a86b92f2df0g:1",  // not hex
      kGuid + ":1 ", " " + kGuid + ":1", kGuid + "1:1"};
  for (const std::string& bad : bad_values) {
    EXPECT_FALSE(parse_app_instance(bad, &guid, &index)) << bad;
  }
}

TEST(ProcessInstanceHeader, IndexIsOptional) {
  const std::string bare = kGuid, indexed = kGuid + ":3";
  std::string_view guid, index;
  ASSERT_TRUE(parse_process_instance(bare, &guid, &index));
  EXPECT_EQ(guid, kGuid);
  EXPECT_EQ(index, "");
  ASSERT_TRUE(parse_process_instance(indexed, &guid, &index));
  EXPECT_EQ(index, "3");
  const std::vector<std::string> bad_values = {kGuid + ":", kGuid + ":x", "web", kGuid + "0"};
  for (const std::string& bad : bad_values) EXPECT_FALSE(parse_process_instance(bad, &guid, &index)) << bad;
  EXPECT_FALSE(parse_app_instance(bare, &guid, &index)) << "the app header needs an index";
}

TEST(AppInstanceHeader, IsNeverForwarded) {
  auto r = request("X-CF-APP-INSTANCE: " + kGuid + ":0\r\nX-CF-PROCESS-INSTANCE: " + kGuid + "\r\nX-Other: 1\r\n");
  EXPECT_EQ(r->head.find(FieldKind::x_cf_app_instance), kGuid + ":0");
  std::string out;
  RequestRewrite rw;
  rw.client_ip = "10.0.0.1";
  rw.request_id = "rid";
  rw.instance_id = "i";
  write_upstream_request(r->head, rw, &out);
  EXPECT_EQ(out.find("X-CF-APP-INSTANCE"), std::string::npos) << out;
  EXPECT_EQ(out.find("X-CF-PROCESS-INSTANCE"), std::string::npos) << out;
  EXPECT_NE(out.find("X-Other: 1\r\n"), std::string::npos) << out;
}

TEST(StickyRequest, NeedsASessionCookieAndVcapId) {
  EXPECT_EQ(sticky_instance(request("Cookie: JSESSIONID=abc; __VCAP_ID__=inst-1\r\n")->head, kSession), "inst-1");
  EXPECT_EQ(sticky_instance(request("Cookie: __VCAP_ID__=inst-1\r\nCookie: JSESSIONID=abc\r\n")->head, kSession),
            "inst-1");
  EXPECT_EQ(sticky_instance(request("Cookie: __VCAP_ID__=\"inst-2\";JSESSIONID=x\r\n")->head, kSession), "inst-2");
  EXPECT_EQ(sticky_instance(request("Cookie: __VCAP_ID__=inst-1\r\n")->head, kSession), "");
  EXPECT_EQ(sticky_instance(request("Cookie: JSESSIONID=abc\r\n")->head, kSession), "");
  EXPECT_EQ(sticky_instance(request("Cookie: jsessionid=abc; __VCAP_ID__=inst-1\r\n")->head, kSession), "")
      << "cookie names are case-sensitive";
  EXPECT_EQ(sticky_instance(request("Cookie: SESSION=s; __VCAP_ID__=inst-3\r\n")->head, {"JSESSIONID", "SESSION"}),
            "inst-3");
  EXPECT_EQ(sticky_instance(request("")->head, kSession), "");
}

TEST(StickyResponse, SessionCookieGetsVcapIdWithCopiedAttributes) {
  auto r = response(
      "Set-Cookie: other=1\r\n"
      "Set-Cookie: JSESSIONID=abc; Path=/app; Secure; SameSite=None; Expires=Wed, 21 Oct 2037 07:28:00 GMT; "
      "Partitioned; HttpOnly\r\n");
  EXPECT_EQ(sticky_set_cookie(r->head, served_by("inst-1", "", "/app")),
            "Set-Cookie: __VCAP_ID__=inst-1; Path=/app; Expires=Wed, 21 Oct 2037 07:28:00 GMT; HttpOnly; Secure; "
            "SameSite=None; Partitioned\r\n");
}

TEST(StickyResponse, PlainSessionCookie) {
  auto r = response("Set-Cookie: JSESSIONID=abc\r\n");
  EXPECT_EQ(sticky_set_cookie(r->head, served_by("inst-1")), "Set-Cookie: __VCAP_ID__=inst-1; Path=/; HttpOnly\r\n");
  StickyResponse secure = served_by("inst-1");
  secure.secure_cookies = true;
  EXPECT_EQ(sticky_set_cookie(r->head, secure), "Set-Cookie: __VCAP_ID__=inst-1; Path=/; HttpOnly; Secure\r\n");
}

TEST(StickyResponse, DeletingTheSessionDeletesVcapId) {
  auto r = response("Set-Cookie: JSESSIONID=; Max-Age=-1\r\n");
  EXPECT_EQ(sticky_set_cookie(r->head, served_by("inst-1")),
            "Set-Cookie: __VCAP_ID__=inst-1; Path=/; Max-Age=0; HttpOnly\r\n");
  auto zero = response("Set-Cookie: JSESSIONID=; Max-Age=0\r\n");
  EXPECT_NE(sticky_set_cookie(zero->head, served_by("inst-1")).find("Max-Age=0"), std::string::npos);
  auto keep = response("Set-Cookie: JSESSIONID=a; Max-Age=3600\r\n");
  EXPECT_EQ(sticky_set_cookie(keep->head, served_by("inst-1")).find("Max-Age"), std::string::npos)
      << "a positive Max-Age is not copied (gorouter copies only deletions)";
}

TEST(StickyResponse, MovedSessionIsRepointedEvenWithoutNewSessionCookie) {
  auto plain = response("");
  EXPECT_EQ(sticky_set_cookie(plain->head, served_by("inst-2", "inst-1")),
            "Set-Cookie: __VCAP_ID__=inst-2; Path=/; HttpOnly\r\n");
  EXPECT_EQ(sticky_set_cookie(plain->head, served_by("inst-1", "inst-1")), "") << "served where it asked: nothing";
  EXPECT_EQ(sticky_set_cookie(plain->head, served_by("inst-1")), "") << "no session at all: nothing";
}

TEST(StickyResponse, AppSetVcapIdOrAnonymousInstanceGetsNothing) {
  auto app_sets = response("Set-Cookie: JSESSIONID=abc\r\nSet-Cookie: __VCAP_ID__=mine\r\n");
  EXPECT_EQ(sticky_set_cookie(app_sets->head, served_by("inst-1", "inst-0")), "");
  auto session = response("Set-Cookie: JSESSIONID=abc\r\n");
  EXPECT_EQ(sticky_set_cookie(session->head, served_by("")), "") << "an endpoint without private_instance_id";
}

TEST(StickyResponse, ExtraHeadersReachTheClientHead) {
  auto r = response("Set-Cookie: JSESSIONID=abc\r\n");
  const std::string cookie = sticky_set_cookie(r->head, served_by("inst-1"));
  std::string out;
  write_client_response(r->head, ResponseRewrite{"rid", false, false, cookie, false}, &out);
  EXPECT_NE(out.find("Set-Cookie: JSESSIONID=abc\r\nX-Vcap-Request-Id: rid\r\nSet-Cookie: __VCAP_ID__=inst-1"),
            std::string::npos)
      << out;
}

}  // namespace
}  // namespace sy::proxy
