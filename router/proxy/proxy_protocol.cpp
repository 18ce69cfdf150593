#include "router/proxy/proxy_protocol.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace sy::proxy {
namespace {

constexpr char kV2Signature[12] = {'\r', '\n', '\r', '\n', '\0', '\r', '\n', 'Q', 'U', 'I', 'T', '\n'};

ProxyHeader invalid() { return ProxyHeader{ProxyHeader::Status::invalid, 0, {}, 0}; }

ProxyHeader parse_v1(std::string_view data) {
  size_t end = data.find("\r\n");
  if (end == std::string_view::npos) return data.size() >= 107 ? invalid() : ProxyHeader{};
  if (end + 2 > 107) return invalid();  // the spec's limit includes CRLF
  std::string_view line = data.substr(6, end - 6);  // after "PROXY "
  ProxyHeader h{ProxyHeader::Status::ok, end + 2, {}, 0};
  if (line.rfind("UNKNOWN", 0) == 0) return h;
  std::string_view parts[5];
  for (int i = 0; i < 5; ++i) {
    size_t sp = line.find(' ');
    if ((sp == std::string_view::npos) != (i == 4)) return invalid();
    parts[i] = line.substr(0, sp);
    line = sp == std::string_view::npos ? std::string_view() : line.substr(sp + 1);
  }
  if (parts[0] != "TCP4" && parts[0] != "TCP6") return invalid();
  const int family = parts[0] == "TCP4" ? AF_INET : AF_INET6;
  // inet_pton reads a C string: a NUL would end the address early and let
  // the bytes after it through into source_ip (and X-Forwarded-For).
  auto valid_ip = [family](std::string_view text) {
    unsigned char addr[16];
    return text.find('\0') == std::string_view::npos && inet_pton(family, std::string(text).c_str(), addr) == 1;
  };
  auto parse_port = [](std::string_view text, unsigned* port) {
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *port);
    return !text.empty() && ec == std::errc() && ptr == text.data() + text.size() && *port <= 65535;
  };
  unsigned src_port = 0, dst_port = 0;
  if (!valid_ip(parts[1]) || !valid_ip(parts[2]) || !parse_port(parts[3], &src_port) || !parse_port(parts[4], &dst_port))
    return invalid();
  h.source_ip = std::string(parts[1]);
  h.source_port = static_cast<uint16_t>(src_port);
  return h;
}

ProxyHeader parse_v2(std::string_view data) {
  if (data.size() < 16) return ProxyHeader{};
  auto byte = [&](size_t i) { return static_cast<unsigned char>(data[i]); };
  if ((byte(12) & 0xf0) != 0x20) return invalid();
  size_t len = (static_cast<size_t>(byte(14)) << 8) | byte(15);
  if (data.size() < 16 + len) return ProxyHeader{};
  ProxyHeader h{ProxyHeader::Status::ok, 16 + len, {}, 0};
  int command = byte(12) & 0x0f;
  if (command == 0) return h;  // LOCAL: health check from the proxy itself
  if (command != 1) return invalid();
  int family = byte(13) >> 4;
  char text[INET6_ADDRSTRLEN] = {};
  if (family == 1 && len >= 12) {
    inet_ntop(AF_INET, data.data() + 16, text, sizeof text);
    h.source_port = static_cast<uint16_t>((byte(24) << 8) | byte(25));
  } else if (family == 2 && len >= 36) {
    inet_ntop(AF_INET6, data.data() + 16, text, sizeof text);
    h.source_port = static_cast<uint16_t>((byte(48) << 8) | byte(49));
  } else if (family == 1 || family == 2) {
    return invalid();  // address block shorter than the family needs
  } else {
    return h;  // AF_UNSPEC / unix: keep the socket peer
  }
  h.source_ip = text;
  return h;
}

}  // namespace

ProxyHeader parse_proxy_header(std::string_view data) {
  if (data.empty()) return ProxyHeader{};
  size_t n = std::min(data.size(), sizeof kV2Signature);
  if (std::memcmp(data.data(), kV2Signature, n) == 0) return n < sizeof kV2Signature ? ProxyHeader{} : parse_v2(data);
  n = std::min<size_t>(data.size(), 6);
  if (std::string_view("PROXY ").substr(0, n) != data.substr(0, n)) return invalid();
  return n < 6 ? ProxyHeader{} : parse_v1(data);
}

}  // namespace sy::proxy
