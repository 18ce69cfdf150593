// Per-worker counters and their publication into the registry: the sums,
// gorouter's labels (component, is_routed_app, status_group) and the
// router-error rows.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "router/proxy/proxy_context.hpp"
#include "tests/support/prom_text.hpp"

namespace sy::proxy {
namespace {

using test::metric_value;

TEST(LocalHistogram, BucketsSumsAndQuantiles) {
  LatencyHistogram h;
  for (int i = 0; i < 90; ++i) h.observe(0.3);  // (0.25, 0.5]
  for (int i = 0; i < 10; ++i) h.observe(40);   // (25, 50]
  h.observe(1e9);                               // +Inf
  EXPECT_EQ(h.total(), 101u);
  EXPECT_EQ(h.count(2), 90u);
  EXPECT_EQ(h.count(LatencyHistogram::kBuckets - 1), 1u);
  EXPECT_NEAR(h.sum(), 90 * 0.3 + 400 + 1e9, 1e-3);
  const double p50 = h.quantile(0.5);
  EXPECT_GT(p50, 0.25);
  EXPECT_LE(p50, 0.5);
  const double p95 = h.quantile(0.95);
  EXPECT_GT(p95, 25);
  EXPECT_LE(p95, 50);
  LatencyHistogram empty;
  EXPECT_EQ(empty.quantile(0.5), 0);
  empty.merge(h);
  EXPECT_EQ(empty.total(), 101u);
}

TEST(StatusGroup, GorouterGroups) {
  EXPECT_EQ(status_group(200), 0u);
  EXPECT_EQ(status_group(302), 1u);
  EXPECT_EQ(status_group(404), 2u);
  EXPECT_EQ(status_group(502), 3u);
  EXPECT_EQ(status_group(101), 4u) << "1xx and 101 are xxx, as gorouter's statusGroupName";
  EXPECT_EQ(status_group(0), 4u);
}

TEST(ProxyMetrics, PublishesTheWorkersSums) {
  metrics::Registry registry;
  ProxyMetrics m(registry);
  route::ComponentSlots slots;
  const uint8_t dea1 = slots.slot("dea-1"), dea2 = slots.slot("dea-2"), cc = slots.slot("CloudController");
  auto a = std::make_unique<WorkerStats>(), b = std::make_unique<WorkerStats>();
  a->requests[dea1].add(2);
  b->requests[dea2].add(3);
  b->requests[cc].add(1);
  a->requests[route::ComponentSlots::kNone].add(4);
  a->latency[cc].observe(3);
  a->responses[status_group(200)].add(5);
  b->responses[status_group(101)].add(1);
  b->failures[static_cast<size_t>(outcome::Failure::unknown_route)].add(4);
  a->backend_invalid_id.add();
  b->upstream_idle = 7;
  WorkerStats total;
  total.merge(*a);
  total.merge(*b);
  EXPECT_EQ(total.total_requests(), 10u);
  m.publish(total, slots, 3, 2);
  const std::string text = registry.serialize();
  EXPECT_EQ(metric_value(text, "total_requests_total", {{"component", "dea-*"}, {"is_routed_app", "yes"}}), 5) << text;
  EXPECT_EQ(metric_value(text, "total_requests_total", {{"component", "CloudController"}, {"is_routed_app", "no"}}), 1);
  EXPECT_EQ(metric_value(text, "total_requests_total", {{"component", "-"}, {"is_routed_app", "no"}}), 4);
  EXPECT_EQ(metric_value(text, "latency_count", {{"component", "CloudController"}}), 1);
  EXPECT_EQ(metric_value(text, "latency_bucket", {{"component", "CloudController"}, {"le", "5"}}), 1);
  EXPECT_EQ(metric_value(text, "responses_total", {{"status_group", "2xx"}}), 5);
  EXPECT_EQ(metric_value(text, "responses_total", {{"status_group", "xxx"}}), 1);
  EXPECT_EQ(metric_value(text, "router_errors_total", {{"failure", "unknown_route"}, {"router_error", "unknown_route"}}), 4);
  EXPECT_EQ(metric_value(text, "router_errors_total", {{"failure", "dial_timeout"}, {"router_error", "endpoint_failure"}}), 0)
      << "every row exists from the start";
  EXPECT_EQ(metric_value(text, "backend_invalid_id_total", {}), 1);
  EXPECT_EQ(metric_value(text, "upstream_idle_connections", {}), 7);
  EXPECT_EQ(metric_value(text, "active_client_connections", {}), 3);
  EXPECT_EQ(metric_value(text, "workers", {}), 2);
  // Counters only grow: a later, smaller sum (never happens) changes nothing.
  m.publish(WorkerStats{}, slots, 0, 2);
  EXPECT_EQ(metric_value(registry.serialize(), "responses_total", {{"status_group", "2xx"}}), 5);
}

TEST(ComponentSlots, BoundedWithOtherAndNone) {
  route::ComponentSlots slots;
  EXPECT_EQ(slots.slot(""), route::ComponentSlots::kEmpty);
  for (int i = 0; i < route::ComponentSlots::kNamed; ++i) EXPECT_EQ(slots.slot("c" + std::to_string(i)), i + 1);
  EXPECT_EQ(slots.slot("c3"), 4);
  EXPECT_EQ(slots.slot("one-too-many"), route::ComponentSlots::kOther);
  EXPECT_EQ(slots.name(route::ComponentSlots::kOther), "other");
  EXPECT_EQ(slots.name(route::ComponentSlots::kNone), "-");
  EXPECT_EQ(slots.name(1), "c0");
}

}  // namespace
}  // namespace sy::proxy
