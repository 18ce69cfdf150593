#include "tests/peers/peer_io.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstring>
#include <thread>

#include "tunnel/ws/handshake.hpp"

namespace sy::interop {

Child spawn(const std::vector<std::string>& argv, bool pipe_stdin) {
  int in[2] = {-1, -1}, out[2];
  if ((pipe_stdin && pipe2(in, O_CLOEXEC) != 0) || pipe2(out, O_CLOEXEC) != 0) return {};
  pid_t pid = fork();
  if (pid == 0) {
    int null = open("/dev/null", O_RDONLY);
    dup2(pipe_stdin ? in[0] : null, 0);
    dup2(out[1], 1);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  if (pipe_stdin) close(in[0]);
  close(out[1]);
  return Child{pid, pipe_stdin ? in[1] : -1, out[0]};
}

int wait_child(pid_t pid, int timeout_s) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  for (;;) {
    int status = 0;
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (r < 0) return -1;
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return -1;
    }
    // A test tool reaping a child process: polling waitpid is the simple way.
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

int listen_loopback(int* port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), len) != 0 || listen(fd, 4) != 0) return -1;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  *port = ntohs(a.sin_port);
  return fd;
}

int connect_loopback(const std::string& host_port) {
  const auto colon = host_port.rfind(':');
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(std::stoi(host_port.substr(colon + 1))));
  inet_pton(AF_INET, host_port.substr(0, colon).c_str(), &a.sin_addr);
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return -1;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

std::string read_line(int fd) {
  std::string line;
  char c;
  while (read(fd, &c, 1) == 1 && c != '\n') line += c;
  return line;
}

namespace {

// Reads until CRLFCRLF; the head, with any bytes after it in *rest.
bool read_head(int fd, std::string* head, std::vector<uint8_t>* rest) {
  std::string buf;
  char tmp[4096];
  for (;;) {
    auto end = buf.find("\r\n\r\n");
    if (end != std::string::npos) {
      *head = buf.substr(0, end + 4);
      if (rest) rest->assign(buf.begin() + static_cast<long>(end) + 4, buf.end());
      return true;
    }
    ssize_t n = read(fd, tmp, sizeof tmp);
    if (n <= 0 || buf.size() > 65536) return false;
    buf.append(tmp, static_cast<size_t>(n));
  }
}

std::string header_value(const std::string& head, std::string name) {
  std::string lower = head;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  auto pos = lower.find("\r\n" + name + ":");
  if (pos == std::string::npos) return {};
  pos += name.size() + 3;
  auto end = head.find("\r\n", pos);
  std::string v = head.substr(pos, end - pos);
  v.erase(0, v.find_first_not_of(' '));
  v.erase(v.find_last_not_of(' ') + 1);
  return v;
}

bool write_all(int fd, const std::string& s) {
  size_t done = 0;
  while (done < s.size()) {
    ssize_t n = write(fd, s.data() + done, s.size() - done);
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

bool ws_accept(int fd, std::string* error) {
  std::string head;
  if (!read_head(fd, &head, nullptr)) return *error = "no upgrade request", false;
  const std::string key = header_value(head, "Sec-WebSocket-Key");
  if (!ws::valid_client_key(key)) return *error = "bad Sec-WebSocket-Key: " + key, false;
  return write_all(fd, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                       "Sec-WebSocket-Accept: " + ws::accept_key(key) + "\r\n\r\n");
}

bool ws_connect(int fd, const std::string& host, std::vector<uint8_t>* leftover, std::string* error) {
  const unsigned char r[16] = {7, 1, 9, 3, 5, 8, 2, 4, 6, 0, 11, 13, 12, 15, 14, 10};
  const std::string key = ws::make_client_key(std::span<const unsigned char, 16>(r, 16));
  if (!write_all(fd, "GET /v1/tunnel HTTP/1.1\r\nHost: " + host +
                         "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key +
                         "\r\nSec-WebSocket-Version: 13\r\n\r\n"))
    return *error = "write failed", false;
  std::string head;
  if (!read_head(fd, &head, leftover)) return *error = "no response", false;
  if (head.rfind("HTTP/1.1 101", 0) != 0) return *error = "not 101: " + head, false;
  if (header_value(head, "Sec-WebSocket-Accept") != ws::accept_key(key)) return *error = "bad accept key", false;
  return true;
}

void set_nonblocking(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

}  // namespace sy::interop
