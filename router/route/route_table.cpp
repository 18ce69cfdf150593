#include "router/route/route_table.hpp"

#include <algorithm>

namespace sy::route {

unsigned RouteTable::labels(std::string_view suffix) {
  return static_cast<unsigned>(std::count(suffix.begin(), suffix.end(), '.')) + (suffix.empty() ? 0 : 1);
}

const Pool* RouteTable::find(std::string_view host, std::string_view path) const {
  if (const HostRoutes* routes = hosts_.find(host))
    if (const Pool* p = routes->match(path)) return p;
  if (wildcard_depths_ == 0) return nullptr;
  char buf[258];
  unsigned parent_labels = labels(host);
  for (size_t dot = host.find('.'); dot != std::string_view::npos; dot = host.find('.', dot + 1)) {
    std::string_view parent = host.substr(dot);  // ".y.a.com"
    if (!(wildcard_depths_ & depth_bit(--parent_labels)) || parent.size() + 1 > sizeof buf) continue;
    buf[0] = '*';
    parent.copy(buf + 1, parent.size());
    if (const HostRoutes* routes = hosts_.find(std::string_view(buf, parent.size() + 1)))
      if (const Pool* p = routes->match(path)) return p;
  }
  return nullptr;
}

void RouteTable::for_each_pool(const std::function<void(const Pool&)>& fn) const {
  hosts_.for_each([&](const HostRoutes& routes) {
    for (size_t i = 0; i < routes.size(); ++i) fn(routes.pool(i));
  });
}

}  // namespace sy::route
