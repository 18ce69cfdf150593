// gateway_tool: the client and the target for bench/gateway.sh (blocking
// loopback sockets, no Asio: it measures the gateway, not itself).
//
//   gateway_tool echo --port P
//       a TCP echo target on 127.0.0.1:P (a thread per connection; EOF is
//       passed back as a half-close); prints "listening port=P".
//   gateway_tool bulk --port P --line LINE --bytes N
//       one connection through the gateway: the sealed line, "200", then N
//       bytes up while reading the N echoed bytes down (so 2N cross the
//       gateway); checks the count and the pattern.
//       prints "RESULT bulk bytes=N seconds=S ok=1"
//   gateway_tool pingpong --port P [--line LINE] --count C --size B
//       C round trips of a B-byte message (one in flight); without --line it
//       talks to the echo directly (the baseline).
//       prints "RESULT pingpong count=C size=B p50_us=.. p99_us=.. max_us=.. ok=1"
//
// Threading: main thread, plus one writer thread (bulk) or one per echoed connection.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "bench/raw_tcp.hpp"

namespace {

using Clock = std::chrono::steady_clock;

struct Args {
  std::string mode, line;
  int port = 0;
  size_t bytes = 1 << 20, count = 10000, size = 64;
};

int usage() {
  std::fprintf(stderr, "usage: gateway_tool echo|bulk|pingpong --port P [--line L] [--bytes N] [--count C] [--size B]\n");
  return 2;
}

bool read_exact(int fd, char* out, size_t n) {
  while (n > 0) {
    const ssize_t got = ::recv(fd, out, n, 0);
    if (got <= 0) return false;
    out += got;
    n -= static_cast<size_t>(got);
  }
  return true;
}

char pattern(size_t i) { return static_cast<char>((i * 131 + 7) & 0xff); }

void echo_connection(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  std::vector<char> buf(256 * 1024);
  for (;;) {
    const ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
    if (n <= 0) break;
    if (!sy::bench::send_all(fd, std::string_view(buf.data(), static_cast<size_t>(n)))) break;
  }
  ::shutdown(fd, SHUT_WR);
  ::close(fd);
}

int run_echo(const Args& a) {
  const int lfd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(a.port));
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(lfd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || ::listen(lfd, 128) != 0) {
    std::perror("gateway_tool echo: bind/listen");
    return 1;
  }
  std::printf("listening port=%d\n", a.port);
  std::fflush(stdout);
  for (;;) {
    const int fd = ::accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd >= 0) std::thread(echo_connection, fd).detach();
  }
}

// Connects and, with a line, does the gateway's handshake. -1 on failure.
int open_path(const Args& a) {
  const int fd = sy::bench::connect_to("127.0.0.1", a.port, 60000);
  if (fd < 0 || a.line.empty()) return fd;
  char status[4];
  if (!sy::bench::send_all(fd, a.line + "\n") || !read_exact(fd, status, 4) || std::memcmp(status, "200\n", 4) != 0) {
    std::fprintf(stderr, "gateway_tool: the gateway did not answer 200\n");
    ::close(fd);
    return -1;
  }
  return fd;
}

int run_bulk(const Args& a) {
  const int fd = open_path(a);
  if (fd < 0) return 1;
  const auto t0 = Clock::now();
  std::thread writer([&] {
    std::vector<char> chunk(256 * 1024);
    for (size_t off = 0; off < a.bytes;) {
      const size_t n = std::min(chunk.size(), a.bytes - off);
      for (size_t i = 0; i < n; ++i) chunk[i] = pattern(off + i);
      if (!sy::bench::send_all(fd, std::string_view(chunk.data(), n))) return;
      off += n;
    }
    ::shutdown(fd, SHUT_WR);
  });
  std::vector<char> buf(256 * 1024);
  size_t got = 0;
  bool same = true;
  for (ssize_t n; (n = ::recv(fd, buf.data(), buf.size(), 0)) > 0;) {
    for (ssize_t i = 0; i < n && same; i += 4093) same = buf[static_cast<size_t>(i)] == pattern(got + static_cast<size_t>(i));
    got += static_cast<size_t>(n);
  }
  writer.join();
  const double s = std::chrono::duration<double>(Clock::now() - t0).count();
  ::close(fd);
  const bool ok = same && got == a.bytes;
  std::printf("RESULT bulk bytes=%zu seconds=%.3f ok=%d\n", a.bytes, s, ok ? 1 : 0);
  return ok ? 0 : 1;
}

int run_pingpong(const Args& a) {
  const int fd = open_path(a);
  if (fd < 0) return 1;
  std::string msg(a.size, 'p');
  std::vector<char> back(a.size);
  std::vector<double> us;
  us.reserve(a.count);
  bool ok = true;
  for (size_t i = 0; i < a.count && ok; ++i) {
    const auto t0 = Clock::now();
    ok = sy::bench::send_all(fd, msg) && read_exact(fd, back.data(), back.size());
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  ::close(fd);
  std::sort(us.begin(), us.end());
  auto at = [&](double q) { return us.empty() ? 0.0 : us[std::min(us.size() - 1, static_cast<size_t>(q * us.size()))]; };
  std::printf("RESULT pingpong count=%zu size=%zu p50_us=%.1f p99_us=%.1f max_us=%.1f ok=%d\n", us.size(), a.size,
              at(0.50), at(0.99), us.empty() ? 0.0 : us.back(), ok ? 1 : 0);
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  Args a;
  a.mode = argv[1];
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--port") a.port = std::atoi(v.c_str());
    else if (k == "--line") a.line = v;
    else if (k == "--bytes") a.bytes = std::strtoull(v.c_str(), nullptr, 10);
    else if (k == "--count") a.count = std::strtoull(v.c_str(), nullptr, 10);
    else if (k == "--size") a.size = std::strtoull(v.c_str(), nullptr, 10);
    else return usage();
  }
  if (a.port <= 0) return usage();
  if (a.mode == "echo") return run_echo(a);
  if (a.mode == "bulk") return run_bulk(a);
  if (a.mode == "pingpong") return run_pingpong(a);
  return usage();
}
