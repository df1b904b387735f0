// Runs a real program (the `outreach` binary, cmake, a C compiler) for the tests of this
// folder and collects what it printed.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace outreach::testing {

struct ProcessResult {
  int exit_code = -1;  // -1 when the program could not run or was killed by a signal
  std::string out;
  std::string err;
};

// Runs argv[0] (a path, or a name looked up on PATH) with `env` added to the environment,
// in `cwd` when not empty, and waits for it.
ProcessResult RunProcess(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env = {},
                         const std::string& cwd = {});

// A program running in the background (a server) whose stdout is read line by line.
// The destructor stops it with SIGTERM and waits for it.
class BackgroundProcess {
 public:
  explicit BackgroundProcess(const std::vector<std::string>& argv);
  ~BackgroundProcess();
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;

  // The next line of its stdout (without the newline); "" at end of output or after
  // `timeout_ms` without a full line.
  std::string ReadLine(int timeout_ms);

 private:
  int pid_ = -1;
  int stdout_fd_ = -1;
  std::string buffered_;
};

// A new empty directory under the system temp dir, removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace outreach::testing
