#pragma once
// Component slots: the `component` tag of registrations (gorouter labels
// total_requests, latency and registry_message by it) mapped to a small
// number once, when an endpoint is registered, so the request path counts
// per component by indexing an array — no string, no map, no lock.
//
// The tag comes from any NATS publisher, so the set is bounded: the first
// kNamed distinct values get a slot each, every later one shares `other`.
// Slot 0 is the empty component (no tag), and `none` stands for requests
// that reached no endpoint at all (refused heads, unknown routes).
//
// Threading: slot() on the control thread (registrations); name() on the
// control thread (scrape time). Workers only carry the numbers.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sy::route {

class ComponentSlots {
 public:
  static constexpr uint8_t kNamed = 32;
  static constexpr uint8_t kEmpty = 0;
  static constexpr uint8_t kOther = kNamed + 1;
  static constexpr uint8_t kNone = kNamed + 2;
  static constexpr uint8_t kCount = kNamed + 3;  // array size for per-slot counters

  // The slot for `component` (assigning one while fewer than kNamed are taken).
  uint8_t slot(std::string_view component) {
    if (component.empty()) return kEmpty;
    for (size_t i = 0; i < names_.size(); ++i)
      if (names_[i] == component) return static_cast<uint8_t>(i + 1);
    if (names_.size() >= kNamed) return kOther;
    names_.emplace_back(component);
    return static_cast<uint8_t>(names_.size());
  }
  // The label value of a slot: "" (empty), the tag, "other", or "-" (none).
  std::string_view name(uint8_t slot) const {
    if (slot == kEmpty) return {};
    if (slot == kOther) return "other";
    if (slot == kNone || slot > names_.size()) return "-";
    return names_[slot - 1];
  }
  size_t named() const { return names_.size(); }

 private:
  std::vector<std::string> names_;
};

}  // namespace sy::route
