// A real Prometheus (Debian's) scrapes a running switchyard every second
// while a small load goes through it; its HTTP API must then answer the
// queries an operator's dashboard asks: the request rate, responses by
// status group, and a latency quantile from the histogram.
#include <rapidjson/document.h>

#include <cmath>
#include <fstream>

#include "tests/integration/integration_fixture.hpp"

namespace sy::test {
namespace {

class PrometheusTest : public RouterTest {
 protected:
  void TearDown() override {
    for (Process* p : {&prometheus_, &load_ok_, &load_missing_})
      if (p->running()) p->kill();
    if (HasFailure()) std::fprintf(stderr, "---- prometheus log ----\n%s\n", tail(prometheus_.log()).c_str());
    RouterTest::TearDown();
  }

  // curl at a fixed rate (--rate), keep-alive, for at most `seconds`.
  void start_load(Process& p, const std::string& host, int per_second, int seconds, const std::string& name) {
    ProcessOptions o;
    const int count = per_second * seconds;
    o.argv = {"curl", "-s", "-o", "/dev/null", "--rate", std::to_string(per_second) + "/s", "-m",
              std::to_string(seconds + 5), "-H", "Host: " + host,
              router_.url("/load/[1-" + std::to_string(count) + "]")};
    o.log_path = dir_.file(name + ".log");
    ASSERT_TRUE(p.start(o)) << p.error();
  }

  void start_prometheus() {
    port_ = free_port();
    const std::string config = dir_.write_file("prometheus.yml",
                                               "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                                               "scrape_configs:\n  - job_name: switchyard\n"
                                               "    static_configs:\n      - targets: ['127.0.0.1:" +
                                                   std::to_string(router_.status_port()) + "']\n");
    ProcessOptions o;
    o.argv = {"prometheus", "--config.file=" + config, "--storage.tsdb.path=" + dir_.file("tsdb"),
              "--web.listen-address=127.0.0.1:" + std::to_string(port_), "--log.level=warn"};
    o.log_path = dir_.file("prometheus.log");
    ASSERT_TRUE(prometheus_.start(o)) << prometheus_.error();
  }

  // The value of an instant query's first series, by label value of `by`
  // (or the only series when `by` is empty); nullopt until there is one.
  std::optional<double> query(const std::string& promql, const std::string& by = {},
                              const std::string& value = {}) {
    HttpRequest req;
    req.url = "http://127.0.0.1:" + std::to_string(port_) + "/api/v1/query";
    req.extra_args = {"-G", "--data-urlencode", "query=" + promql};
    const HttpResponse res = http(req);
    if (res.status != 200) return std::nullopt;
    rapidjson::Document doc;
    doc.Parse(res.body.c_str());
    if (doc.HasParseError() || !doc.HasMember("data")) return std::nullopt;
    for (const auto& series : doc["data"]["result"].GetArray()) {
      if (!by.empty() && (!series["metric"].HasMember(by.c_str()) || series["metric"][by.c_str()].GetString() != value))
        continue;
      const double v = std::stod(series["value"][1].GetString());
      if (std::isfinite(v)) return v;
    }
    return std::nullopt;
  }

  Process prometheus_, load_ok_, load_missing_;
  uint16_t port_ = 0;
};

TEST_F(PrometheusTest, ScrapesRateStatusGroupsAndLatencyQuantile) {
  if (!is_executable("/usr/bin/prometheus")) GTEST_SKIP() << "prometheus not installed (scripts/install-deps.sh --with-tests)";
  ASSERT_NO_FATAL_FAILURE(start_all());
  EchoBackend& echo = start_echo("scraped");
  ASSERT_NO_FATAL_FAILURE(route("scraped.example.com", echo.port(), R"("tags":{"component":"route-emitter"})"));
  ASSERT_NO_FATAL_FAILURE(start_prometheus());
  ASSERT_NO_FATAL_FAILURE(start_load(load_ok_, "scraped.example.com", 40, 40, "load-ok"));
  ASSERT_NO_FATAL_FAILURE(start_load(load_missing_, "missing.example.com", 5, 40, "load-404"));

  std::optional<double> rate;
  ASSERT_TRUE(wait_until([&] {
    rate = query("sum(rate(total_requests_total[5s]))");
    return rate && *rate > 0;
  }, std::chrono::seconds(45))) << "no request rate from Prometheus";
  // 45 requests a second go out; curl --rate and a 5 s window make it rough.
  EXPECT_GT(*rate, 10) << *rate;
  EXPECT_LT(*rate, 200) << *rate;
  const auto routed = query("sum(rate(total_requests_total{component=\"route-emitter\"}[5s]))");
  ASSERT_TRUE(routed.has_value());
  EXPECT_GT(*routed, 5);

  const auto ok = query("sum by (status_group) (responses_total)", "status_group", "2xx");
  const auto missing = query("sum by (status_group) (responses_total)", "status_group", "4xx");
  ASSERT_TRUE(ok && missing);
  EXPECT_GT(*ok, *missing) << "more 200s than 404s were sent";
  EXPECT_GT(*missing, 0);
  const auto unknown = query("sum(router_errors_total{router_error=\"unknown_route\"})");
  ASSERT_TRUE(unknown.has_value());
  EXPECT_GT(*unknown, 0);

  std::optional<double> p90;
  ASSERT_TRUE(wait_until([&] {
    p90 = query("histogram_quantile(0.9, sum by (le) (rate(latency_bucket[10s])))");
    return p90.has_value();
  }, std::chrono::seconds(20)));
  // An echo on loopback: well under a second, and above nothing.
  EXPECT_GT(*p90, 0) << *p90;
  EXPECT_LT(*p90, 1000) << *p90;
  const auto up = query("up{job=\"switchyard\"}");
  EXPECT_EQ(up, std::optional<double>(1));
}

}  // namespace
}  // namespace sy::test
