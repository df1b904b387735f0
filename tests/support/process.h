// Running real programs for tests (the `outreach` and `outreach-server` binaries, cmake, a
// C compiler) and collecting what they printed; temporary directories.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace outreach::testing {

struct ProcessResult {
  // The exit status; 128 + the signal's number if a signal ended it; -1 if it could not run.
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs argv[0] (a path, or a name looked up on PATH) with `env` added to the environment,
// in `cwd` when not empty, and waits for it.
ProcessResult RunProcess(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env = {},
                         const std::string& cwd = {});

// A new empty directory under the system temp dir ($TMPDIR), removed with its contents on
// destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  // The path of `name` in it.
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// The file's bytes; "" if it cannot be read.
std::string ReadFileOrEmpty(const std::string& path);

}  // namespace outreach::testing
