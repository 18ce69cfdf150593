// The sealed-address gateway (SPEC §7, seed 004) against the real binary:
// lines made by the openssl CLI (both key derivations) and by `switchyard
// seal` relay to a TCP echo, the bytes after the line first; every status of
// the seed's table by a real case (400 EOF / too long / too slow, 401 wrong
// secret / garbage, 502 nobody listening, 504 SYNs dropped by a full accept
// queue), each followed by a good connection; both workers listen and
// accept; 1 MiB each way and the half-close, with both relay modes.
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/integration/integration_fixture.hpp"
#include "tests/support/tcp_target.hpp"

namespace sy::test {
namespace {

using namespace std::chrono_literals;
constexpr const char* kSecret = "p0S8rX680*48";

// Runs `openssl enc` on `input` (stdin from a file), returning its trimmed stdout.
std::string openssl(const TempDir& dir, const std::string& input, const std::vector<std::string>& args) {
  static int n = 0;
  const std::string tag = "openssl-" + std::to_string(++n);
  const std::string in = dir.write_file(tag + ".in", input);
  ProcessOptions o;
  o.argv = {"openssl", "enc"};
  o.argv.insert(o.argv.end(), args.begin(), args.end());
  o.stdin_path = in;
  o.log_path = dir.file(tag + ".out");
  o.stderr_path = dir.file(tag + ".err");
  const std::optional<int> code = run_process(o, 10s);
  if (code != 0) return "";
  std::string out = read_file(o.log_path);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

std::string openssl_seal(const TempDir& dir, const std::string& address, const std::string& secret, bool md5) {
  std::vector<std::string> args = {"-e", "-aes-256-cbc", "-a", "-salt", "-k", secret};
  if (md5) args.insert(args.end(), {"-md", "md5"});
  return openssl(dir, address, args);
}

bool send_all(int fd, const std::string& data) {
  for (size_t off = 0; off < data.size();) {
    const ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

// Reads exactly `n` bytes (or until EOF / the socket's timeout).
std::string recv_n(int fd, size_t n) {
  std::string out;
  char buf[4096];
  while (out.size() < n) {
    const ssize_t got = ::recv(fd, buf, std::min(sizeof buf, n - out.size()), 0);
    if (got <= 0) break;
    out.append(buf, static_cast<size_t>(got));
  }
  return out;
}

// Reads to EOF (or the socket's timeout, or an error: then *eof is false).
std::string recv_all(int fd, bool* eof = nullptr) {
  std::string out;
  char buf[4096];
  ssize_t got;
  while ((got = ::recv(fd, buf, sizeof buf, 0)) > 0) out.append(buf, static_cast<size_t>(got));
  if (eof) *eof = got == 0;
  return out;
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

// Listening sockets (state 0A) on 127.0.0.1:port in /proc/net/tcp.
int listeners_on(uint16_t port) {
  std::ifstream in("/proc/net/tcp");
  char want[16];
  std::snprintf(want, sizeof want, ":%04X", port);
  int count = 0;
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::string sl, local, remote, state;
    fields >> sl >> local >> remote >> state;
    if (local.size() > 5 && local.substr(local.size() - 5) == want && state == "0A") ++count;
  }
  return count;
}

// A loopback listener with backlog 0 whose one queue slot is taken: further
// SYNs are dropped, so a connect to it times out. (Its guards close it.)
uint16_t full_listener(std::vector<std::unique_ptr<Fd>>& guards) {
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  guards.push_back(std::make_unique<Fd>(listener));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listener, 0) != 0 ||
      ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    return 0;
  const uint16_t port = ntohs(addr.sin_port);
  const int filler = connect_tcp(port, 1000);
  guards.push_back(std::make_unique<Fd>(filler));
  return filler >= 0 ? port : 0;
}

class GatewayTest : public RouterTest {
 protected:
  // `more`: further sealed_gateway keys, indented by two spaces.
  void start(const std::string& relay = "splice", RouterConfig config = {}, const std::string& more = {}) {
    gateway_port_ = free_port();
    config.workers = 2;
    config.extra_yaml = "sealed_gateway:\n  host: 127.0.0.1\n  port: " + std::to_string(gateway_port_) +
                        "\n  secret: \"" + kSecret + "\"\n  connect_timeout: 1s\n  read_timeout: 1s\n  relay: " + relay +
                        "\n" + more;
    ASSERT_NO_FATAL_FAILURE(start_all(config));
    ASSERT_TRUE(wait_port_open(gateway_port_, 5s)) << router_.log();
  }

  // Connects, sends `line` + "\n" + `after` in one write, returns the fd and the status line.
  std::pair<int, std::string> open(const std::string& line, const std::string& after = {}) {
    const int fd = connect_tcp(gateway_port_, 10000);
    if (fd < 0) return {fd, "connect failed"};
    send_all(fd, line + "\n" + after);
    return {fd, recv_n(fd, 4)};
  }

  // A good connection through the gateway to `echo`: the status and the echo.
  void expect_good(const TcpTarget& echo) {
    const std::string line = openssl_seal(dir_, "127.0.0.1:" + std::to_string(echo.port()), kSecret, false);
    auto [fd, status] = open(line, "ping");
    Fd guard(fd);
    EXPECT_EQ(status, "200\n");
    EXPECT_EQ(recv_n(fd, 4), "ping");
  }

  std::string metrics_text() { return router_.metrics(); }

  uint16_t gateway_port_ = 0;
};

TEST_F(GatewayTest, OpensslLinesOfBothDerivationsRelayAndBytesAfterTheLineComeFirst) {
  ASSERT_NO_FATAL_FAILURE(start());
  TcpTarget echo(TcpTarget::Mode::echo);
  const std::string address = "127.0.0.1:" + std::to_string(echo.port());
  for (bool md5 : {false, true}) {
    const std::string line = openssl_seal(dir_, address, kSecret, md5);
    ASSERT_EQ(line.rfind("U2FsdGVkX1", 0), 0u) << line;
    auto [fd, status] = open(line, "first-bytes|");
    Fd guard(fd);
    ASSERT_EQ(status, "200\n") << (md5 ? "md5" : "sha256");
    ASSERT_TRUE(send_all(fd, "second|"));
    EXPECT_EQ(recv_n(fd, 19), "first-bytes|second|") << (md5 ? "md5" : "sha256");
  }
  EXPECT_EQ(metric_value(metrics_text(), "sealed_gateway_connections_total", {{"result", "200"}}), 2.0);
  EXPECT_EQ(metric_value(metrics_text(), "sealed_gateway_bytes_total", {{"direction", "up"}}), 38.0);
  EXPECT_EQ(metric_value(metrics_text(), "sealed_gateway_bytes_total", {{"direction", "down"}}), 38.0);
}

TEST_F(GatewayTest, SealCommandLineWorksAndOpensslDecryptsIt) {
  ASSERT_NO_FATAL_FAILURE(start());
  TcpTarget echo(TcpTarget::Mode::echo);
  const std::string address = "127.0.0.1:" + std::to_string(echo.port());
  ProcessOptions o;
  o.argv = {test_binaries().switchyard, "seal", address, "-c", router_.config_path()};
  o.log_path = dir_.file("seal.out");
  o.stderr_path = dir_.file("seal.err");
  ASSERT_EQ(run_process(o, 10s), 0) << read_file(o.stderr_path);
  std::string line = read_file(o.log_path);
  ASSERT_FALSE(line.empty());
  ASSERT_EQ(line.back(), '\n');
  line.pop_back();
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_EQ(openssl(dir_, line + "\n", {"-d", "-aes-256-cbc", "-a", "-k", kSecret}), address);
  auto [fd, status] = open(line, "x");
  Fd guard(fd);
  EXPECT_EQ(status, "200\n");
  EXPECT_EQ(recv_n(fd, 1), "x");
  // Without a gateway secret, or with a bad address: exit 2.
  o.argv = {test_binaries().switchyard, "seal", "127.0.0.1:0", "-c", router_.config_path()};
  EXPECT_EQ(run_process(o, 10s), 2);
  o.argv = {test_binaries().switchyard, "seal", address};
  EXPECT_EQ(run_process(o, 10s), 2);
}

// A DNS name is resolved (getaddrinfo: "localhost" from /etc/hosts; each
// address tried in turn, so a ::1 first that refuses does not fail it).
TEST_F(GatewayTest, SealedNameIsResolved) {
  ASSERT_NO_FATAL_FAILURE(start());
  TcpTarget echo(TcpTarget::Mode::echo);
  auto [fd, status] = open(openssl_seal(dir_, "localhost:" + std::to_string(echo.port()), kSecret, false), "by-name");
  Fd guard(fd);
  ASSERT_EQ(status, "200\n");
  EXPECT_EQ(recv_n(fd, 7), "by-name");
}

TEST_F(GatewayTest, EveryStatusByARealCaseAndTheGatewayKeepsServing) {
  ASSERT_NO_FATAL_FAILURE(start());
  TcpTarget echo(TcpTarget::Mode::echo);
  {  // 400: EOF before the newline
    const int fd = connect_tcp(gateway_port_, 10000);
    Fd guard(fd);
    send_all(fd, "U2FsdGVkX1");
    ::shutdown(fd, SHUT_WR);
    bool eof = false;
    EXPECT_EQ(recv_all(fd, &eof), "400\n");
    EXPECT_TRUE(eof);
  }
  expect_good(echo);
  {  // 400: a 5000-byte line
    const int fd = connect_tcp(gateway_port_, 10000);
    Fd guard(fd);
    send_all(fd, std::string(5000, 'A') + "\n");
    EXPECT_EQ(recv_n(fd, 4), "400\n");
  }
  expect_good(echo);
  {  // 400: the line not finished within read_timeout (1s)
    const int fd = connect_tcp(gateway_port_, 10000);
    Fd guard(fd);
    send_all(fd, "U2FsdGVkX1");
    const auto started = std::chrono::steady_clock::now();
    EXPECT_EQ(recv_n(fd, 4), "400\n");
    const auto waited = std::chrono::steady_clock::now() - started;
    EXPECT_GE(waited, 900ms) << "answered before read_timeout";
  }
  expect_good(echo);
  {  // 401: sealed under another secret; then garbage
    auto [fd, status] = open(openssl_seal(dir_, "127.0.0.1:" + std::to_string(echo.port()), "not-the-secret", false));
    Fd guard(fd);
    EXPECT_EQ(status, "401\n");
    auto [fd2, status2] = open("this is not base64 !!");
    Fd guard2(fd2);
    EXPECT_EQ(status2, "401\n");
  }
  expect_good(echo);
  {  // 502: a free port nobody listens on
    auto [fd, status] = open(openssl_seal(dir_, "127.0.0.1:" + std::to_string(free_port()), kSecret, false));
    Fd guard(fd);
    EXPECT_EQ(status, "502\n");
  }
  expect_good(echo);
  {  // 504: a listener whose accept queue is full drops the SYNs (connect_timeout 1s)
    std::vector<std::unique_ptr<Fd>> guards;
    const uint16_t full = full_listener(guards);
    ASSERT_NE(full, 0);
    const auto started = std::chrono::steady_clock::now();
    auto [fd, status] = open(openssl_seal(dir_, "127.0.0.1:" + std::to_string(full), kSecret, true));
    Fd guard(fd);
    EXPECT_EQ(status, "504\n");
    EXPECT_GE(std::chrono::steady_clock::now() - started, 900ms);
  }
  expect_good(echo);
  // start()'s wait for the port was one more connection that sent nothing: a 400.
  const std::string m = metrics_text();
  EXPECT_EQ(metric_value(m, "sealed_gateway_connections_total", {{"result", "400"}}), 3.0 + 1.0) << m;
  EXPECT_EQ(metric_value(m, "sealed_gateway_connections_total", {{"result", "401"}}), 2.0);
  EXPECT_EQ(metric_value(m, "sealed_gateway_connections_total", {{"result", "502"}}), 1.0);
  EXPECT_EQ(metric_value(m, "sealed_gateway_connections_total", {{"result", "504"}}), 1.0);
  EXPECT_EQ(metric_value(m, "sealed_gateway_connections_total", {{"result", "200"}}), 6.0);
}

// retry: 2 — two attempts of connect_timeout each before the 504; a refused
// target is a 502 after both attempts failed at once.
TEST_F(GatewayTest, RetryMakesThatManyAttempts) {
  ASSERT_NO_FATAL_FAILURE(start("splice", {}, "  retry: 2\n"));
  std::vector<std::unique_ptr<Fd>> guards;
  const uint16_t full = full_listener(guards);
  ASSERT_NE(full, 0);
  const auto started = std::chrono::steady_clock::now();
  auto [fd, status] = open(openssl_seal(dir_, "127.0.0.1:" + std::to_string(full), kSecret, false));
  Fd guard(fd);
  const auto waited = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(status, "504\n");
  EXPECT_GE(waited, 1900ms) << "fewer than two attempts of connect_timeout";
  auto [fd2, status2] = open(openssl_seal(dir_, "127.0.0.1:" + std::to_string(free_port()), kSecret, false));
  Fd guard2(fd2);
  EXPECT_EQ(status2, "502\n");
}

// SIGUSR1: the listener closes, a connection still sending its line is
// closed without an answer, an open relay keeps working to its end, and the
// node exits 0 once it has ended.
TEST_F(GatewayTest, DrainLetsRelaysFinishAndClosesTheRest) {
  RouterConfig config;
  config.drain_wait = "0s";
  config.drain_timeout = "20s";
  ASSERT_NO_FATAL_FAILURE(start("splice", config));
  TcpTarget echo(TcpTarget::Mode::echo);
  auto [relay, status] = open(openssl_seal(dir_, "127.0.0.1:" + std::to_string(echo.port()), kSecret, false));
  Fd relay_guard(relay);
  ASSERT_EQ(status, "200\n");
  const int pending = connect_tcp(gateway_port_, 10000);
  Fd pending_guard(pending);
  send_all(pending, "U2FsdGVkX1");  // half a line
  ASSERT_TRUE(wait_until([&] { return metric_sum(router_.metrics(), "active_client_connections") >= 2; }, 5000ms, 20ms));
  ASSERT_TRUE(router_.process().signal(SIGUSR1));
  ASSERT_TRUE(wait_until([&] { return !port_open(gateway_port_); }, 5000ms, 20ms)) << "the listener stayed open";
  bool eof = false;
  EXPECT_EQ(recv_all(pending, &eof), "");  // closed, no status
  ASSERT_TRUE(send_all(relay, "still-relaying"));
  EXPECT_EQ(recv_n(relay, 14), "still-relaying");
  EXPECT_TRUE(router_.process().running()) << "the node left with a relay open";
  ::shutdown(relay, SHUT_WR);
  EXPECT_EQ(recv_all(relay, &eof), "");
  EXPECT_TRUE(eof);
  EXPECT_EQ(router_.process().wait_exit(10s), std::optional<int>(0)) << "no exit after the last relay ended";
}

// Two workers, two listening sockets on the gateway port (SO_REUSEPORT); the
// kernel spreads connections by their addresses, and 32 held open at once all
// answer, so both sockets' workers accept (all 32 on one socket: 2^-31).
TEST_F(GatewayTest, BothWorkersListenAndAccept) {
  ASSERT_NO_FATAL_FAILURE(start());
  EXPECT_EQ(listeners_on(gateway_port_), 2);
  TcpTarget echo(TcpTarget::Mode::echo);
  const std::string line = openssl_seal(dir_, "127.0.0.1:" + std::to_string(echo.port()), kSecret, false);
  std::vector<std::unique_ptr<Fd>> open_fds;
  for (int i = 0; i < 32; ++i) {
    auto [fd, status] = open(line, "n" + std::to_string(i % 10));
    open_fds.push_back(std::make_unique<Fd>(fd));
    ASSERT_EQ(status, "200\n") << i;
    EXPECT_EQ(recv_n(fd, 2), "n" + std::to_string(i % 10));
  }
  EXPECT_EQ(echo.accepted(), 32);
}

class GatewayRelayTest : public GatewayTest, public ::testing::WithParamInterface<const char*> {};

// 1 MiB each way, byte-identical; the client half-closes its side and still
// reads the whole echo, then EOF (the target's half-close passed back).
TEST_P(GatewayRelayTest, OneMiBEachWayAndHalfClose) {
  ASSERT_NO_FATAL_FAILURE(start(GetParam()));
  TcpTarget echo(TcpTarget::Mode::echo);
  const std::string line = openssl_seal(dir_, "127.0.0.1:" + std::to_string(echo.port()), kSecret, false);
  auto [fd, status] = open(line);
  Fd guard(fd);
  ASSERT_EQ(status, "200\n");
  constexpr size_t kBytes = 1 << 20;
  std::string sent(kBytes, '\0');
  for (size_t i = 0; i < kBytes; ++i) sent[i] = static_cast<char>(pattern_byte(7, i));
  std::thread writer([fd, &sent] {
    send_all(fd, sent);
    ::shutdown(fd, SHUT_WR);
  });
  bool eof = false;
  const std::string got = recv_all(fd, &eof);  // to EOF: only if the half-close went both ways
  writer.join();
  EXPECT_TRUE(eof) << "no EOF from the gateway (timed out or reset)";
  EXPECT_EQ(got.size(), kBytes);
  EXPECT_TRUE(got == sent) << "the echo differs";
  EXPECT_EQ(echo.eofs_seen(), 1);
  const std::string m = metrics_text();
  EXPECT_EQ(metric_value(m, "sealed_gateway_bytes_total", {{"direction", "up"}}), static_cast<double>(kBytes));
  EXPECT_EQ(metric_value(m, "sealed_gateway_bytes_total", {{"direction", "down"}}), static_cast<double>(kBytes));
}

// Small messages round-trip one by one through either relay. (That none is
// held back — seed 004: SPLICE_F_MORE corked each for 200 ms — is a speed
// property, measured by bench/gateway.sh's ping-pong, not timed here; the
// relay's splice flags are checked by GatewaySplice.NeverCorks.)
TEST_P(GatewayRelayTest, SmallMessagesRoundTrip) {
  ASSERT_NO_FATAL_FAILURE(start(GetParam()));
  TcpTarget echo(TcpTarget::Mode::echo);
  auto [fd, status] = open(openssl_seal(dir_, "127.0.0.1:" + std::to_string(echo.port()), kSecret, false));
  Fd guard(fd);
  ASSERT_EQ(status, "200\n");
  const std::string message(64, 'm');
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(send_all(fd, message));
    ASSERT_EQ(recv_n(fd, message.size()), message) << i;
  }
}

INSTANTIATE_TEST_SUITE_P(GatewayRelay, GatewayRelayTest, ::testing::Values("splice", "copy"),
                         [](const auto& info) { return std::string(info.param); });

}  // namespace
}  // namespace sy::test
