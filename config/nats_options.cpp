#include "config/nats_options.hpp"

#include <cctype>
#include <cstdio>

namespace sy::config {
namespace {
std::string url_escape(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}
}  // namespace

std::vector<std::string> nats_urls(const NatsConfig& config) {
  std::vector<std::string> urls;
  for (const auto& s : config.servers) {
    const std::string& user = s.user.empty() ? config.user : s.user;
    const std::string& pass = s.user.empty() ? config.pass : s.pass;
    std::string creds = user.empty() ? "" : url_escape(user) + ":" + url_escape(pass) + "@";
    std::string host = s.host.find(':') != std::string::npos ? "[" + s.host + "]" : s.host;
    urls.push_back("nats://" + creds + host + ":" + std::to_string(s.port));
  }
  return urls;
}

nats::NatsOptions nats_options(const NatsConfig& config, std::string name) {
  nats::NatsOptions o;
  o.urls = nats_urls(config);
  o.reconnect_wait = config.reconnect_wait;
  o.ping_interval = config.ping_interval;
  o.name = std::move(name);
  return o;
}

}  // namespace sy::config
