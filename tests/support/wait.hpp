#pragma once
// Bounded polling for integration tests. Unit tests never sleep: they use a
// manual clock instead.
#include <chrono>
#include <functional>

namespace sy::test {

using namespace std::chrono_literals;

// Calls `predicate` until it returns true or `timeout` has passed, sleeping
// `poll` between calls. Returns the last result. The predicate is always
// called at least once, and once more at the deadline.
bool wait_until(const std::function<bool()>& predicate, std::chrono::milliseconds timeout,
                std::chrono::milliseconds poll = std::chrono::milliseconds(10));

// Sleeps for `duration` (integration tests only).
void sleep_for(std::chrono::milliseconds duration);

}  // namespace sy::test
