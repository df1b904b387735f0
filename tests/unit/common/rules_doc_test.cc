// docs/RULES.md against the code it describes: every rule of every record type
// (common/validation/rules_table.cc), every state-machine step and every kept-history field
// (common/record_registry.cc) has its row there, and every row there names one of them.
// The row formats are described at the top of docs/RULES.md.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common/record_registry.h"
#include "common/validation/record_rules.h"
#include "common/validation/transitions.h"

namespace outreach::validation {
namespace {

const char* const kDoc = OUTREACH_SOURCE_DIR "/docs/RULES.md";

// One row of a markdown table: its cells, trimmed, and the line it came from.
struct Row {
  std::vector<std::string> cells;
  int line = 0;
  bool used = false;
};

std::string Trim(const std::string& s) {
  const size_t begin = s.find_first_not_of(" \t");
  if (begin == std::string::npos) return "";
  const size_t end = s.find_last_not_of(" \t");
  return s.substr(begin, end - begin + 1);
}

std::vector<std::string> Cells(const std::string& line) {
  std::vector<std::string> cells;
  std::string body = Trim(line);
  if (!body.empty() && body.front() == '|') body.erase(0, 1);
  if (!body.empty() && body.back() == '|') body.pop_back();
  std::stringstream in(body);
  std::string cell;
  while (std::getline(in, cell, '|')) cells.push_back(Trim(cell));
  return cells;
}

// The rows of every table under the `## heading` whose header's first cells are `header`.
std::vector<Row> TableRows(const std::vector<std::string>& lines, const std::string& heading,
                           const std::vector<std::string>& header) {
  std::vector<Row> rows;
  bool in_section = false, in_table = false, wanted = false;
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    if (line.rfind("## ", 0) == 0) {
      in_section = Trim(line.substr(3)) == heading;
      in_table = false;
      continue;
    }
    if (!in_section) continue;
    if (line.rfind("|", 0) != 0) {
      in_table = false;
      continue;
    }
    const std::vector<std::string> cells = Cells(line);
    if (!in_table) {  // a header
      in_table = true;
      wanted = cells.size() >= header.size() && std::equal(header.begin(), header.end(), cells.begin());
      continue;
    }
    if (!wanted || line.rfind("|---", 0) == 0) continue;
    rows.push_back(Row{cells, static_cast<int>(i + 1)});
  }
  return rows;
}

class RulesDocTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ifstream in(kDoc);
    ASSERT_TRUE(in) << "cannot read " << kDoc;
    for (std::string line; std::getline(in, line);) lines_.push_back(line);
  }

  std::vector<std::string> lines_;
};

std::string Builder(const Rule& rule) {
  switch (rule.kind) {
    case Rule::Kind::kRequired: return "Required";
    case Rule::Kind::kLink: return rule.optional ? "OptionalLink" : "Link";
    case Rule::Kind::kLinkOfSameParticipant: return "LinkOfSameParticipant";
    case Rule::Kind::kFormat: return "FormatOf";
    case Rule::Kind::kNotBefore: return "NotBefore";
    case Rule::Kind::kNotAfterToday: return "NotAfterToday";
    case Rule::Kind::kInTheJourney: return "DatedInTheJourney";
    case Rule::Kind::kRange: return "Range";
    case Rule::Kind::kAnyOf: return "AnyOf";
    case Rule::Kind::kAbsent: return "Absent";
    case Rule::Kind::kUnchanged: return "Unchanged";
    case Rule::Kind::kCheck: return "Check";
  }
  return "?";
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// What is wrong with `row` as the row of `rule` (of a type `written_on_devices` or not);
// empty when nothing is.
std::string Mismatch(const Rule& rule, bool written_on_devices, const Row& row) {
  if (row.cells.size() < 6) return "it has fewer than 6 cells";
  const std::string& declaration = row.cells[2];
  const std::string builder = Builder(rule);
  const std::string named = rule.kind == Rule::Kind::kCheck ? rule.check_name : rule.field;
  if (declaration.rfind("`" + builder + "(", 0) != 0) return "its declaration does not start `" + builder + "(";
  if (!Contains(declaration, "\"" + named + "\"")) return "its declaration does not name \"" + named + "\"";
  if (rule.when_field != nullptr) {
    const std::string condition = std::string(rule.when_negated ? ".Unless(\"" : ".When(\"") + rule.when_field + "\"";
    if (!Contains(declaration, condition)) return "its declaration does not say " + condition + "...)";
  } else if (Contains(declaration, ".When(") || Contains(declaration, ".Unless(")) {
    return "its declaration has a condition the rule does not";
  }
  if (rule.device_only != Contains(declaration, ".OnDeviceOnly()")) {
    return rule.device_only ? "its declaration does not say .OnDeviceOnly()"
                            : "its declaration says .OnDeviceOnly(), the rule does not";
  }
  const std::string enforced = !written_on_devices ? "not on a write"
                               : rule.device_only  ? "device only"
                                                   : "device and server";
  if (row.cells[4] != enforced) return "it says enforced '" + row.cells[4] + "', not '" + enforced + "'";
  // The rule's own words, up to the other field's value a NotBefore puts in them.
  const std::string words = Trim(rule.message.substr(0, rule.message.find("{other}")));
  if (!words.empty() && !Contains(row.cells[5], words)) return "it does not give the message '" + words + "'";
  return "";
}

TEST_F(RulesDocTest, EveryRuleOfEveryRecordTypeHasItsRow) {
  std::vector<Row> rows =
      TableRows(lines_, "Rules by record type", {"type", "field or check", "declaration (`rules_table.cc`)"});
  ASSERT_FALSE(rows.empty()) << kDoc << " has no rules table under '## Rules by record type'";
  int checked = 0;
  for (const RecordRules& rules : AllRecordRules()) {
    const RecordTypeInfo* info = FindRecordType(rules.type);
    ASSERT_NE(info, nullptr);
    const std::string type(info->name);
    for (size_t i = 0; i < rules.rules.size(); ++i) {
      const Rule& rule = rules.rules[i];
      const std::string named =
          rule.kind == Rule::Kind::kCheck ? "`" + std::string(rule.check_name) + "`" : std::string(rule.field);
      const std::string what = type + " rule " + std::to_string(i + 1) + ", " + Builder(rule) + "(\"" +
                               (rule.kind == Rule::Kind::kCheck ? rule.check_name : rule.field) + "\")";
      std::vector<std::string> problems;
      bool found = false;
      for (Row& row : rows) {
        if (row.used || row.cells.size() < 2 || row.cells[0] != type || row.cells[1] != named) continue;
        const std::string problem = Mismatch(rule, rules.written_on_devices, row);
        if (problem.empty()) {
          row.used = found = true;
          break;
        }
        problems.push_back("line " + std::to_string(row.line) + ": " + problem);
      }
      ++checked;
      if (found) continue;
      std::string detail;
      for (const std::string& p : problems) detail += "\n  the row at " + p;
      ADD_FAILURE() << "docs/RULES.md has no row for " << what << " (rules_table.cc): add one starting | " << type
                    << " | " << named << " | `" << Builder(rule) << "(" << detail;
    }
  }
  for (const Row& row : rows) {
    if (!row.used) {
      ADD_FAILURE() << "docs/RULES.md line " << row.line << " (| " << row.cells[0] << " | "
                    << (row.cells.size() > 1 ? row.cells[1] : "")
                    << " |) matches no rule as rules_table.cc declares it";
    }
  }
  EXPECT_GT(checked, 0);
}

// "adviser, health worker", with "the participant's adviser" where the step lets them.
std::string Who(const StateStep& step) {
  std::string out;
  for (v1::Role role : step.roles) out += (out.empty() ? "" : ", ") + RoleWord(role);
  if (step.participant_adviser) out += (out.empty() ? "" : ", ") + std::string("the participant's adviser");
  return out;
}

std::string Fields(const std::vector<const google::protobuf::FieldDescriptor*>& fields) {
  std::string out;
  for (const auto* f : fields) out += (out.empty() ? "`" : ", `") + f->name() + "`";
  return out.empty() ? "none" : out;
}

TEST_F(RulesDocTest, EveryStateMachineStepHasItsRow) {
  std::vector<Row> rows = TableRows(lines_, "State-machine steps", {"type", "step", "who may take it"});
  ASSERT_FALSE(rows.empty()) << kDoc << " has no steps table under '## State-machine steps'";
  int checked = 0;
  for (const RecordTypeInfo& info : AllRecordTypes()) {
    if (info.state_field == nullptr) continue;
    const std::string type(info.name);
    for (const StateStep& step : info.steps) {
      const std::string move =
          (step.from == 0 ? "(new)" : info.StateName(step.from)) + " -> " + info.StateName(step.to);
      const std::string who = Who(step);
      const std::string actor = step.actor != nullptr ? "`" + step.actor->name() + "`" : "none";
      const std::string not_by = Fields(step.not_by);
      ++checked;
      Row* row = nullptr;
      for (Row& r : rows)
        if (!r.used && r.cells.size() >= 2 && r.cells[0] == type && r.cells[1] == move) row = &r;
      if (row == nullptr) {
        ADD_FAILURE() << "docs/RULES.md has no row for the " << type << " step " << move
                      << " (record_registry.cc): add | " << type << " | " << move << " | " << who << " | " << actor
                      << " | " << not_by << " |";
        continue;
      }
      row->used = true;
      if (row->cells.size() < 5 || row->cells[2] != who || row->cells[3] != actor || row->cells[4] != not_by) {
        ADD_FAILURE() << "docs/RULES.md line " << row->line << ", the " << type << " step " << move
                      << ", differs from record_registry.cc, which declares | " << type << " | " << move << " | " << who
                      << " | " << actor << " | " << not_by << " |";
      }
    }
  }
  for (const Row& row : rows) {
    if (!row.used) {
      ADD_FAILURE() << "docs/RULES.md line " << row.line << " (| " << row.cells[0] << " | "
                    << (row.cells.size() > 1 ? row.cells[1] : "") << " |) matches no step record_registry.cc declares";
    }
  }
  EXPECT_GT(checked, 0);
}

TEST_F(RulesDocTest, EveryKeptHistoryHasItsRow) {
  std::vector<Row> rows = TableRows(lines_, "Kept history", {"type", "field", "rule"});
  for (const RecordTypeInfo& info : AllRecordTypes()) {
    if (info.history_field == nullptr) continue;
    const std::string type(info.name);
    bool found = false;
    for (Row& row : rows) {
      if (row.cells.size() >= 2 && row.cells[0] == type && row.cells[1] == info.history_field->name()) {
        row.used = found = true;
      }
    }
    EXPECT_TRUE(found) << "docs/RULES.md has no row for the " << type << " history field " << info.history_field->name()
                       << " (record_registry.cc): add one under '## Kept history'";
  }
  for (const Row& row : rows) {
    EXPECT_TRUE(row.used) << "docs/RULES.md line " << row.line << " names no history field record_registry.cc declares";
  }
}

}  // namespace
}  // namespace outreach::validation
