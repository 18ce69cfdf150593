#pragma once
// PROXY protocol v1 (text) and v2 (binary) header parsing, as sent by
// HAProxy's `send-proxy` / `send-proxy-v2`. Pure; any thread.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sy::proxy {

struct ProxyHeader {
  enum class Status { need_more, ok, invalid } status = Status::need_more;
  size_t length = 0;         // bytes of header to consume (ok only)
  std::string source_ip;     // empty for LOCAL / UNKNOWN (use the socket peer)
  uint16_t source_port = 0;
};

ProxyHeader parse_proxy_header(std::string_view data);

}  // namespace sy::proxy
