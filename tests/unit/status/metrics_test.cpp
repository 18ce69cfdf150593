#include "status/metrics.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace sy::metrics {
namespace {

// Serialized text of a registry holding a single gauge with value `v`.
std::string gauge_line(double v) {
  Registry r;
  r.gauge("g", "h").add({}).set(v);
  const std::string out = r.serialize();
  const std::string prefix = "# HELP g h\n# TYPE g gauge\ng ";
  EXPECT_EQ(out.rfind(prefix, 0), 0u) << out;
  return out.substr(prefix.size(), out.size() - prefix.size() - 1);  // drop trailing '\n'
}

TEST(Metrics, SerializesCounterGaugeHistogramExactly) {
  Registry r;
  auto& requests = r.counter("requests", "Requests served.");
  requests.add({{"component", "route"}, {"code", "200"}}).inc();
  requests.add({{"code", "200"}, {"component", "route"}}).inc(2);  // same child
  requests.add({{"code", "404"}, {"component", "route"}}).inc();
  auto& routes = r.gauge("routes", "Routes in the table.");
  routes.add({}).set(40);
  routes.add({}).inc(3);
  routes.add({}).dec();
  auto& latency = r.histogram("latency_seconds", "Latency.", {0.25, 0.5, 1});
  auto& app = latency.add({{"component", "app"}});
  for (double v : {0.25, 0.5, 0.75, 3.0}) app.observe(v);  // bounds are inclusive

  EXPECT_EQ(r.serialize(),
            "# HELP requests_total Requests served.\n"
            "# TYPE requests_total counter\n"
            "requests_total{code=\"200\",component=\"route\"} 3\n"
            "requests_total{code=\"404\",component=\"route\"} 1\n"
            "# HELP routes Routes in the table.\n"
            "# TYPE routes gauge\n"
            "routes 42\n"
            "# HELP latency_seconds Latency.\n"
            "# TYPE latency_seconds histogram\n"
            "latency_seconds_bucket{component=\"app\",le=\"0.25\"} 1\n"
            "latency_seconds_bucket{component=\"app\",le=\"0.5\"} 2\n"
            "latency_seconds_bucket{component=\"app\",le=\"1\"} 3\n"
            "latency_seconds_bucket{component=\"app\",le=\"+Inf\"} 4\n"
            "latency_seconds_sum{component=\"app\"} 4.5\n"
            "latency_seconds_count{component=\"app\"} 4\n");
}

TEST(Metrics, EmptyFamilyPrintsOnlyHelpAndType) {
  Registry r;
  r.counter("errors", "Errors.");
  r.histogram("size_bytes", "Sizes.", {1, 2});
  EXPECT_EQ(r.serialize(),
            "# HELP errors_total Errors.\n# TYPE errors_total counter\n"
            "# HELP size_bytes Sizes.\n# TYPE size_bytes histogram\n");
}

TEST(Metrics, HistogramCollectIsCumulative) {
  Histogram h({1, 2, 4, std::numeric_limits<double>::infinity()});  // trailing +Inf is implied
  ASSERT_EQ(h.bounds(), (std::vector<double>{1, 2, 4}));
  for (double v : {0.5, 1.5, 1.5, 3.0, 100.0, -7.0}) h.observe(v);
  std::vector<uint64_t> cumulative;
  double sum = 0;
  uint64_t count = 0;
  h.collect(&cumulative, &sum, &count);
  EXPECT_EQ(cumulative, (std::vector<uint64_t>{2, 4, 5, 6}));
  EXPECT_EQ(count, 6u);
  EXPECT_DOUBLE_EQ(sum, 99.5);
}

TEST(Metrics, EscapesHelpAndLabelValues) {
  Registry r;
  r.gauge("g", "back\\slash \"quoted\"\nsecond line").add({{"path", "a\\b\"c\nd"}}).set(1);
  EXPECT_EQ(r.serialize(),
            "# HELP g back\\\\slash \"quoted\"\\nsecond line\n"
            "# TYPE g gauge\n"
            "g{path=\"a\\\\b\\\"c\\nd\"} 1\n");
}

TEST(Metrics, CounterNamesGetTotalSuffixOnce) {
  Registry r;
  auto& a = r.counter("registry_message", "Route registrations.");
  EXPECT_EQ(a.name(), "registry_message_total");
  EXPECT_EQ(&r.counter("registry_message_total", "again"), &a);
  EXPECT_EQ(&r.counter("registry_message", "again"), &a);
  EXPECT_EQ(r.counter("bytes_total", "Bytes.").name(), "bytes_total");
  EXPECT_EQ(r.gauge("open", "Open.").name(), "open");  // gauges are left alone
}

TEST(Metrics, CounterIgnoresNegativeAndNaN) {
  Counter c;
  c.inc();
  c.inc(2.5);
  c.inc(-10);
  c.inc(std::nan(""));
  EXPECT_DOUBLE_EQ(c.value(), 3.5);
}

TEST(Metrics, FormatsNumbersPrometheusCanParse) {
  EXPECT_EQ(gauge_line(0), "0");
  EXPECT_EQ(gauge_line(-0.0), "0");
  EXPECT_EQ(gauge_line(-12), "-12");
  EXPECT_EQ(gauge_line(1e15), "1000000000000000");
  EXPECT_EQ(gauge_line(9007199254740992.0), "9007199254740992");  // 2^53
  EXPECT_EQ(gauge_line(1e21), "1e+21");
  EXPECT_EQ(gauge_line(0.1), "0.1");
  EXPECT_EQ(gauge_line(-2.5), "-2.5");
  EXPECT_EQ(gauge_line(1.0 / 3), "0.3333333333333333");
  EXPECT_EQ(gauge_line(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(gauge_line(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(gauge_line(std::nan("")), "NaN");
  for (double v : {1.0 / 3, 1e-300, 123456.789, 5e-324}) {
    EXPECT_EQ(std::strtod(gauge_line(v).c_str(), nullptr), v) << "round trip of " << v;
  }
}

TEST(Metrics, ValidatesMetricNames) {
  Registry r;
  for (const char* bad : {"", "1abc", "a-b", "a b", "a.b", "é"}) {
    EXPECT_THROW(r.gauge(bad, "h"), std::invalid_argument) << bad;
    EXPECT_THROW(r.counter(bad, "h"), std::invalid_argument) << bad;
    EXPECT_THROW(r.histogram(bad, "h", {1}), std::invalid_argument) << bad;
  }
  for (const char* good : {"a", "_a", ":a", "a:b_c9", "A1"}) EXPECT_NO_THROW(r.gauge(good, "h")) << good;
}

TEST(Metrics, ValidatesLabelNames) {
  Registry r;
  auto& g = r.gauge("g", "h");
  for (const char* bad : {"", "1a", "a:b", "a-b", "__reserved", "__"}) {
    EXPECT_THROW(g.add({{bad, "v"}}), std::invalid_argument) << bad;
  }
  EXPECT_NO_THROW(g.add({{"_ok", "v"}, {"a1", "x"}, {"B", ""}}));
  auto& h = r.histogram("h", "h", {1});
  EXPECT_THROW(h.add({{"le", "1"}}), std::invalid_argument);
  EXPECT_NO_THROW(h.add({{"component", "x"}}));
  EXPECT_EQ(r.serialize().find("__reserved"), std::string::npos);  // rejected children are not created
}

TEST(Metrics, ReRegistrationAndTypeConflicts) {
  Registry r;
  auto& g = r.gauge("g", "h");
  EXPECT_EQ(&r.gauge("g", "other help"), &g);
  r.counter("c", "h");
  EXPECT_THROW(r.gauge("c_total", "h"), std::invalid_argument);
  EXPECT_THROW(r.histogram("g", "h", {1}), std::invalid_argument);
  auto& h = r.histogram("lat", "h", {1, 2});
  EXPECT_EQ(&r.histogram("lat", "h", {1, 2, std::numeric_limits<double>::infinity()}), &h);
  EXPECT_THROW(r.histogram("lat", "h", {1, 3}), std::invalid_argument);
  EXPECT_THROW(r.gauge("lat", "h"), std::invalid_argument);
  EXPECT_THROW(r.gauge("lat_sum", "h"), std::invalid_argument);   // would clash with the histogram series
  EXPECT_THROW(r.gauge("lat_bucket", "h"), std::invalid_argument);
  EXPECT_THROW(r.histogram("bad", "h", {2, 1}), std::invalid_argument);
  EXPECT_THROW(r.histogram("bad", "h", {1, 1}), std::invalid_argument);
  EXPECT_THROW(r.histogram("bad", "h", {std::nan("")}), std::invalid_argument);
  // Registration order is kept.
  const std::string out = r.serialize();
  EXPECT_LT(out.find("# TYPE g gauge"), out.find("# TYPE c_total counter"));
  EXPECT_LT(out.find("# TYPE c_total counter"), out.find("# TYPE lat histogram"));
}

TEST(Metrics, ConcurrentUpdatesSumCorrectly) {
  constexpr int kThreads = 4;
  constexpr int kIters = 100000;
  Registry r;
  auto& counter = r.counter("hits", "h").add({{"k", "v"}});
  auto& gauge = r.gauge("level", "h").add({});
  auto& hist = r.histogram("obs", "h", {0.5, 1.5, 2.5});
  auto& hist_child = hist.add({});
  auto& per_thread = r.counter("per_thread", "h");

  std::atomic<int> running{kThreads};
  std::thread reader([&] {  // serialize() concurrently with updates and add()
    while (running.load() > 0) {
      const std::string s = r.serialize();
      ASSERT_NE(s.find("# TYPE obs histogram"), std::string::npos);
    }
  });
  std::vector<std::thread> workers;
  for (int t = 0; t < kThreads; ++t) {
    workers.emplace_back([&, t] {
      auto& mine = per_thread.add({{"thread", std::to_string(t)}});
      for (int i = 0; i < kIters; ++i) {
        counter.inc();
        gauge.inc(2);
        gauge.dec();
        hist_child.observe(static_cast<double>(i % 3));  // 0, 1, 2: one per bucket
        mine.inc();
        if (i % 1000 == 0) hist.add({{"extra", std::to_string(i)}}).observe(1);
      }
      running.fetch_sub(1);
    });
  }
  for (auto& w : workers) w.join();
  reader.join();

  EXPECT_DOUBLE_EQ(counter.value(), kThreads * kIters);
  EXPECT_DOUBLE_EQ(gauge.value(), kThreads * kIters);
  std::vector<uint64_t> cumulative;
  double sum = 0;
  uint64_t count = 0;
  hist_child.collect(&cumulative, &sum, &count);
  EXPECT_EQ(count, static_cast<uint64_t>(kThreads) * kIters);
  EXPECT_EQ(cumulative.back(), count);
  EXPECT_DOUBLE_EQ(sum, static_cast<double>(kThreads) * (kIters / 3) * 3);  // 33333 * (1 + 2)
  EXPECT_EQ(cumulative[0], static_cast<uint64_t>(kThreads) * 33334);
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_DOUBLE_EQ(per_thread.add({{"thread", std::to_string(t)}}).value(), kIters);
  }
}

// Pipes `text` into `promtool check metrics`; returns its exit status and output.
int run_promtool(const std::string& text, std::string* output) {
  char path[] = "/tmp/sy_metrics_promtool_XXXXXX";
  const int fd = mkstemp(path);
  if (fd < 0) return -1;
  close(fd);
  const std::string cmd = std::string("/usr/bin/promtool check metrics >") + path + " 2>&1";
  FILE* pipe = popen(cmd.c_str(), "w");
  if (pipe == nullptr) return -1;
  std::fwrite(text.data(), 1, text.size(), pipe);
  const int status = pclose(pipe);
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  *output = ss.str();
  unlink(path);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(Metrics, PromtoolAcceptsSerializedRegistry) {
  if (access("/usr/bin/promtool", X_OK) != 0) GTEST_SKIP() << "/usr/bin/promtool not installed";
  Registry r;
  auto& messages = r.counter("registry_message", "Route registrations by component.\nSecond \\ line.");
  messages.add({{"component", "route-emitter"}}).inc(5);
  messages.add({{"component", "say \"hi\"\nnext line \\ done"}}).inc();
  r.gauge("total_routes", "Routes in the table.").add({}).set(12);
  r.gauge("ms_since_last_registry_update", "Milliseconds.").add({{"source", "nats"}}).set(0.25);
  r.counter("bad_gateways", "Empty family.");
  r.gauge("idle_connections", "Empty gauge family.");
  auto& latency = r.histogram("request_latency_seconds", "Request latency.", {0.005, 0.1, 1, 10});
  auto& app = latency.add({{"component", "app"}, {"route", "a\"b\nc"}});
  for (double v : {0.001, 0.05, 0.3, 7.5, 42.0, std::nan("")}) app.observe(v);
  latency.add({});
  r.histogram("empty_histogram_seconds", "Empty histogram family.", {1});

  const std::string text = r.serialize();
  std::string output;
  EXPECT_EQ(run_promtool(text, &output), 0) << "promtool output:\n" << output << "\ninput:\n" << text;

  // Negative control: the check really runs (lint exit status 3 for a counter without _total).
  EXPECT_EQ(run_promtool("# HELP foo x\n# TYPE foo counter\nfoo 1\n", &output), 3) << output;
}

}  // namespace
}  // namespace sy::metrics

namespace sy::metrics {
namespace {

// Counters kept per worker are summed at scrape time and handed over whole.
TEST(MetricsSync, CounterTakesGrowingTotals) {
  Registry r;
  Counter& c = r.counter("synced", "h").add({});
  c.sync(5);
  EXPECT_EQ(c.value(), 5);
  c.sync(3);
  EXPECT_EQ(c.value(), 5) << "a counter never goes down";
  c.sync(8);
  EXPECT_EQ(c.value(), 8);
}

TEST(MetricsSync, HistogramTakesBucketCountsAndSum) {
  Registry r;
  Histogram& h = r.histogram("synced_h", "h", {1, 10}).add({});
  const uint64_t counts[] = {2, 3, 1};
  h.sync(counts, 42.5);
  std::vector<uint64_t> cumulative;
  double sum = 0;
  uint64_t count = 0;
  h.collect(&cumulative, &sum, &count);
  EXPECT_EQ(cumulative, (std::vector<uint64_t>{2, 5, 6}));
  EXPECT_EQ(sum, 42.5);
  EXPECT_EQ(count, 6u);
}

}  // namespace
}  // namespace sy::metrics
