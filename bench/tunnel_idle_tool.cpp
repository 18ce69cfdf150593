// tunnel_idle_tool: N idle tunnel agents in one process, to measure what an
// idle agent costs the node (bench/tunnel_idle.sh reads the node's RSS).
//
//   tunnel_idle_tool --connect HOST:PORT --n N [--hold S] [--id-prefix P] [--token T]
//
// Each agent: a TCP connection, the WebSocket upgrade `GET /v1/tunnel` with
// `Switchyard-Tunnel-Id: <prefix><i>` (one tunnel id per agent, so the node
// holds N tunnels), and then the yamux *server* side of SPEC §5.2 reduced to
// what an idle agent does: answer yamux pings (and WebSocket pings), nothing
// else. Agents connect one after the other (each waits for its 101). Prints
// `ready n=N` once all are up, keeps them for --hold seconds (default 10)
// answering pings, then prints `done n=N alive=K` (K = sessions the node had
// not closed) and exits.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

struct Agent {
  int fd = -1;
  bool alive = false;
  std::string ws;     // undecoded WebSocket bytes
  std::string yamux;  // yamux bytes carried by binary messages
};

[[noreturn]] void die(const std::string& why) {
  std::fprintf(stderr, "tunnel_idle_tool: %s\n", why.c_str());
  std::exit(1);
}

// A masked client frame (mask key 0: the payload goes as is).
void send_frame(Agent& a, uint8_t opcode, const std::string& payload) {
  std::string f;
  f.push_back(static_cast<char>(0x80 | opcode));
  if (payload.size() < 126) {
    f.push_back(static_cast<char>(0x80 | payload.size()));
  } else {
    f.push_back(static_cast<char>(0x80 | 126));
    f.push_back(static_cast<char>(payload.size() >> 8));
    f.push_back(static_cast<char>(payload.size() & 0xff));
  }
  f.append(4, '\0');
  f += payload;
  if (::send(a.fd, f.data(), f.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(f.size())) a.alive = false;
}

void on_yamux(Agent& a) {
  size_t pos = 0;
  while (a.yamux.size() - pos >= 12) {
    const auto* h = reinterpret_cast<const uint8_t*>(a.yamux.data() + pos);
    const uint8_t type = h[1];
    const uint16_t flags = static_cast<uint16_t>(h[2] << 8 | h[3]);
    const uint32_t len = static_cast<uint32_t>(h[8]) << 24 | static_cast<uint32_t>(h[9]) << 16 |
                         static_cast<uint32_t>(h[10]) << 8 | h[11];
    size_t frame = 12;
    if (type == 0) {  // data: not expected on an idle agent; skip it
      if (a.yamux.size() - pos < 12 + static_cast<size_t>(len)) break;
      frame += len;
    } else if (type == 2 && (flags & 1) != 0) {  // ping SYN -> ping ACK, same opaque value
      std::string ack(a.yamux, pos, 12);
      ack[2] = 0;
      ack[3] = 2;
      send_frame(a, 2, ack);
    } else if (type == 3) {  // go away
      a.alive = false;
    }
    pos += frame;
  }
  a.yamux.erase(0, pos);
}

void on_bytes(Agent& a) {
  size_t pos = 0;
  for (;;) {
    const size_t have = a.ws.size() - pos;
    if (have < 2) break;
    const auto* b = reinterpret_cast<const uint8_t*>(a.ws.data() + pos);
    const uint8_t opcode = b[0] & 0x0f;
    const bool masked = (b[1] & 0x80) != 0;
    uint64_t len = b[1] & 0x7f;
    size_t hl = 2;
    if (len == 126) {
      if (have < 4) break;
      len = static_cast<uint64_t>(b[2]) << 8 | b[3];
      hl = 4;
    } else if (len == 127) {
      if (have < 10) break;
      len = 0;
      for (int i = 0; i < 8; ++i) len = len << 8 | b[2 + i];
      hl = 10;
    }
    if (masked) hl += 4;
    if (have < hl + len) break;
    std::string payload(a.ws, pos + hl, static_cast<size_t>(len));
    if (masked)
      for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(payload[i] ^ b[hl - 4 + i % 4]);
    if (opcode == 0 || opcode == 1 || opcode == 2) {
      a.yamux += payload;
    } else if (opcode == 8) {
      a.alive = false;
    } else if (opcode == 9) {
      send_frame(a, 10, payload);
    }
    pos += hl + static_cast<size_t>(len);
  }
  a.ws.erase(0, pos);
  on_yamux(a);
}

}  // namespace

int main(int argc, char** argv) {
  std::string target, prefix = "idle-agent-", token;
  int n = 100;
  double hold = 10;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--connect") target = v;
    else if (k == "--n") n = std::atoi(v.c_str());
    else if (k == "--hold") hold = std::atof(v.c_str());
    else if (k == "--id-prefix") prefix = v;
    else if (k == "--token") token = v;
    else die("unknown flag " + k);
  }
  const size_t colon = target.rfind(':');
  if (target.empty() || colon == std::string::npos || n < 1) die("usage: --connect HOST:PORT --n N [--hold S]");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::atoi(target.c_str() + colon + 1)));
  if (inet_pton(AF_INET, target.substr(0, colon).c_str(), &addr.sin_addr) != 1) die("bad address " + target);

  const int ep = epoll_create1(0);
  std::vector<Agent> agents(static_cast<size_t>(n));
  char buf[65536];
  for (int i = 0; i < n; ++i) {
    Agent& a = agents[static_cast<size_t>(i)];
    a.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (connect(a.fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0)
      die("connect failed at agent " + std::to_string(i) + ": " + std::strerror(errno));
    std::string req = "GET /v1/tunnel HTTP/1.1\r\nHost: " + target +
                      "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                      "Switchyard-Tunnel-Id: " + prefix + std::to_string(i) + "\r\n";
    if (!token.empty()) req += "Authorization: Bearer " + token + "\r\n";
    req += "\r\n";
    if (::send(a.fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) die("send failed");
    std::string head;
    while (head.find("\r\n\r\n") == std::string::npos) {
      pollfd p{a.fd, POLLIN, 0};
      if (poll(&p, 1, 10000) != 1) die("no answer to the upgrade of agent " + std::to_string(i));
      const ssize_t r = ::recv(a.fd, buf, sizeof buf, 0);
      if (r <= 0) die("connection closed during the upgrade of agent " + std::to_string(i));
      head.append(buf, static_cast<size_t>(r));
    }
    const size_t end = head.find("\r\n\r\n") + 4;
    if (head.compare(0, 12, "HTTP/1.1 101") != 0)
      die("agent " + std::to_string(i) + " refused: " + head.substr(0, head.find("\r\n")));
    a.alive = true;
    a.ws = head.substr(end);
    on_bytes(a);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u32 = static_cast<uint32_t>(i);
    epoll_ctl(ep, EPOLL_CTL_ADD, a.fd, &ev);
  }
  std::printf("ready n=%d\n", n);
  std::fflush(stdout);

  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<int64_t>(hold * 1000));
  std::vector<epoll_event> evs(256);
  while (std::chrono::steady_clock::now() < end) {
    const int k = epoll_wait(ep, evs.data(), static_cast<int>(evs.size()), 100);
    for (int j = 0; j < k; ++j) {
      Agent& a = agents[evs[static_cast<size_t>(j)].data.u32];
      const ssize_t r = ::recv(a.fd, buf, sizeof buf, MSG_DONTWAIT);
      if (r == 0 || (r < 0 && errno != EAGAIN)) {
        a.alive = false;
        epoll_ctl(ep, EPOLL_CTL_DEL, a.fd, nullptr);
        continue;
      }
      if (r > 0) {
        a.ws.append(buf, static_cast<size_t>(r));
        on_bytes(a);
      }
    }
  }
  int alive = 0;
  for (const Agent& a : agents) alive += a.alive ? 1 : 0;
  std::printf("done n=%d alive=%d\n", n, alive);
  return 0;
}
