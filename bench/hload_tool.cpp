// hload_tool: a closed-loop HTTP/1.1 load generator that counts the requests
// that never complete. wrk does not: a connection whose request wedges (a
// stuck tunnel stream) just stops contributing, and the run still looks fast.
//
//   hload_tool [-t1] -c CONNS -d SECONDS[s] [--grace S] [-H 'Name: value']... URL
//
// Takes wrk's flags (-t must be 1; --latency and -s FILE are accepted and
// ignored) so bench/proxy-compare.sh can run it in wrk's place, and prints
// the same `WRKSTATS ...` line as the harness's wrk script, plus
//   sent=N              requests written
//   late=N              responses that came after the deadline, within --grace
//   never_completed=N   sent - responses received by the end of the grace
//                       (requests still waiting then, or whose connection
//                       closed or failed before the whole response came)
// Each connection has at most one request in flight. At the deadline no new
// request is sent; the ones in flight get --grace seconds (default 2) to
// finish. `requests` and req/s count the responses completed before the
// deadline, like wrk. A connection that fails is reopened (err_connect /
// err_read). Responses need Content-Length (or no body: 204/304/HEAD);
// `Connection: close` (sent or answered) closes and reopens per request.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

namespace {

uint64_t now_us() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000u + static_cast<uint64_t>(ts.tv_nsec) / 1000u;
}

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "hload_tool: %s\nusage: hload_tool [-t1] -c CONNS -d SECONDS [--grace S] [-H 'Name: value']... "
               "http://127.0.0.1:PORT/PATH\n",
               why);
  std::exit(2);
}

bool iequals_prefix(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    char a = s[i], b = prefix[i];
    if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
    if (b >= 'A' && b <= 'Z') b = static_cast<char>(b - 'A' + 'a');
    if (a != b) return false;
  }
  return true;
}

struct Conn {
  int fd = -1;
  bool connecting = false;
  bool in_flight = false;   // a request was written, its response not complete
  bool want_write = false;  // EPOLLOUT armed for the rest of a request
  size_t written = 0;       // of the current request
  uint64_t start = 0;       // when the current request was first written
  std::string head;         // response head bytes so far (only when split across reads)
  bool in_body = false;
  uint64_t body_left = 0;
  bool close_after = false;
};

struct Stats {
  uint64_t sent = 0, completed = 0, completed_in_time = 0, late = 0, bytes = 0;
  uint64_t err_connect = 0, err_read = 0, err_write = 0, err_status = 0, err_timeout = 0;
  std::vector<uint32_t> lat_us;
};

class Load {
 public:
  Load(sockaddr_in addr, std::string request, bool close_mode)
      : addr_(addr), req_(std::move(request)), close_mode_(close_mode) {
    ep_ = epoll_create1(EPOLL_CLOEXEC);
    buf_.resize(256 * 1024);
  }

  void run(int conns, uint64_t duration_us, uint64_t grace_us) {
    conns_.resize(static_cast<size_t>(conns));
    stats_.lat_us.reserve(1 << 20);
    t0_ = now_us();
    deadline_ = t0_ + duration_us;
    for (size_t i = 0; i < conns_.size(); ++i) open(i);
    const uint64_t hard_end = deadline_ + grace_us;
    std::vector<epoll_event> evs(512);
    for (;;) {
      const uint64_t t = now_us();
      if (t >= deadline_ && !stopping_) stopping_ = true;
      if (stopping_ && (t >= hard_end || outstanding() == 0)) break;
      const int n = epoll_wait(ep_, evs.data(), static_cast<int>(evs.size()), 5);
      for (int k = 0; k < n; ++k) {
        const size_t i = evs[static_cast<size_t>(k)].data.u64;
        const uint32_t e = evs[static_cast<size_t>(k)].events;
        Conn& c = conns_[i];
        if (c.fd < 0) continue;
        if (c.connecting) {
          int err = 0;
          socklen_t len = sizeof err;
          getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
          if (err != 0 || (e & (EPOLLERR | EPOLLHUP)) != 0) {
            ++stats_.err_connect;
            reopen(i);
            continue;
          }
          c.connecting = false;
          arm(i, EPOLLIN);
          send_request(i);
          continue;
        }
        if ((e & EPOLLOUT) != 0 && c.want_write) write_more(i);
        if ((e & (EPOLLIN | EPOLLERR | EPOLLHUP)) != 0 && conns_[i].fd >= 0) read_some(i);
      }
    }
    end_ = now_us();
  }

  void report() {
    uint64_t never = stats_.sent - stats_.completed;
    std::vector<uint32_t>& l = stats_.lat_us;
    auto pct = [&](double p) -> uint64_t {
      if (l.empty()) return 0;
      size_t k = static_cast<size_t>(p / 100.0 * static_cast<double>(l.size() - 1));
      std::nth_element(l.begin(), l.begin() + static_cast<long>(k), l.end());
      return l[k];
    };
    uint64_t mx = l.empty() ? 0 : *std::max_element(l.begin(), l.end());
    const uint64_t p50 = pct(50), p90 = pct(90), p99 = pct(99);
    const uint64_t dur = deadline_ - t0_;
    std::printf("  %llu requests in %.2fs, %llu bytes; sent %llu, late %llu, never completed %llu\n",
                static_cast<unsigned long long>(stats_.completed_in_time), static_cast<double>(dur) / 1e6,
                static_cast<unsigned long long>(stats_.bytes), static_cast<unsigned long long>(stats_.sent),
                static_cast<unsigned long long>(stats_.late), static_cast<unsigned long long>(never));
    std::printf("Requests/sec: %.2f\n",
                static_cast<double>(stats_.completed_in_time) * 1e6 / static_cast<double>(dur));
    std::printf(
        "WRKSTATS requests=%llu duration_us=%llu bytes=%llu p50_us=%llu p90_us=%llu p99_us=%llu max_us=%llu "
        "err_connect=%llu err_read=%llu err_write=%llu err_status=%llu err_timeout=%llu "
        "sent=%llu late=%llu never_completed=%llu\n",
        static_cast<unsigned long long>(stats_.completed_in_time), static_cast<unsigned long long>(dur),
        static_cast<unsigned long long>(stats_.bytes), static_cast<unsigned long long>(p50),
        static_cast<unsigned long long>(p90), static_cast<unsigned long long>(p99),
        static_cast<unsigned long long>(mx), static_cast<unsigned long long>(stats_.err_connect),
        static_cast<unsigned long long>(stats_.err_read), static_cast<unsigned long long>(stats_.err_write),
        static_cast<unsigned long long>(stats_.err_status), static_cast<unsigned long long>(stats_.err_timeout),
        static_cast<unsigned long long>(stats_.sent), static_cast<unsigned long long>(stats_.late),
        static_cast<unsigned long long>(never));
  }

 private:
  size_t outstanding() const {
    size_t n = 0;
    for (const Conn& c : conns_) n += c.in_flight ? 1 : 0;
    return n;
  }

  void arm(size_t i, uint32_t events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = i;
    epoll_ctl(ep_, EPOLL_CTL_MOD, conns_[i].fd, &ev);
  }

  void open(size_t i) {
    Conn& c = conns_[i];
    c = Conn{};
    if (stopping_) return;
    c.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    epoll_event ev{};
    ev.data.u64 = i;
    if (connect(c.fd, reinterpret_cast<const sockaddr*>(&addr_), sizeof addr_) == 0) {
      ev.events = EPOLLIN;
      epoll_ctl(ep_, EPOLL_CTL_ADD, c.fd, &ev);
      send_request(i);
      return;
    }
    if (errno != EINPROGRESS) {
      ++stats_.err_connect;
      ::close(c.fd);
      c.fd = -1;
      return;
    }
    c.connecting = true;
    ev.events = EPOLLOUT;
    epoll_ctl(ep_, EPOLL_CTL_ADD, c.fd, &ev);
  }

  void reopen(size_t i) {
    Conn& c = conns_[i];
    if (c.fd >= 0) ::close(c.fd);  // close() removes it from the epoll set
    c.fd = -1;
    c.in_flight = false;
    open(i);
  }

  void fail(size_t i, uint64_t& counter) {
    ++counter;  // a request in flight on it is never completed: sent - completed shows it
    reopen(i);
  }

  void send_request(size_t i) {
    Conn& c = conns_[i];
    if (stopping_) return;
    c.in_flight = true;
    c.written = 0;
    c.in_body = false;
    c.head.clear();
    c.start = now_us();
    ++stats_.sent;
    write_more(i);
  }

  void write_more(size_t i) {
    Conn& c = conns_[i];
    while (c.written < req_.size()) {
      ssize_t n = ::send(c.fd, req_.data() + c.written, req_.size() - c.written, MSG_NOSIGNAL);
      if (n > 0) {
        c.written += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && errno == EAGAIN) {
        if (!c.want_write) {
          c.want_write = true;
          arm(i, EPOLLIN | EPOLLOUT);
        }
        return;
      }
      fail(i, stats_.err_write);
      return;
    }
    if (c.want_write) {
      c.want_write = false;
      arm(i, EPOLLIN);
    }
  }

  // Parses a complete head; false = malformed.
  bool parse_head(Conn& c, std::string_view head) {
    // "HTTP/1.1 200 OK\r\n..."
    if (head.size() < 12 || head.substr(0, 5) != "HTTP/") return false;
    const int status = std::atoi(std::string(head.substr(9, 3)).c_str());
    if (status < 100) return false;
    if (status > 399) ++stats_.err_status;
    bool have_len = false;
    uint64_t len = 0;
    bool conn_close = false;
    size_t pos = head.find("\r\n");
    while (pos != std::string_view::npos && pos + 2 < head.size()) {
      const size_t next = head.find("\r\n", pos + 2);
      std::string_view line = head.substr(pos + 2, (next == std::string_view::npos ? head.size() : next) - pos - 2);
      if (iequals_prefix(line, "content-length:")) {
        have_len = true;
        len = std::strtoull(std::string(line.substr(15)).c_str(), nullptr, 10);
      } else if (iequals_prefix(line, "connection:")) {
        conn_close = line.find("close") != std::string_view::npos || line.find("Close") != std::string_view::npos;
      } else if (iequals_prefix(line, "transfer-encoding:")) {
        return false;  // not needed by the bench backends
      }
      pos = next;
    }
    if (!have_len && !(status == 204 || status == 304)) return false;
    c.in_body = true;
    c.body_left = have_len ? len : 0;
    c.close_after = conn_close || close_mode_;
    return true;
  }

  void complete(size_t i) {
    Conn& c = conns_[i];
    const uint64_t t = now_us();
    ++stats_.completed;
    if (t <= deadline_) {
      ++stats_.completed_in_time;
      stats_.lat_us.push_back(static_cast<uint32_t>(std::min<uint64_t>(t - c.start, UINT32_MAX)));
    } else {
      ++stats_.late;
    }
    c.in_flight = false;
    c.in_body = false;
    c.head.clear();
    if (t >= deadline_) stopping_ = true;
    if (c.close_after) {
      reopen(i);
      return;
    }
    send_request(i);
  }

  void read_some(size_t i) {
    for (;;) {
      Conn& c = conns_[i];
      ssize_t n = ::recv(c.fd, buf_.data(), buf_.size(), 0);
      if (n == 0) {
        if (c.in_flight) {
          fail(i, stats_.err_read);
        } else {
          reopen(i);
        }
        return;
      }
      if (n < 0) {
        if (errno == EAGAIN) return;
        fail(i, stats_.err_read);
        return;
      }
      stats_.bytes += static_cast<uint64_t>(n);
      if (!c.in_flight) {  // bytes nobody asked for
        fail(i, stats_.err_read);
        return;
      }
      std::string_view data(buf_.data(), static_cast<size_t>(n));
      while (!data.empty()) {
        Conn& cc = conns_[i];
        if (!cc.in_body) {
          size_t end;
          std::string_view head;
          if (cc.head.empty()) {
            end = data.find("\r\n\r\n");
            if (end == std::string_view::npos) {
              cc.head.assign(data);
              data = {};
              break;
            }
            head = data.substr(0, end + 4);
            data.remove_prefix(end + 4);
          } else {
            const size_t old = cc.head.size();
            cc.head.append(data);
            const size_t from = old >= 3 ? old - 3 : 0;
            end = cc.head.find("\r\n\r\n", from);
            if (end == std::string::npos) {
              data = {};
              if (cc.head.size() > 65536) {
                fail(i, stats_.err_read);
                return;
              }
              break;
            }
            data.remove_prefix(end + 4 - old);
            cc.head.resize(end + 4);
            head = cc.head;
          }
          if (!parse_head(cc, head)) {
            fail(i, stats_.err_read);
            return;
          }
        }
        const uint64_t take = std::min<uint64_t>(cc.body_left, data.size());
        cc.body_left -= take;
        data.remove_prefix(take);
        if (cc.body_left == 0) {
          if (!data.empty()) {  // more than one response for one request
            fail(i, stats_.err_read);
            return;
          }
          complete(i);
          if (conns_[i].fd < 0 || !conns_[i].in_flight) return;
        }
      }
      if (static_cast<size_t>(n) < buf_.size()) return;  // drained (edge not needed: level-triggered)
    }
  }

  sockaddr_in addr_;
  std::string req_;
  bool close_mode_;
  int ep_ = -1;
  std::vector<char> buf_;
  std::vector<Conn> conns_;
  Stats stats_;
  uint64_t t0_ = 0, deadline_ = 0, end_ = 0;
  bool stopping_ = false;
};

double parse_seconds(const char* s) {
  char* end = nullptr;
  double v = std::strtod(s, &end);
  if (end == s) usage("bad duration");
  if (*end == 'm') v *= 60;
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  int conns = 64;
  double duration = 5, grace = 2;
  std::vector<std::string> headers;
  std::string url;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto val = [&](size_t skip) -> std::string {
      if (a.size() > skip) return a.substr(skip);  // -c64, -d5s, -t1
      if (i + 1 >= argc) usage("missing value");
      return argv[++i];
    };
    if (a.rfind("-t", 0) == 0 && a.rfind("--", 0) != 0) {
      if (std::atoi(val(2).c_str()) != 1) usage("-t must be 1 (one thread)");
    } else if (a.rfind("-c", 0) == 0) {
      conns = std::atoi(val(2).c_str());
    } else if (a.rfind("-d", 0) == 0) {
      duration = parse_seconds(val(2).c_str());
    } else if (a == "-H" || a == "--header") {
      headers.push_back(val(a.size()));
    } else if (a == "--grace") {
      grace = parse_seconds(val(a.size()).c_str());
    } else if (a == "--latency") {
    } else if (a == "-s" || a == "--script") {
      (void)val(a.size());
    } else if (a.rfind("http://", 0) == 0) {
      url = a;
    } else {
      usage(("unknown argument " + a).c_str());
    }
  }
  if (url.empty() || conns < 1 || duration <= 0) usage("need a URL, -c >= 1, -d > 0");
  std::string rest = url.substr(7);
  const size_t slash = rest.find('/');
  std::string hostport = rest.substr(0, slash), path = slash == std::string::npos ? "/" : rest.substr(slash);
  const size_t colon = hostport.rfind(':');
  std::string ip = hostport.substr(0, colon);
  const int port = colon == std::string::npos ? 80 : std::atoi(hostport.c_str() + colon + 1);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, ip.c_str(), &addr.sin_addr) != 1) usage("the URL needs an IPv4 address");

  bool have_host = false, close_mode = false;
  std::string req = "GET " + path + " HTTP/1.1\r\n";
  for (const std::string& h : headers) {
    if (iequals_prefix(h, "host:")) have_host = true;
    if (iequals_prefix(h, "connection:") && h.find("close") != std::string::npos) close_mode = true;
    req += h + "\r\n";
  }
  if (!have_host) req += "Host: " + hostport + "\r\n";
  req += "\r\n";

  Load load(addr, req, close_mode);
  load.run(conns, static_cast<uint64_t>(duration * 1e6), static_cast<uint64_t>(grace * 1e6));
  load.report();
  return 0;
}
