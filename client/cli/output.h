// What a command prints on stdout: one JSON object on one line with --json, otherwise
// the same content as indented "key: value" text for a person.
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>

namespace outreach::cli {

void PrintResult(const nlohmann::ordered_json& result, bool json, std::ostream& out);

}  // namespace outreach::cli
