#include "client/cli/output.h"

#include <string>

namespace outreach::cli {
namespace {

using Json = nlohmann::ordered_json;

std::string Scalar(const Json& value) {
  return value.is_string() ? value.get<std::string>() : value.dump();
}

bool AllScalars(const Json& array) {
  for (const Json& element : array) {
    if (element.is_structured()) return false;
  }
  return true;
}

void PrintText(const Json& value, int indent, std::ostream& out);

void PrintMember(const std::string& key, const Json& value, int indent, std::ostream& out) {
  const std::string pad(static_cast<size_t>(indent), ' ');
  if (value.is_object()) {
    out << pad << key << ":\n";
    PrintText(value, indent + 2, out);
  } else if (value.is_array() && !AllScalars(value)) {
    out << pad << key << ": (" << value.size() << ")\n";
    for (const Json& element : value) {
      out << pad << "  -\n";
      PrintText(element, indent + 4, out);
    }
  } else if (value.is_array()) {
    out << pad << key << ":";
    for (size_t i = 0; i < value.size(); ++i) out << (i == 0 ? " " : ", ") << Scalar(value[i]);
    out << "\n";
  } else {
    out << pad << key << ": " << Scalar(value) << "\n";
  }
}

void PrintText(const Json& value, int indent, std::ostream& out) {
  if (!value.is_object()) {
    out << std::string(static_cast<size_t>(indent), ' ') << Scalar(value) << "\n";
    return;
  }
  for (const auto& [key, member] : value.items()) PrintMember(key, member, indent, out);
}

}  // namespace

void PrintResult(const Json& result, bool json, std::ostream& out) {
  if (json) {
    out << result.dump() << "\n";
  } else {
    PrintText(result, 0, out);
  }
}

}  // namespace outreach::cli
