// Run-time policy of a sanitized build (-DSWITCHYARD_SANITIZE=address,undefined).
// The top-level CMakeLists.txt compiles this file into every executable of
// such a build — switchyard, switchyard-registrar, switchyard-echo and the
// test binaries — so a binary behaves the same under ctest, when an
// integration test spawns it, and when started by hand. ASAN_OPTIONS,
// UBSAN_OPTIONS and LSAN_OPTIONS in the environment still override single
// flags (tests/support/process.cpp adds log_path for the children it starts).
//
// Policy: the first report ends the process with abort() — exit status 134
// (SIGABRT), a leak found at exit included — so a test that checks the exit
// code fails too, and tests/support/process.cpp fails the test on any child
// that dies so.

extern "C" {

const char* __asan_default_options() {
  return "halt_on_error=1:abort_on_error=1:detect_leaks=1:check_initialization_order=1:strict_init_order=1";
}

const char* __ubsan_default_options() { return "halt_on_error=1:abort_on_error=1:print_stacktrace=1"; }

// Leaks that are not ours to fix, one line each with the reason. Nothing of
// Switchyard's own code may be listed here.
const char* __lsan_default_suppressions() {
  return "";
}

}  // extern "C"
