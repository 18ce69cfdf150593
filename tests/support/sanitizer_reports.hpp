#pragma once
// Sanitizer reports of the processes the tests start. Every child started
// through Process gets `log_path=<dir>/report` appended to ASAN_OPTIONS and
// UBSAN_OPTIONS, so a sanitized child (switchyard, switchyard-echo,
// switchyard-registrar of a -DSWITCHYARD_SANITIZE build) writes any
// AddressSanitizer, LeakSanitizer or UndefinedBehaviorSanitizer report to
// <dir>/report.<pid> instead of its stderr. When Process reaps the child it
// takes that file and fails the current test with its text, so a report in
// a child fails the test that started it, whatever the child's exit status.
// Unsanitized children ignore the variables.
//
// <dir> is <SY_SANITIZER_LOG_DIR or the temp dir>/sy-sanitizer-<test pid>,
// created on first use and removed at exit when empty: a report that no
// Process claimed (a grandchild's) stays there, and scripts/test.sh fails on
// any file left under SY_SANITIZER_LOG_DIR.
#include <sys/types.h>

#include <optional>
#include <string>

namespace sy::test {

// "<dir>/report": the log_path given to children (creates <dir>).
const std::string& sanitizer_log_prefix();

// `options` (a sanitizer's *_OPTIONS value, possibly empty) with log_path added.
std::string with_sanitizer_log_path(const std::string& options);

// The report `pid` left, removed from the directory; nullopt if none.
std::optional<std::string> take_sanitizer_report(pid_t pid);

}  // namespace sy::test
