// The reconnect schedule: 0.5 s doubling to 30 s, equal jitter, reset by a
// session that lived 30 s. Time and randomness are parameters.
#include <gtest/gtest.h>

#include "tunnel/agent/backoff.hpp"

namespace sy::agent {
namespace {

using namespace std::chrono_literals;
using ms = std::chrono::milliseconds;

TEST(AgentBackoff, DoublesFromHalfASecondToTheCap) {
  Backoff b;
  const ms nominal[] = {500ms, 1000ms, 2000ms, 4000ms, 8000ms, 16000ms, 30000ms, 30000ms, 30000ms};
  for (ms n : nominal) {
    EXPECT_EQ(b.nominal(), n);
    EXPECT_EQ(b.next(1.0), n) << "the top of the jitter range is the nominal delay";
  }
}

TEST(AgentBackoff, JitterStaysWithinHalfToFullNominal) {
  for (double unit : {0.0, 0.25, 0.5, 0.75, 0.999999, 1.0}) {
    Backoff b;
    for (int attempt = 0; attempt < 12; ++attempt) {
      const ms nominal = b.nominal();
      const ms d = b.next(unit);
      EXPECT_GE(d, nominal / 2) << "unit " << unit << " attempt " << attempt;
      EXPECT_LE(d, nominal) << "unit " << unit << " attempt " << attempt;
      EXPECT_LE(d, Backoff::kMax);
    }
  }
  Backoff low, high;
  EXPECT_EQ(low.next(0.0), 250ms);
  EXPECT_EQ(high.next(0.5), 375ms);
}

TEST(AgentBackoff, OutOfRangeDrawsAreClamped) {
  Backoff b;
  EXPECT_EQ(b.next(-3.0), 250ms);
  EXPECT_EQ(b.next(7.0), 1000ms);
}

TEST(AgentBackoff, ASessionThatLived30SecondsResets) {
  Backoff b;
  for (int i = 0; i < 8; ++i) b.next(0.5);
  EXPECT_EQ(b.nominal(), 30000ms);
  b.session_ended(29s);
  EXPECT_EQ(b.nominal(), 30000ms) << "a short session keeps the schedule";
  b.session_ended(30s);
  EXPECT_EQ(b.nominal(), 500ms);
  EXPECT_LE(b.next(1.0), 500ms);
  EXPECT_EQ(b.nominal(), 1000ms);
  b.session_ended(2min);
  EXPECT_EQ(b.nominal(), 500ms);
}

}  // namespace
}  // namespace sy::agent
