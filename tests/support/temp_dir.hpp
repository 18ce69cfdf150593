#pragma once
// RAII temporary directory under /tmp (`/tmp/sy-test-XXXXXX`). Removed with
// everything in it on destruction, unless the environment variable
// SY_KEEP_TMP is set (then its path is printed to stderr so logs can be read).
#include <string>

namespace sy::test {

class TempDir {
 public:
  // Creates the directory; path() is empty if mkdtemp failed.
  explicit TempDir(const std::string& prefix = "sy-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path() + "/" + name.
  std::string file(const std::string& name) const;
  // Writes `content` to file(name); returns its path ("" on failure).
  std::string write_file(const std::string& name, const std::string& content) const;

 private:
  std::string path_;
};

// Reads a whole file; empty if it cannot be read.
std::string read_file(const std::string& path);

}  // namespace sy::test
