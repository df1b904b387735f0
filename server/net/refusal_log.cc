#include "server/net/refusal_log.h"

#include <spdlog/spdlog.h>

namespace outreach::server {

std::optional<std::string> RefusalLog::Line(Kind kind, const std::string& address, const std::string& message,
                                            Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mu_);
  auto key = std::make_pair(kind, address);
  auto it = entries_.find(key);
  if (it != entries_.end() && now - it->second.last_line < interval_) {
    ++it->second.suppressed;
    it->second.message = message;
    return std::nullopt;
  }
  std::string line = "peer " + address + ": refused: " + message;
  if (it != entries_.end() && it->second.suppressed > 0) {
    line += " (and " + std::to_string(it->second.suppressed) + " more like it from this address in the last " +
            std::to_string(std::chrono::duration_cast<std::chrono::seconds>(now - it->second.last_line).count()) +
            " s, not logged)";
  }
  if (it == entries_.end()) {
    if (entries_.size() >= max_keys_) Prune(now);
    it = entries_.emplace(std::move(key), Entry{}).first;
  }
  it->second.last_line = now;
  it->second.suppressed = 0;
  return line;
}

std::vector<std::string> RefusalLog::Summaries(Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> lines;
  for (auto& [key, entry] : entries_) {
    if (entry.suppressed == 0 || now - entry.last_line < interval_) continue;
    // Only the count is news: the refusal itself was logged with the entry's last line.
    lines.push_back("peer " + key.second + ": refused " + std::to_string(entry.suppressed) +
                    " more times like this in the last " +
                    std::to_string(std::chrono::duration_cast<std::chrono::seconds>(now - entry.last_line).count()) +
                    " s, not logged: " + entry.message);
    entry.last_line = now;
    entry.suppressed = 0;
  }
  return lines;
}

void RefusalLog::Write(const std::string& line) {
  spdlog::warn("{}", line);
}

void RefusalLog::Prune(Clock::time_point now) {
  // An entry whose interval has passed logs its next refusal anyway; only the count of
  // lines it left out is lost with it.
  for (auto it = entries_.begin(); it != entries_.end();) {
    it = now - it->second.last_line >= interval_ ? entries_.erase(it) : std::next(it);
  }
}

}  // namespace outreach::server
