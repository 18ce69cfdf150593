#include "router/route/route_table.hpp"

namespace sy::route {
namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// True when `prefix` (lower-case, no trailing '/') covers `path` on whole segments.
bool segment_prefix(std::string_view path, std::string_view prefix) {
  if (path.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i)
    if (lower(path[i]) != prefix[i]) return false;
  return path.size() == prefix.size() || path[prefix.size()] == '/';
}

}  // namespace

const Pool* RouteTable::find_exact(std::string_view host, std::string_view path) const {
  const auto& shard = shards_[shard_of(host)];
  if (!shard) return nullptr;
  auto it = shard->find(host);
  if (it == shard->end()) return nullptr;
  const HostRoutes& routes = *it->second;
  const Pool* empty_match = nullptr;
  for (size_t i = 0; i < routes.pools.size(); ++i) {
    if (!segment_prefix(path, routes.paths[i])) continue;
    if (!routes.pools[i]->empty()) return routes.pools[i].get();
    if (!empty_match) empty_match = routes.pools[i].get();
  }
  return empty_match;
}

const Pool* RouteTable::find(std::string_view host, std::string_view path) const {
  if (const Pool* p = find_exact(host, path)) return p;
  char buf[258];
  for (size_t dot = host.find('.'); dot != std::string_view::npos; dot = host.find('.', dot + 1)) {
    std::string_view parent = host.substr(dot);  // ".y.a.com"
    if (parent.size() + 1 > sizeof buf) continue;
    buf[0] = '*';
    parent.copy(buf + 1, parent.size());
    if (const Pool* p = find_exact(std::string_view(buf, parent.size() + 1), path)) return p;
  }
  return nullptr;
}

void RouteTable::for_each_pool(const std::function<void(const Pool&)>& fn) const {
  for (const auto& shard : shards_) {
    if (!shard) continue;
    for (const auto& [host, routes] : *shard)
      for (const auto& pool : routes->pools) fn(*pool);
  }
}

}  // namespace sy::route
