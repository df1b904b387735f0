#include "bench/scenarios/harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

namespace outreach::bench {

using namespace std::chrono_literals;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

void Die(const std::string& what) {
  std::fprintf(stderr, "outreach-bench: %s\n", what.c_str());
  std::fflush(stderr);
  std::exit(1);
}

void Must(const Status& st, const std::string& what) {
  if (!st.ok()) Die(what + ": " + st.ToString());
}

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base != nullptr ? base : "/tmp") + "/outreach-bench-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) Die("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string ServerBinary() {
  return OUTREACH_SERVER_BINARY;
}
std::string CaptureBinary() {
  return OUTREACH_CAPTURE_BINARY;
}
std::string SelfBinary() {
  return std::filesystem::read_symlink("/proc/self/exe").string();
}

namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Replaces the child's stdout/stderr and runs `binary`. Never returns.
[[noreturn]] void Exec(const std::string& binary, const std::vector<std::string>& args, int stdout_fd, int stderr_fd) {
  ::dup2(stdout_fd, STDOUT_FILENO);
  ::dup2(stderr_fd, STDERR_FILENO);
  std::vector<std::string> copy = args;
  std::string name = binary;
  std::vector<char*> argv{name.data()};
  for (std::string& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  ::execv(binary.c_str(), argv.data());
  ::_exit(127);
}

nlohmann::json ParseObject(const std::string& text, const std::string& what) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) Die(what + " printed no JSON object: " + text);
  return j;
}

}  // namespace

std::string RunOrDie(const std::string& binary, const std::vector<std::string>& args) {
  TempDir scratch;
  const std::string out_path = scratch / "stdout";
  const std::string err_path = scratch / "stderr";
  int out_fd = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  int err_fd = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  pid_t pid = ::fork();
  if (pid == 0) Exec(binary, args, out_fd, err_fd);
  ::close(out_fd);
  ::close(err_fd);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string line = binary;
    for (const std::string& a : args) line += " " + a;
    Die(line + " failed: " + ReadFile(err_path));
  }
  return ReadFile(out_path);
}

Deployment MakeDeployment(const std::string& data, const std::string& store, int hub_count) {
  Deployment d;
  d.data = data;
  d.store = store;
  d.store_location = store.empty() ? data + "/store.db" : store;
  std::vector<std::string> init{"init", "--data", data, "--hostname", "localhost", "--json"};
  if (!store.empty()) init.insert(init.end(), {"--store", store});
  RunOrDie(ServerBinary(), init);
  for (int i = 0; i < hub_count; ++i) {
    std::vector<std::string> add{"hub", "add", "--data", data, "--name", "Hub " + std::to_string(i + 1), "--json"};
    if (!store.empty()) add.insert(add.end(), {"--store", store});
    nlohmann::json out = ParseObject(RunOrDie(ServerBinary(), add), "hub add");
    d.hubs.push_back(Must(Uuid::Parse(out.value("hub_id", "")), "hub add"));
  }
  d.ca_pem = ReadFile(data + "/ca.pem");
  return d;
}

ServerProcess::ServerProcess(const Deployment& deployment, const std::vector<std::string>& extra_args,
                             const std::string& log_path) {
  std::vector<std::string> args{"serve", "--data", deployment.data, "--listen", "127.0.0.1:0", "--json"};
  if (!deployment.store.empty()) args.insert(args.end(), {"--store", deployment.store});
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) Die("pipe failed");
  int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  pid_ = ::fork();
  if (pid_ == 0) {
    ::close(pipe_fds[0]);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlives a driver that Die()d
    Exec(ServerBinary(), args, pipe_fds[1], log_fd);
  }
  ::close(pipe_fds[1]);
  ::close(log_fd);
  stdout_fd_ = pipe_fds[0];

  // The first stdout line is {"listening":"127.0.0.1:PORT"}.
  std::string line;
  const auto deadline = Clock::now() + 30s;
  while (line.find('\n') == std::string::npos && Clock::now() < deadline) {
    pollfd p{stdout_fd_, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    char buf[256];
    ssize_t n = ::read(stdout_fd_, buf, sizeof buf);
    if (n <= 0) break;
    line.append(buf, static_cast<size_t>(n));
  }
  nlohmann::json first = nlohmann::json::parse(line, nullptr, false);
  const std::string address = first.is_object() ? first.value("listening", "") : "";
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos) Die("serve did not print its address; log: " + ReadFile(log_path));
  port_ = static_cast<uint16_t>(std::stoi(address.substr(colon + 1)));
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    const auto deadline = Clock::now() + 10s;
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (Clock::now() > deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(10ms);
    }
  }
  if (stdout_fd_ >= 0) ::close(stdout_fd_);
}

uint64_t ProcStatusKb(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stoull(line.substr(field.size() + 1));
  }
  return 0;
}

double ProcCpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  std::getline(in, stat);
  // The command name (field 2) is in parentheses and may hold spaces: count from after it.
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream fields(stat.substr(close + 2));
  std::string skip;
  for (int field = 3; field < 14; ++field) fields >> skip;  // state .. cmajflt
  unsigned long long utime = 0, stime = 0;                  // fields 14 and 15, in clock ticks
  fields >> utime >> stime;
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// ------------------------------------------------------------------ WireRelay

WireRelay::WireRelay(uint16_t target_port) : target_port_(target_port) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listen_fd_, 1024) != 0) {
    Die("relay: cannot listen");
  }
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  if (::pipe(wake_fds_) != 0) Die("relay: pipe failed");
  thread_ = std::thread([this] { Loop(); });
}

WireRelay::~WireRelay() {
  const char stop = 'x';
  (void)!::write(wake_fds_[1], &stop, 1);
  thread_.join();
  ::close(listen_fd_);
  ::close(wake_fds_[0]);
  ::close(wake_fds_[1]);
}

void WireRelay::Loop() {
  // fd -> its peer; both ends of every pair are keys.
  std::map<int, int> peer;
  auto close_pair = [&peer](int fd) {
    int other = peer[fd];
    peer.erase(fd);
    peer.erase(other);
    ::close(fd);
    ::close(other);
  };
  // Client-side fds (device end), to know which way a byte travels.
  std::map<int, bool> is_device;
  std::vector<char> buffer(1 << 16);
  for (;;) {
    std::vector<pollfd> fds{{wake_fds_[0], POLLIN, 0}, {listen_fd_, POLLIN, 0}};
    for (const auto& [fd, other] : peer) fds.push_back({fd, POLLIN, 0});
    if (::poll(fds.data(), fds.size(), -1) < 0) continue;
    if (fds[0].revents != 0) break;
    if (fds[1].revents & POLLIN) {
      int device = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (device >= 0) {
        int server = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = htons(target_port_);
        if (::connect(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
          ::close(device);
          ::close(server);
        } else {
          const int one = 1;
          ::setsockopt(device, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          ::setsockopt(server, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          peer[device] = server;
          peer[server] = device;
          is_device[device] = true;
          is_device[server] = false;
        }
      }
    }
    for (size_t i = 2; i < fds.size(); ++i) {
      if (fds[i].revents == 0 || peer.count(fds[i].fd) == 0) continue;
      const int from = fds[i].fd;
      ssize_t n = ::read(from, buffer.data(), buffer.size());
      if (n <= 0) {
        is_device.erase(peer[from]);
        is_device.erase(from);
        close_pair(from);
        continue;
      }
      (is_device[from] ? up_ : down_) += static_cast<uint64_t>(n);
      const int to = peer[from];
      ssize_t off = 0;
      while (off < n) {
        ssize_t w = ::write(to, buffer.data() + off, static_cast<size_t>(n - off));
        if (w <= 0) break;
        off += w;
      }
    }
  }
  while (!peer.empty()) close_pair(peer.begin()->first);
}

// ------------------------------------------------------------------ Table

void Table::Row(const std::string& figure, const std::string& value, const std::string& baseline,
                const std::string& ratio, const std::string& goal) {
  lines_.push_back({figure, value, baseline, ratio, goal});
}

void Table::Print() const {
  Line head{"figure", "value", "plain baseline", "ratio", "goal"};
  size_t w[5] = {0, 0, 0, 0, 0};
  auto widen = [&w](const Line& l) {
    w[0] = std::max(w[0], l.figure.size());
    w[1] = std::max(w[1], l.value.size());
    w[2] = std::max(w[2], l.baseline.size());
    w[3] = std::max(w[3], l.ratio.size());
    w[4] = std::max(w[4], l.goal.size());
  };
  widen(head);
  for (const Line& l : lines_) widen(l);
  auto print = [&w](const Line& l) {
    std::printf("| %-*s | %*s | %*s | %*s | %-*s |\n", static_cast<int>(w[0]), l.figure.c_str(), static_cast<int>(w[1]),
                l.value.c_str(), static_cast<int>(w[2]), l.baseline.c_str(), static_cast<int>(w[3]), l.ratio.c_str(),
                static_cast<int>(w[4]), l.goal.c_str());
  };
  std::printf("\n## %s\n\n", title_.c_str());
  print(head);
  std::printf("|%s|%s:|%s:|%s:|%s|\n", std::string(w[0] + 2, '-').c_str(), std::string(w[1] + 1, '-').c_str(),
              std::string(w[2] + 1, '-').c_str(), std::string(w[3] + 1, '-').c_str(),
              std::string(w[4] + 2, '-').c_str());
  for (const Line& l : lines_) print(l);
  if (!notes_.empty()) std::printf("\n");
  for (const std::string& n : notes_) std::printf("- %s\n", n.c_str());
  std::fflush(stdout);
}

std::string Num(double value, int decimals) {
  char raw[64];
  std::snprintf(raw, sizeof raw, "%.*f", decimals < 0 ? 0 : decimals, value < 0 ? -value : value);
  const std::string digits = raw;
  const size_t int_end = std::min(digits.find('.'), digits.size());
  std::string out = value < 0 ? "-" : "";
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && i < int_end && (int_end - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

std::string Ratio(double numerator, double denominator) {
  if (denominator <= 0) return "-";
  return Num(numerator / denominator, 2) + "x";
}

}  // namespace outreach::bench
