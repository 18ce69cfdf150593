#pragma once
// The agent's command line (SPEC §5.4), parsed by a pure function so the
// exit-2 cases are unit-tested without starting anything:
//
//   switchyard-tunnel --server ws://HOST:PORT|wss://HOST:PORT [--server ...]
//       --id ID [--token T] [--label L] --to HOST:PORT [--connections N]
//       [--tcp] [--advertise-address IP:PORT]
//       [--basic-auth USER:PASS] [--allow CIDR]... [--rate N/s|N/m]
//       [--ca FILE] [--log-level debug|info|warn|error]
//
// --tcp makes the tunnel a TCP tunnel (raw bytes; the node gives it an entry
// port); --advertise-address declares the address clients of the SOCKS5 and
// CONNECT entry may name to reach it (seed 002's "original address"); the
// edge-policy flags are enforced by every node (SPEC §7).
//
// Each flag takes its value as the next argument or after '='. What is
// refused: a missing --server, --id or --to; a URL that is not ws:// or
// wss:// with a host (an optional port, default 80/443, and nothing after
// it but an optional "/"); an id outside SPEC §5.2's 1–64 of
// [A-Za-z0-9._-]; a label that is not a DNS label; a token with bytes that
// cannot go in a header; --connections outside 1..64; a port outside
// 1..65535; an unknown flag. Whether --ca names a readable file is checked
// when the TLS context is built (also exit 2).
//
// Pure; any thread.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sy::agent {

struct ServerUrl {
  bool tls = false;
  std::string host;  // without IPv6 brackets
  uint16_t port = 0;
  std::string text;  // as given on the command line (printed in tunnel-ready lines)

  std::string authority() const;  // the Host header: host[:port], brackets for IPv6
};

struct Options {
  std::vector<ServerUrl> servers;
  std::string id;
  std::string token;  // empty: no Authorization header
  std::string label;  // empty: no Switchyard-Tunnel-Host header
  std::string to_host;
  uint16_t to_port = 0;
  int connections = 2;  // sessions per server
  bool tcp = false;             // a TCP tunnel (Switchyard-Tunnel-Protocol: tcp)
  std::string advertise_address;  // "" or a canonical IP:PORT ([v6]:port)
  std::string basic_auth;      // edge policy: "user:pass" ("" = none)
  std::vector<std::string> allow;  // edge policy: CIDRs
  std::string rate;            // edge policy: "N/s" or "N/m" ("" = none)
  std::string policy;          // the policy's wire text (made by main from the three above)
  std::string ca_file;  // empty: the system's CAs
  std::string log_level = "info";
};

struct ParseResult {
  std::optional<Options> options;  // set when the arguments are valid
  bool help = false;               // -h / --help
  std::string error;               // why not (one line)
};

ParseResult parse_options(const std::vector<std::string>& args);
// The edge-policy flags into `options.policy` (the password hashed with a
// random salt; tunnel/identity/edge_policy.hpp). False with `*error` set when
// a flag's value is refused, or --basic-auth is given with --tcp (raw bytes
// carry no credentials).
bool apply_edge_policy(Options& options, std::string* error);
std::optional<ServerUrl> parse_server_url(std::string_view text);
bool valid_tunnel_id(std::string_view id);
bool valid_label(std::string_view label);

extern const char* const kUsage;

}  // namespace sy::agent
