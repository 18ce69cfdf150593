// ingest_tool: measures registration ingest through a real nats-server.
// A measurement tool, not a test: it asserts nothing, it prints figures.
//
//   burst      publish --count distinct router.register messages as fast as
//              nats.c allows, flush, and poll the router's status /metrics
//              (total_endpoints) until every endpoint is in the table.
//              Prints publish and end-to-end messages/s and how many endpoints
//              never arrived (dropped: nats.c slow-consumer drops in the router,
//              or a server-side slow-consumer disconnect, see --nats-monitor).
//              --rate R paces the publisher instead (R msg/s).
//   heartbeat  republish the same --count registrations spread evenly over
//              --period seconds (gorouter heartbeats), for --duration seconds
//              or until SIGTERM/SIGINT. Prints the rate achieved.
//   latency    --trials times: while idle, publish one register for a fresh
//              host -> --backend and poll the proxy (--proxy) with that Host
//              until it answers 200. Prints the time from just before the
//              publish to the first 200 (includes one probe round trip).
//
// Every mode is bounded in time (--timeout). Only talks to the addresses given.
// Output: one machine-readable line (INGEST / HEARTBEAT / LATENCY key=value ...)
// on stdout; progress on stderr.
#include <arpa/inet.h>
#include <nats/nats.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cctype>
#include <cinttypes>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "bench/raw_tcp.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::duration;

double seconds_since(Clock::time_point t0, Clock::time_point t1) { return duration<double>(t1 - t0).count(); }

[[noreturn]] void die(const std::string& msg) {
  std::fprintf(stderr, "ingest_tool: %s\n", msg.c_str());
  std::exit(2);
}

struct Addr {
  std::string host = "127.0.0.1";
  int port = 0;
};

Addr parse_addr(const std::string& s, const char* what) {
  Addr a;
  auto colon = s.rfind(':');
  if (colon == std::string::npos) die(std::string(what) + ": want HOST:PORT, got '" + s + "'");
  a.host = s.substr(0, colon);
  a.port = std::atoi(s.c_str() + colon + 1);
  if (a.port <= 0 || a.port > 65535) die(std::string(what) + ": bad port in '" + s + "'");
  return a;
}

// ---------------------------------------------------------------- raw HTTP ---
int connect_to(const Addr& a, int timeout_ms) { return sy::bench::connect_to(a.host, a.port, timeout_ms); }
using sy::bench::send_all;

// One request per connection, with a deadline. Returns the whole response
// (head + body) or nullopt on any error.
std::optional<std::string> http_get(const Addr& a, const std::string& host, const std::string& path,
                                    int timeout_ms = 2000) {
  int fd = connect_to(a, timeout_ms);
  if (fd < 0) return std::nullopt;
  std::string req = "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n";
  std::string out;
  if (send_all(fd, req)) {
    char buf[65536];
    for (;;) {
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
  }
  ::close(fd);
  if (out.empty()) return std::nullopt;
  return out;
}

// The status code of a response, or 0.
int http_status(const std::string& resp) {
  if (resp.size() < 12 || resp.compare(0, 5, "HTTP/") != 0) return 0;
  return std::atoi(resp.c_str() + 9);
}

// Value of an unlabelled Prometheus sample `name value`, or -1.
double prom_value(const std::string& text, const std::string& name) {
  size_t pos = 0;
  while ((pos = text.find(name, pos)) != std::string::npos) {
    bool line_start = pos == 0 || text[pos - 1] == '\n';
    size_t after = pos + name.size();
    if (line_start && after < text.size() && (text[after] == ' ' || text[after] == '{')) {
      size_t sp = text.find(' ', after);
      if (text[after] == '{') sp = text.find(' ', text.find('}', after));
      if (sp == std::string::npos) return -1;
      return std::strtod(text.c_str() + sp + 1, nullptr);
    }
    pos = after;
  }
  return -1;
}

// Integer value of `"key": N` in a JSON document (nats-server /varz), or -1.
long long json_int(const std::string& text, const std::string& key) {
  auto pos = text.find("\"" + key + "\"");
  if (pos == std::string::npos) return -1;
  pos = text.find(':', pos);
  if (pos == std::string::npos) return -1;
  return std::strtoll(text.c_str() + pos + 1, nullptr, 10);
}

// Messages nats-server has sent to the router's connection(s) (named
// "switchyard-<index>-<uuid>"), from /connz; -1 if unknown. A gap between this
// and what the router applied means the router dropped them itself (nats.c's
// pending limits: client-side slow consumer, which nats-server cannot see).
long long nats_out_msgs_to_router(const std::optional<Addr>& monitor) {
  if (!monitor) return -1;
  auto r = http_get(*monitor, "127.0.0.1", "/connz?limit=1024");
  if (!r || http_status(*r) != 200) return -1;
  long long total = 0;
  size_t pos = 0;
  while ((pos = r->find("\"cid\":", pos)) != std::string::npos) {
    size_t end = r->find("\"cid\":", pos + 6);
    std::string conn = r->substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    auto name = conn.find("\"name\": \"switchyard-");
    if (name != std::string::npos && std::isdigit(static_cast<unsigned char>(conn[name + 20])))
      total += std::max(0LL, json_int(conn, "out_msgs"));
    pos += 6;
  }
  return total;
}

double router_endpoints(const Addr& status) {
  auto r = http_get(status, "127.0.0.1", "/metrics");
  if (!r || http_status(*r) != 200) return -1;
  return prom_value(*r, "total_endpoints");
}

long long nats_slow_consumers(const std::optional<Addr>& monitor) {
  if (!monitor) return -1;
  auto r = http_get(*monitor, "127.0.0.1", "/varz");
  if (!r || http_status(*r) != 200) return -1;
  return json_int(*r, "slow_consumers");
}

// ---------------------------------------------------------------- messages ---
// A Diego-like mix: apps with 1-4 instances each (same uri, distinct
// host:port), cells of 200 containers (10.x.y.z, ports 61000+), 10% of apps
// mounted on a path of a shared host, 5% with a second (custom-domain) uri,
// app guid / instance id / index like route-emitter sends. Every message is a
// distinct (uri, host:port) pair, so each adds uris.size() endpoints.
struct Message {
  std::string payload;
  int uris = 1;
};

std::string guid(uint64_t a, uint64_t b) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%08" PRIx64 "-%04" PRIx64 "-4%03" PRIx64 "-8%03" PRIx64 "-%012" PRIx64,
                (a * 2654435761u) & 0xffffffffu, b & 0xffff, (a >> 4) & 0xfff, (b >> 8) & 0xfff,
                static_cast<uint64_t>((a * 40503u + b * 2246822519u) & 0xffffffffffffull));
  return buf;
}

Message make_message(uint64_t i, const std::string& prefix) {
  // Blocks of 10 messages = 4 apps with 1, 2, 3 and 4 instances.
  static constexpr int kApp[10] = {0, 1, 1, 2, 2, 2, 3, 3, 3, 3};
  static constexpr int kInst[10] = {0, 0, 1, 0, 1, 2, 0, 1, 2, 3};
  uint64_t app = (i / 10) * 4 + kApp[i % 10];
  int instance = kInst[i % 10];
  uint64_t cell = i / 200;
  int port = 61000 + static_cast<int>(i % 200);
  char ip[32];
  std::snprintf(ip, sizeof ip, "10.%u.%u.%u", static_cast<unsigned>(1 + cell / 65536),
                static_cast<unsigned>((cell / 256) % 256), static_cast<unsigned>(cell % 256));
  std::string uri1;
  if (app % 10 == 7) {
    uri1 = prefix + "shared-" + std::to_string(app / 100) + ".apps.example.com/svc-" + std::to_string(app);
  } else {
    uri1 = prefix + "app-" + std::to_string(app) + ".apps.example.com";
  }
  Message m;
  std::string uris = "\"" + uri1 + "\"";
  if (app % 20 == 3) {
    uris += ",\"www." + prefix + "app-" + std::to_string(app) + ".example.org\"";
    m.uris = 2;
  }
  m.payload = std::string("{\"host\":\"") + ip + "\",\"port\":" + std::to_string(port) + ",\"uris\":[" + uris +
              "],\"app\":\"" + guid(app, 7) + "\",\"private_instance_id\":\"" + guid(i, 11) +
              "\",\"private_instance_index\":\"" + std::to_string(instance) +
              "\",\"tags\":{\"component\":\"bench\"}}";
  return m;
}

// ------------------------------------------------------------------- NATS ---
struct Nats {
  natsConnection* conn = nullptr;
  natsOptions* opts = nullptr;
  Nats(const std::string& url, bool send_asap, int iobuf) {
    if (natsOptions_Create(&opts) != NATS_OK) die("nats options");
    natsOptions_SetURL(opts, url.c_str());
    natsOptions_SetName(opts, "switchyard-ingest-tool");
    natsOptions_SetTimeout(opts, 5000);
    natsOptions_SetMaxReconnect(opts, 0);
    if (send_asap) natsOptions_SetSendAsap(opts, true);
    if (iobuf > 0) natsOptions_SetIOBufSize(opts, iobuf);
    natsStatus s = natsConnection_Connect(&conn, opts);
    if (s != NATS_OK) die("cannot connect to " + url + ": " + natsStatus_GetText(s));
  }
  ~Nats() {
    natsConnection_Destroy(conn);
    natsOptions_Destroy(opts);
  }
  void publish(const char* subject, const std::string& payload) {
    natsStatus s = natsConnection_Publish(conn, subject, payload.data(), static_cast<int>(payload.size()));
    if (s != NATS_OK) die(std::string("publish: ") + natsStatus_GetText(s));
  }
  void flush(int timeout_ms) {
    natsStatus s = natsConnection_FlushTimeout(conn, timeout_ms);
    if (s != NATS_OK) die(std::string("flush: ") + natsStatus_GetText(s));
  }
};

std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop = true; }

struct Options {
  std::string mode = "burst";
  std::string nats_url;
  std::optional<Addr> status, monitor, proxy, backend;
  uint64_t count = 100000;
  std::string prefix;
  double timeout_s = 120;
  int poll_ms = 5;
  double settle_s = 3;
  double period_s = 20;
  double duration_s = 0;
  int trials = 50;
  int gap_ms = 50;
  int iobuf = 0;
  double rate = 0;
  std::string subject = "router.register";
};

void usage() {
  std::fprintf(stderr,
               "usage: ingest_tool --nats URL [--mode burst|heartbeat|latency] [options]\n"
               "  --count N            registrations (burst, heartbeat)             default 100000\n"
               "  --prefix STR         prefix of every generated host name          default ''\n"
               "  --status HOST:PORT   router status listener (burst: required)\n"
               "  --nats-monitor H:P   nats-server monitoring port (reads /varz slow_consumers)\n"
               "  --poll-ms MS         /metrics poll interval (burst)              default 5\n"
               "  --rate R             burst: pace publishing at R msg/s (0 = as fast as possible)\n"
               "  --settle S           give up when total_endpoints stays unchanged this long\n"
               "                       after the flush (burst)                       default 3\n"
               "  --period S           heartbeat interval of each route (heartbeat) default 20\n"
               "  --duration S         heartbeat: stop after S seconds (0 = at SIGTERM, bounded by --timeout)\n"
               "  --subject S          heartbeat: publish on S instead of router.register (a control\n"
               "                       run: same publisher and nats-server load, nothing for the router)\n"
               "  --proxy HOST:PORT    router proxy listener (latency)\n"
               "  --backend HOST:PORT  what the fresh routes point at; must answer 200 (latency)\n"
               "  --trials K           latency trials                               default 50\n"
               "  --gap-ms MS          idle time before each trial                 default 50\n"
               "  --iobuf BYTES        nats.c I/O buffer (0 = nats.c default)\n"
               "  --timeout S          hard bound for the whole run                 default 120\n");
}

Options parse_args(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto val = [&]() -> std::string {
      if (i + 1 >= argc) die("option " + a + " needs a value");
      return argv[++i];
    };
    if (a == "-h" || a == "--help") {
      usage();
      std::exit(0);
    } else if (a == "--mode") {
      o.mode = val();
    } else if (a == "--nats") {
      o.nats_url = val();
    } else if (a == "--status") {
      o.status = parse_addr(val(), "--status");
    } else if (a == "--nats-monitor") {
      o.monitor = parse_addr(val(), "--nats-monitor");
    } else if (a == "--proxy") {
      o.proxy = parse_addr(val(), "--proxy");
    } else if (a == "--backend") {
      o.backend = parse_addr(val(), "--backend");
    } else if (a == "--count") {
      o.count = std::strtoull(val().c_str(), nullptr, 10);
    } else if (a == "--prefix") {
      o.prefix = val();
    } else if (a == "--timeout") {
      o.timeout_s = std::atof(val().c_str());
    } else if (a == "--poll-ms") {
      o.poll_ms = std::atoi(val().c_str());
    } else if (a == "--settle") {
      o.settle_s = std::atof(val().c_str());
    } else if (a == "--period") {
      o.period_s = std::atof(val().c_str());
    } else if (a == "--duration") {
      o.duration_s = std::atof(val().c_str());
    } else if (a == "--trials") {
      o.trials = std::atoi(val().c_str());
    } else if (a == "--gap-ms") {
      o.gap_ms = std::atoi(val().c_str());
    } else if (a == "--subject") {
      o.subject = val();
    } else if (a == "--rate") {
      o.rate = std::atof(val().c_str());
    } else if (a == "--iobuf") {
      o.iobuf = std::atoi(val().c_str());
    } else {
      usage();
      die("unknown option " + a);
    }
  }
  if (o.nats_url.empty()) die("--nats URL is required");
  if (o.count == 0) die("--count must be > 0");
  if (o.timeout_s <= 0) die("--timeout must be > 0");
  if (o.poll_ms < 1) o.poll_ms = 1;
  return o;
}

// ------------------------------------------------------------------ burst ---
int run_burst(const Options& o) {
  if (!o.status) die("burst needs --status HOST:PORT");
  const auto deadline = Clock::now() + duration<double>(o.timeout_s);
  std::fprintf(stderr, "ingest_tool: generating %" PRIu64 " registrations...\n", o.count);
  std::vector<Message> msgs;
  msgs.reserve(o.count);
  uint64_t expected = 0, bytes = 0;
  for (uint64_t i = 0; i < o.count; ++i) {
    msgs.push_back(make_message(i, o.prefix));
    expected += static_cast<uint64_t>(msgs.back().uris);
    bytes += msgs.back().payload.size();
  }
  std::fprintf(stderr, "ingest_tool: %" PRIu64 " messages, %" PRIu64 " endpoints, avg %.0f bytes; sample: %s\n",
               o.count, expected, static_cast<double>(bytes) / static_cast<double>(o.count), msgs[0].payload.c_str());

  Nats nats(o.nats_url, false, o.iobuf);
  double base = router_endpoints(*o.status);
  if (base < 0) die("cannot read total_endpoints from the router's /metrics");
  long long slow_before = nats_slow_consumers(o.monitor);
  long long delivered_before = nats_out_msgs_to_router(o.monitor);
  const double target = base + static_cast<double>(expected);

  // The poller: total_endpoints every poll_ms; records when the target is
  // reached, or gives up after settle_s without change once publishing ended.
  std::atomic<bool> published{false};
  Clock::time_point t0, t_done{};
  std::atomic<bool> t0_set{false};
  double last_value = base;
  int polls = 0;
  std::thread poller([&] {
    while (!t0_set.load()) std::this_thread::sleep_for(std::chrono::microseconds(100));
    Clock::time_point last_change = Clock::now();
    for (;;) {
      double v = router_endpoints(*o.status);
      auto now = Clock::now();
      ++polls;
      if (v >= 0 && v != last_value) {
        last_value = v;
        last_change = now;
      }
      if (v >= target) {
        t_done = now;
        return;
      }
      if (now > deadline) return;
      if (published.load() && seconds_since(last_change, now) > o.settle_s) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(o.poll_ms));
    }
  });

  t0 = Clock::now();
  t0_set = true;
  if (o.rate <= 0) {
    for (const Message& m : msgs) nats.publish("router.register", m.payload);
  } else {  // paced: message k not before t0 + k / rate
    for (uint64_t k = 0; k < msgs.size(); ++k) {
      if (k % 64 == 0) {
        auto due = t0 + std::chrono::duration_cast<Clock::duration>(duration<double>(static_cast<double>(k) / o.rate));
        if (Clock::now() < due) std::this_thread::sleep_until(due);
      }
      nats.publish("router.register", msgs[k].payload);
    }
  }
  auto t_loop = Clock::now();
  nats.flush(static_cast<int>(std::max(1000.0, o.timeout_s * 1000)));
  auto t_flush = Clock::now();
  published = true;
  poller.join();

  long long slow_after = nats_slow_consumers(o.monitor);
  long long delivered_after = nats_out_msgs_to_router(o.monitor);
  const double reached = std::max(0.0, last_value - base);
  const uint64_t missing = reached >= static_cast<double>(expected) ? 0 : expected - static_cast<uint64_t>(reached);
  const double pub_s = seconds_since(t0, t_flush);
  const double n = static_cast<double>(o.count);
  std::printf("INGEST messages=%" PRIu64 " endpoints_expected=%" PRIu64 " endpoints_reached=%.0f"
              " publish_loop_s=%.3f publish_s=%.3f publish_per_s=%.0f",
              o.count, expected, reached, seconds_since(t0, t_loop), pub_s, n / pub_s);
  if (t_done != Clock::time_point{}) {
    const double e2e = seconds_since(t0, t_done);
    std::printf(" end_to_end_s=%.3f end_to_end_per_s=%.0f", e2e, n / e2e);
  } else {
    std::printf(" end_to_end_s=n/a end_to_end_per_s=n/a");
  }
  std::printf(" missing_endpoints=%" PRIu64 " slow_consumers_delta=", missing);
  if (slow_before >= 0 && slow_after >= 0)
    std::printf("%lld", slow_after - slow_before);
  else
    std::printf("n/a");
  // Includes anything else the router received meanwhile (its own router.start).
  std::printf(" server_sent_to_router=");
  if (delivered_before >= 0 && delivered_after >= 0)
    std::printf("%lld", delivered_after - delivered_before);
  else
    std::printf("n/a");
  std::printf(" rate_limit=%.0f polls=%d poll_ms=%d\n", o.rate, polls, o.poll_ms);
  std::fflush(stdout);
  return 0;
}

// -------------------------------------------------------------- heartbeat ---
int run_heartbeat(const Options& o) {
  std::vector<Message> msgs;
  msgs.reserve(o.count);
  for (uint64_t i = 0; i < o.count; ++i) msgs.push_back(make_message(i, o.prefix));
  Nats nats(o.nats_url, false, o.iobuf);
  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);
  const double limit = o.duration_s > 0 ? std::min(o.duration_s, o.timeout_s) : o.timeout_s;
  const double interval = o.period_s / static_cast<double>(o.count);  // seconds between messages
  std::fprintf(stderr, "ingest_tool: heartbeating %" PRIu64 " routes every %.1f s (%.0f msg/s) for up to %.1f s\n",
               o.count, o.period_s, 1.0 / interval, limit);
  const auto t0 = Clock::now();
  uint64_t sent = 0;
  double late_max = 0;  // how far behind schedule the publisher ever got (s)
  while (!g_stop.load()) {
    auto now = Clock::now();
    double el = seconds_since(t0, now);
    if (el >= limit) break;
    // Publish everything due by now (message k is due at k * interval).
    uint64_t due = static_cast<uint64_t>(el / interval) + 1;
    if (due > sent) late_max = std::max(late_max, el - static_cast<double>(sent) * interval);
    while (sent < due) {
      nats.publish(o.subject.c_str(), msgs[sent % o.count].payload);
      ++sent;
    }
    // Sleep until the next message is due, at least 1 ms (batches of rate/1000).
    double next = static_cast<double>(sent) * interval;
    auto wake = t0 + std::chrono::duration_cast<Clock::duration>(duration<double>(next));
    auto min_wake = Clock::now() + std::chrono::milliseconds(1);
    std::this_thread::sleep_until(std::max(wake, min_wake));
  }
  nats.flush(5000);
  double el = seconds_since(t0, Clock::now());
  std::printf("HEARTBEAT routes=%" PRIu64 " period_s=%.1f published=%" PRIu64 " seconds=%.2f rate_per_s=%.0f"
              " target_per_s=%.0f max_behind_ms=%.1f subject=%s\n",
              o.count, o.period_s, sent, el, static_cast<double>(sent) / el, 1.0 / interval, late_max * 1000,
              o.subject.c_str());
  std::fflush(stdout);
  return 0;
}

// ---------------------------------------------------------------- latency ---
double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  // nearest-rank
  size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
  rank = std::clamp<size_t>(rank, 1, v.size());
  return v[rank - 1];
}

int run_latency(const Options& o) {
  if (!o.proxy || !o.backend) die("latency needs --proxy HOST:PORT and --backend HOST:PORT");
  const auto deadline = Clock::now() + duration<double>(o.timeout_s);
  Nats nats(o.nats_url, true, o.iobuf);  // send-asap: no client-side batching delay
  std::vector<double> ms;
  std::vector<std::string> payloads;
  int failed = 0, probes_total = 0;
  const std::string tag = std::to_string(static_cast<long long>(::getpid()));
  for (int k = 0; k < o.trials && Clock::now() < deadline; ++k) {
    std::this_thread::sleep_for(std::chrono::milliseconds(o.gap_ms));  // idle router
    const std::string host = "lat-" + o.prefix + tag + "-" + std::to_string(k) + ".bench.example.com";
    const std::string payload = "{\"host\":\"" + o.backend->host + "\",\"port\":" + std::to_string(o.backend->port) +
                                ",\"uris\":[\"" + host + "\"],\"tags\":{\"component\":\"bench\"}}";
    payloads.push_back(payload);
    auto t0 = Clock::now();
    nats.publish("router.register", payload);
    bool ok = false;
    int probes = 0;
    while (Clock::now() - t0 < std::chrono::seconds(2) && Clock::now() < deadline) {
      auto r = http_get(*o.proxy, host, "/", 1000);
      ++probes;
      if (r && http_status(*r) == 200) {
        ms.push_back(duration<double, std::milli>(Clock::now() - t0).count());
        ok = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    probes_total += probes;
    if (!ok) ++failed;
  }
  for (const auto& p : payloads) nats.publish("router.unregister", p);
  nats.flush(5000);
  std::printf("LATENCY trials=%d ok=%zu failed=%d probes=%d min_ms=%.2f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f\n",
              o.trials, ms.size(), failed, probes_total, ms.empty() ? 0 : *std::min_element(ms.begin(), ms.end()),
              percentile(ms, 50), percentile(ms, 90), percentile(ms, 99),
              ms.empty() ? 0 : *std::max_element(ms.begin(), ms.end()));
  std::fflush(stdout);
  return failed == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse_args(argc, argv);
  std::signal(SIGPIPE, SIG_IGN);
  // Hard bound, whatever happens (a stuck flush, a hung router).
  std::thread([t = o.timeout_s + 15] {
    std::this_thread::sleep_for(duration<double>(t));
    std::fprintf(stderr, "ingest_tool: hard timeout, exiting\n");
    std::_Exit(3);
  }).detach();
  int rc;
  if (o.mode == "burst") {
    rc = run_burst(o);
  } else if (o.mode == "heartbeat") {
    rc = run_heartbeat(o);
  } else if (o.mode == "latency") {
    rc = run_latency(o);
  } else {
    die("unknown --mode " + o.mode);
  }
  nats_Close();
  return rc;
}
