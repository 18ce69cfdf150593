// Replays, through every fuzz harness linked into the unit tests
// (tests/fuzz/NAME.cpp, see tests/fuzz/harness.hpp), the inputs that once
// failed it (tests/fuzz/regressions/NAME/) and its seed corpus
// (tests/fuzz/corpus/NAME/). So the normal build keeps each fuzz finding
// fixed and the seeds' invariants true without clang or libFuzzer. A
// violated invariant traps: the test process dies and the test fails.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

#include "tests/fuzz/harness.hpp"

namespace sy::fuzz {
namespace {

namespace fs = std::filesystem;

const fs::path kFuzzDir = (fs::path(__FILE__).parent_path() / "../../fuzz").lexically_normal();

// Regular files of `dir` (none when it does not exist), sorted, without dotfiles.
std::vector<fs::path> files_in(const fs::path& dir) {
  std::vector<fs::path> files;
  if (!fs::is_directory(dir)) return files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.is_regular_file() && entry.path().filename().string().front() != '.') files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class FuzzRegression : public ::testing::TestWithParam<Harness> {};

TEST_P(FuzzRegression, ReplaysRegressionsAndSeedCorpus) {
  const Harness& harness = GetParam();
  const std::vector<fs::path> seeds = files_in(kFuzzDir / "corpus" / harness.name);
  ASSERT_FALSE(seeds.empty()) << "no seed corpus in " << (kFuzzDir / "corpus" / harness.name);
  std::vector<fs::path> inputs = files_in(kFuzzDir / "regressions" / harness.name);
  inputs.insert(inputs.end(), seeds.begin(), seeds.end());
  for (const fs::path& file : inputs) {
    SCOPED_TRACE(file.string());
    const std::string data = read_all(file);
    std::fprintf(stderr, "replaying %s (%zu bytes)\n", file.c_str(), data.size());
    EXPECT_EQ(harness.entry(reinterpret_cast<const uint8_t*>(data.data()), data.size()), 0);
  }
}

INSTANTIATE_TEST_SUITE_P(Harnesses, FuzzRegression, ::testing::ValuesIn(harnesses()),
                         [](const ::testing::TestParamInfo<Harness>& info) { return std::string(info.param.name); });

// Every harness with a corpus is linked here (its inputs are replayed), and
// each harness has its corpus.
TEST(FuzzRegression, EveryCorpusHasItsHarness) {
  std::set<std::string> corpora, linked;
  for (const auto& entry : fs::directory_iterator(kFuzzDir / "corpus")) {
    if (entry.is_directory()) corpora.insert(entry.path().filename().string());
  }
  for (const Harness& harness : harnesses()) linked.insert(harness.name);
  EXPECT_FALSE(linked.empty());
  EXPECT_EQ(corpora, linked);
}

}  // namespace
}  // namespace sy::fuzz
