#pragma once
// The one registry-message builder for unit tests: `host:port` registered
// under `uris` (each must parse as a gorouter uri), with optional fields.
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "router/route/route_message.hpp"

namespace sy::test {

inline route::RouteMessage route_msg(const std::string& host, uint16_t port, const std::vector<std::string>& uris,
                                     std::chrono::seconds stale = std::chrono::seconds(0),
                                     std::optional<route::Algorithm> algorithm = {}) {
  route::RouteMessage m;
  m.endpoint.host = host;
  m.endpoint.port = port;
  m.endpoint.stale_threshold = stale;
  m.endpoint.algorithm = algorithm;
  for (const auto& u : uris) {
    route::Uri uri;
    EXPECT_TRUE(route::parse_uri(u, &uri)) << u;
    m.uris.push_back(uri);
  }
  return m;
}

}  // namespace sy::test
