// idle_conns_tool: memory of idle keep-alive client connections in a router.
// A measurement tool, not a test: it prints figures, it asserts nothing.
//
// Reads the router's VmRSS (/proc/PID/status), then opens --count TCP
// connections to the proxy port, sends one complete keep-alive GET with
// --host on each and reads the whole response, keeps every connection open
// and idle, waits --settle-ms, and reads VmRSS again:
//   rss_per_conn_bytes = (VmRSS after - VmRSS before) / count
// It also checks that the connections are still open (not closed by the
// router), counts the router's open descriptors, and finally closes them all
// and reads VmRSS once more (is the memory given back?).
//
// Needs RLIMIT_NOFILE > count in this process (raised to the hard limit here)
// and in the router. Bounded by --timeout. Only talks to --proxy.
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "bench/raw_tcp.hpp"

namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void die(const std::string& msg) {
  std::fprintf(stderr, "idle_conns_tool: %s\n", msg.c_str());
  std::exit(2);
}

struct Options {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string route_host = "bench.local";
  std::string path = "/";
  int count = 10000;
  int pid = 0;
  int settle_ms = 1000;
  double timeout_s = 120;
};

// kB value of a /proc/PID/status line ("VmRSS:", "RssAnon:", ...), or -1.
long status_kib(int pid, const std::string& key) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.compare(0, key.size(), key) == 0) return std::atol(line.c_str() + key.size());
  return -1;
}

int open_fds(int pid) {
  std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  DIR* d = opendir(dir.c_str());
  if (!d) return -1;
  int n = 0;
  while (dirent* e = readdir(d))
    if (e->d_name[0] != '.') ++n;
  closedir(d);
  return n;
}

int connect_to(const Options& o) { return sy::bench::connect_to(o.host, o.port, 5000); }

// Reads one whole response (Content-Length or chunked). Returns the status or
// 0 on error/close.
int read_response(int fd) {
  std::string buf;
  char tmp[16384];
  size_t head_end = std::string::npos;
  while (head_end == std::string::npos) {
    ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
    if (n <= 0) return 0;
    buf.append(tmp, static_cast<size_t>(n));
    head_end = buf.find("\r\n\r\n");
    if (buf.size() > 1 << 20) return 0;
  }
  if (buf.compare(0, 5, "HTTP/") != 0 || buf.size() < 12) return 0;
  int status = std::atoi(buf.c_str() + 9);
  std::string head = buf.substr(0, head_end);
  for (auto& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  size_t body_have = buf.size() - head_end - 4;
  auto cl = head.find("\r\ncontent-length:");
  if (cl != std::string::npos) {
    size_t want = std::strtoull(head.c_str() + cl + 17, nullptr, 10);
    while (body_have < want) {
      ssize_t n = ::recv(fd, tmp, std::min(sizeof tmp, want - body_have), 0);
      if (n <= 0) return 0;
      body_have += static_cast<size_t>(n);
    }
    return status;
  }
  if (head.find("transfer-encoding: chunked") != std::string::npos) {
    std::string body = buf.substr(head_end + 4);
    while (body.find("\r\n0\r\n\r\n") == std::string::npos && body.compare(0, 5, "0\r\n\r\n") != 0) {
      ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
      if (n <= 0) return 0;
      body.append(tmp, static_cast<size_t>(n));
    }
    return status;
  }
  return status;  // no body (e.g. 204/304)
}

bool still_open(int fd) {
  char c;
  ssize_t n = ::recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

void usage() {
  std::fprintf(stderr,
               "usage: idle_conns_tool --proxy HOST:PORT --pid ROUTER_PID [options]\n"
               "  --host NAME      Host header of the GET (a registered route)   default bench.local\n"
               "  --path PATH      request target                                 default /\n"
               "  --count N        connections                                    default 10000\n"
               "  --settle-ms MS   wait before each RSS reading                   default 1000\n"
               "  --timeout S      hard bound for the whole run                   default 120\n");
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto val = [&]() -> std::string {
      if (i + 1 >= argc) die("option " + a + " needs a value");
      return argv[++i];
    };
    if (a == "-h" || a == "--help") {
      usage();
      return 0;
    } else if (a == "--proxy") {
      std::string v = val();
      auto c = v.rfind(':');
      if (c == std::string::npos) die("--proxy wants HOST:PORT");
      o.host = v.substr(0, c);
      o.port = std::atoi(v.c_str() + c + 1);
    } else if (a == "--host") {
      o.route_host = val();
    } else if (a == "--path") {
      o.path = val();
    } else if (a == "--count") {
      o.count = std::atoi(val().c_str());
    } else if (a == "--pid") {
      o.pid = std::atoi(val().c_str());
    } else if (a == "--settle-ms") {
      o.settle_ms = std::atoi(val().c_str());
    } else if (a == "--timeout") {
      o.timeout_s = std::atof(val().c_str());
    } else {
      usage();
      die("unknown option " + a);
    }
  }
  if (o.port <= 0 || o.port > 65535) die("--proxy HOST:PORT is required");
  if (o.pid <= 0) die("--pid is required");
  if (o.count <= 0) die("--count must be > 0");
  std::signal(SIGPIPE, SIG_IGN);
  std::thread([t = o.timeout_s] {
    std::this_thread::sleep_for(std::chrono::duration<double>(t));
    std::fprintf(stderr, "idle_conns_tool: hard timeout, exiting\n");
    std::_Exit(3);
  }).detach();

  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    getrlimit(RLIMIT_NOFILE, &rl);
  }
  if (rl.rlim_cur < static_cast<rlim_t>(o.count) + 32)
    die("RLIMIT_NOFILE is " + std::to_string(rl.rlim_cur) + ", need > " + std::to_string(o.count + 32));
  long router_nofile = -1;
  {
    std::ifstream lim("/proc/" + std::to_string(o.pid) + "/limits");
    std::string line;
    while (std::getline(lim, line))
      if (line.rfind("Max open files", 0) == 0) router_nofile = std::atol(line.c_str() + 26);
  }
  if (router_nofile >= 0 && router_nofile < o.count + 32)
    std::fprintf(stderr, "idle_conns_tool: warning: the router's open-files limit is %ld (< count %d)\n",
                 router_nofile, o.count);

  const std::string req = "GET " + o.path + " HTTP/1.1\r\nHost: " + o.route_host +
                          "\r\nUser-Agent: idle_conns_tool\r\nAccept: */*\r\n\r\n";
  auto one_request = [&](int fd) { return sy::bench::send_all(fd, req) ? read_response(fd) : 0; };

  // Warm-up: one request (first-request allocations: snapshot cache, upstream
  // pool, ...), so "before" is a router that has served traffic.
  {
    int fd = connect_to(o);
    if (fd < 0) die("cannot connect to the proxy");
    int st = one_request(fd);
    ::close(fd);
    if (st != 200) die("warm-up GET with Host " + o.route_host + " returned " + std::to_string(st) + ", want 200");
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(o.settle_ms));
  const long rss0 = status_kib(o.pid, "VmRSS:");
  const long anon0 = status_kib(o.pid, "RssAnon:");
  const int fds0 = open_fds(o.pid);
  if (rss0 < 0) die("cannot read /proc/" + std::to_string(o.pid) + "/status");

  std::vector<int> fds;
  fds.reserve(static_cast<size_t>(o.count));
  int errors = 0;
  auto t0 = Clock::now();
  for (int i = 0; i < o.count; ++i) {
    int fd = connect_to(o);
    if (fd < 0) {
      ++errors;
      if (errors > 10) die("too many connect errors at connection " + std::to_string(i) + ": " + std::strerror(errno));
      continue;
    }
    int st = one_request(fd);
    if (st != 200) {
      ++errors;
      ::close(fd);
      if (errors > 10) die("too many failed requests (last status " + std::to_string(st) + ") at " + std::to_string(i));
      continue;
    }
    fds.push_back(fd);
  }
  const double open_s = std::chrono::duration<double>(Clock::now() - t0).count();
  std::this_thread::sleep_for(std::chrono::milliseconds(o.settle_ms));
  const long rss1 = status_kib(o.pid, "VmRSS:");
  const long anon1 = status_kib(o.pid, "RssAnon:");
  const long hwm = status_kib(o.pid, "VmHWM:");
  const int fds1 = open_fds(o.pid);
  int open = 0;
  for (int fd : fds) open += still_open(fd) ? 1 : 0;

  for (int fd : fds) ::close(fd);
  std::this_thread::sleep_for(std::chrono::milliseconds(o.settle_ms));
  const long rss2 = status_kib(o.pid, "VmRSS:");

  const double n = static_cast<double>(fds.size());
  std::printf("IDLE n=%zu errors=%d still_open=%d open_s=%.2f rss_before_kib=%ld rss_after_kib=%ld"
              " rss_per_conn_bytes=%.0f rss_anon_per_conn_bytes=%.0f vm_hwm_kib=%ld router_fds_before=%d"
              " router_fds_after=%d rss_after_close_kib=%ld\n",
              fds.size(), errors, open, open_s, rss0, rss1, n > 0 ? static_cast<double>(rss1 - rss0) * 1024.0 / n : 0.0,
              n > 0 ? static_cast<double>(anon1 - anon0) * 1024.0 / n : 0.0, hwm, fds0, fds1, rss2);
  std::fflush(stdout);
  return 0;
}
