#pragma once
// Plumbing for the interop tool: start the Go peer, loopback sockets, and the
// two halves of a WebSocket opening handshake. Plain blocking POSIX calls.
#include <sys/types.h>

#include <string>
#include <vector>

namespace sy::interop {

struct Child {
  pid_t pid = -1;
  int to_child = -1;    // its stdin (raw mode), else -1
  int from_child = -1;  // its stdout
};

// Starts argv[0] with stdin/stdout on pipes (stdin /dev/null unless
// `pipe_stdin`); stderr is inherited.
Child spawn(const std::vector<std::string>& argv, bool pipe_stdin);
// Waits for the child; its exit status, or -1 when it was killed.
int wait_child(pid_t pid, int timeout_s);

int listen_loopback(int* port);  // 127.0.0.1, ephemeral port
int connect_loopback(const std::string& host_port);
// Reads a line from `fd` (the child's stdout), empty on EOF.
std::string read_line(int fd);

// Server side: reads the upgrade request from `fd` and answers 101.
bool ws_accept(int fd, std::string* error);
// Client side: sends the upgrade request, checks the 101; bytes read past
// the response head are left in *leftover.
bool ws_connect(int fd, const std::string& host, std::vector<uint8_t>* leftover, std::string* error);

void set_nonblocking(int fd);

}  // namespace sy::interop
