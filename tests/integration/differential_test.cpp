// Differential framing test: every case of tests/data/framing_corpus.txt is
// sent over a raw socket to Switchyard and to HAProxy 2.6, each with a
// logging RawBackend behind it. It fails when Switchyard's backend saw a
// request the client did not send as one (smuggled, split, altered), when
// Switchyard answered 2xx to a request a backend could read two ways or that
// was never sent whole, or when Switchyard's answers differ from the
// corpus's `expect`. Differences from HAProxy never fail: they are printed,
// and written to <build>/differential_report.txt, for a human to review.
//
//   integration_tests --gtest_filter='Differential*'   (SY_FRAMING_CORPUS=FILE for another corpus)
#include <cstdlib>
#include <fstream>

#include "tests/integration/integration_fixture.hpp"
#include "tests/support/forwarded_check.hpp"
#include "tests/support/framing_corpus.hpp"
#include "tests/support/haproxy.hpp"
#include "tests/support/raw_backend.hpp"
#include "tests/support/raw_socket.hpp"

#ifndef SY_SOURCE_DIR
#error "differential_test needs SY_SOURCE_DIR (the source directory, for the corpus)"
#endif

namespace sy::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr const char* kHost = "diff.example.com";

// What one side did with one case.
struct Outcome {
  std::vector<int> statuses;  // final responses, in order
  bool closed = false;        // the proxy closed the connection
  std::vector<BackendEntry> seen;
  std::vector<std::string> problems;  // unsafe forwarding (see judge())
};

std::string statuses_text(const Outcome& o) {
  std::string out;
  for (int s : o.statuses) out += (out.empty() ? "" : " ") + std::to_string(s);
  if (out.empty()) out = "-";
  return o.closed ? out + " x" : out;
}

std::string backend_text(const Outcome& o) {
  size_t complete = 0, cut = 0, broken = 0;
  for (const BackendEntry& e : o.seen) {
    complete += e.complete;
    cut += !e.complete && e.error == "incomplete";
    broken += !e.complete && e.error != "incomplete";
  }
  std::string out = std::to_string(complete);
  if (cut > 0) out += "+" + std::to_string(cut) + "cut";
  if (broken > 0) out += "+" + std::to_string(broken) + "bad";
  return out;
}

// The safety rules, for either side: what reached the backend must be what
// the client sent, and no 2xx may answer a request a correct server would
// not have read whole and unambiguously.
std::vector<std::string> judge(const FramedStream& sent, const Outcome& o) {
  std::vector<std::string> problems;
  std::vector<FramedRequest> complete;
  size_t cut = 0;
  for (const BackendEntry& e : o.seen) {
    if (e.complete) complete.push_back(e.request);
    else if (e.error != "incomplete") problems.push_back("its backend could not frame what it sent: " + e.error);
    else ++cut;
  }
  // A request cut off mid-way (the proxy forwarded its head, then found the
  // body broken) is the client's own broken request, and there is one.
  if (cut > (sent.stop.empty() ? 0u : 1u))
    problems.push_back("its backend got " + std::to_string(cut) + " partial request(s) after the client's whole ones");
  if (std::string mismatch = match_forwarded(sent.requests, complete); !mismatch.empty()) problems.push_back(mismatch);
  for (size_t i = sent.requests.size(); i < o.statuses.size(); ++i) {
    if (o.statuses[i] / 100 == 2)
      problems.push_back("answered " + std::to_string(o.statuses[i]) + " to request " + std::to_string(i + 1) +
                         ", which a correct server does not read: " + sent.stop);
  }
  return problems;
}

class DifferentialTest : public RouterTest {
 protected:
  void TearDown() override {
    RouterTest::TearDown();
    if (HasFailure()) std::fprintf(stderr, "---- haproxy log ----\n%s\n", tail(haproxy_.log()).c_str());
  }

  void start_both() {
    ASSERT_NO_FATAL_FAILURE(start_all());
    ASSERT_TRUE(switchyard_backend_.start());
    ASSERT_TRUE(haproxy_backend_.start());
    ASSERT_NO_FATAL_FAILURE(route(kHost, switchyard_backend_.port()));
    haproxy_port_ = free_port();
    const std::string config = dir_.write_file("haproxy.cfg", haproxy_http_config(haproxy_port_, haproxy_backend_.port()));
    ASSERT_TRUE(haproxy_.start(config, dir_.file("haproxy.log"), haproxy_port_)) << haproxy_.error();
  }

  // Sends a case on a new connection and reads up to `answers` responses,
  // stopping early when the proxy closes or goes quiet for 2 s.
  static Outcome send_case(uint16_t port, RawBackend& backend, uint64_t epoch, const std::string& bytes,
                           size_t answers) {
    backend.set_epoch(epoch);
    Outcome o;
    RawSocket socket;
    if (!socket.connect(port)) return o;
    socket.send_while_open(bytes, seconds(10));
    bool closing = false;
    while (o.statuses.size() < answers) {
      const RawResponse r = socket.read_response(seconds(2));
      if (r.status == 0) break;
      if (r.status >= 200 || r.status == 101) o.statuses.push_back(r.status);
      // An error answer usually ends the connection, said or not.
      closing = r.header("Connection").find("close") != std::string::npos || r.status >= 400;
    }
    o.closed = socket.peer_closed() || socket.wait_closed(closing ? milliseconds(300) : milliseconds(0));
    return o;
  }

  RawBackend switchyard_backend_{dir_.file("switchyard-backend.jsonl")};
  RawBackend haproxy_backend_{dir_.file("haproxy-backend.jsonl")};
  Haproxy haproxy_;
  uint16_t haproxy_port_ = 0;
};

std::string corpus_path() {
  const char* env = std::getenv("SY_FRAMING_CORPUS");
  return env != nullptr && *env != '\0' ? env : std::string(SY_SOURCE_DIR) + "/tests/data/framing_corpus.txt";
}

std::string pad(std::string text, size_t width) {
  if (text.size() < width) text.append(width - text.size(), ' ');
  return text + " ";
}

// The table of every case, then the cases where the two proxies differ.
std::string report(const std::vector<FramingCase>& cases, const std::vector<Outcome>& sy,
                   const std::vector<Outcome>& hx) {
  std::string all = "Differential framing corpus: " + std::to_string(cases.size()) +
                    " cases. Statuses in order, x = the proxy closed the connection; backend = whole requests its\n"
                    "backend framed, +Ncut = cut off mid-request, +Nbad = unframeable. [haproxy: ...] notes say where\n"
                    "HAProxy departs from the strict reference (it often normalises rather than refuses): for review,\n"
                    "never a failure. [SWITCHYARD UNSAFE: ...] fails the test.\n\n" +
                    pad("case", 34) + pad("switchyard", 14) + pad("haproxy", 14) + pad("sy-backend", 11) +
                    pad("hx-backend", 11) + "notes\n";
  std::string differences = "\nDifferences (answers or backend counts), Switchyard vs HAProxy:\n" + pad("case", 34) +
                            pad("switchyard", 14) + pad("haproxy", 14) + "notes\n";
  size_t different = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    std::string notes = cases[i].note;
    for (const std::string& p : sy[i].problems) notes += " [SWITCHYARD UNSAFE: " + p + "]";
    for (const std::string& p : hx[i].problems) notes += " [haproxy: " + p + "]";
    all += pad(cases[i].name, 34) + pad(statuses_text(sy[i]), 14) + pad(statuses_text(hx[i]), 14) +
           pad(backend_text(sy[i]), 11) + pad(backend_text(hx[i]), 11) + notes + "\n";
    if (sy[i].statuses != hx[i].statuses || backend_text(sy[i]) != backend_text(hx[i])) {
      ++different;
      differences += pad(cases[i].name, 34) + pad(statuses_text(sy[i]), 14) + pad(statuses_text(hx[i]), 14) + notes + "\n";
    }
  }
  return all + differences + std::to_string(different) + " of " + std::to_string(cases.size()) + " cases differ\n";
}

TEST_F(DifferentialTest, FramingCorpusAgainstHaproxy) {
  std::string error;
  const std::vector<FramingCase> cases = load_framing_corpus(corpus_path(), kHost, &error);
  ASSERT_FALSE(cases.empty()) << error;
  ASSERT_NO_FATAL_FAILURE(start_both());
  std::vector<FramedStream> sent;
  std::vector<Outcome> sy, hx;
  for (size_t i = 0; i < cases.size(); ++i) {
    sent.push_back(frame_stream(cases[i].bytes));
    const size_t answers = sent.back().requests.size() + (sent.back().stop.empty() || sent.back().incomplete ? 0 : 1);
    sy.push_back(send_case(router_.port(), switchyard_backend_, i + 1, cases[i].bytes,
                           std::max(answers, cases[i].expect.size())));
    hx.push_back(send_case(haproxy_port_, haproxy_backend_, i + 1, cases[i].bytes, answers));
  }
  // Every session has ended (so an upload the router cut off has reached
  // its backend as EOF), then each backend has framed all it was sent.
  EXPECT_TRUE(wait_until([&] { return metric_sum(router_.metrics(), "active_client_connections") == 0; }, seconds(10)));
  ASSERT_TRUE(switchyard_backend_.settle());
  ASSERT_TRUE(haproxy_backend_.settle());
  for (size_t i = 0; i < cases.size(); ++i) {
    for (auto [outcome, backend] : {std::pair{&sy[i], &switchyard_backend_}, std::pair{&hx[i], &haproxy_backend_}}) {
      for (BackendEntry& e : backend->entries())
        if (e.epoch == i + 1) outcome->seen.push_back(std::move(e));
      outcome->problems = judge(sent[i], *outcome);
    }
  }
  const std::string table = report(cases, sy, hx);
  std::printf("%s", table.c_str());
  std::ofstream(std::string(SY_BIN_DIR) + "/differential_report.txt") << table;
  for (size_t i = 0; i < cases.size(); ++i) {
    const std::string where = cases[i].name + " (" + corpus_path() + ":" + std::to_string(cases[i].line) + ")";
    for (const std::string& p : sy[i].problems) ADD_FAILURE() << where << ": Switchyard " << p;
    if (sy[i].statuses != std::vector<int>(cases[i].expect))
      ADD_FAILURE() << where << ": Switchyard answered " << statuses_text(sy[i]) << ", the corpus expects "
                    << statuses_text(Outcome{cases[i].expect, false, {}, {}}) << "\n  sent: " << printable(cases[i].bytes);
  }
  EXPECT_GE(cases.size(), 40u);
}

}  // namespace
}  // namespace sy::test
