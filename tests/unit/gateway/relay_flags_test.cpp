// The gateway relay's splice flags (seed 004: SPLICE_F_MORE corks every
// small message for 200 ms, so it must never be among them).
#include <gtest/gtest.h>

#include "router/gateway/relay.hpp"

namespace sy::gateway {
namespace {

TEST(GatewaySplice, NeverCorks) {
  EXPECT_EQ(kRelaySpliceFlags & SPLICE_F_MORE, 0u);
  EXPECT_NE(kRelaySpliceFlags & SPLICE_F_NONBLOCK, 0u) << "the relay waits for readiness itself";
}

}  // namespace
}  // namespace sy::gateway
