#include "client/cli/field_options.h"

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <map>

#include "client/capi/record_json.h"
#include "common/record_registry.h"
#include "common/uuid.h"
#include "common/validation/forms.h"
#include "common/validation/record_rules.h"
#include "outreach/device.h"

namespace outreach::cli {
namespace {

namespace pb = google::protobuf;

template <typename Int>
Result<Int> ParseInteger(std::string_view text, const std::string& field) {
  Int value{};
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error == std::errc::result_out_of_range)
    return Status::InvalidArgument(field, "'" + std::string(text) + "' is out of range");
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) {
    return Status::InvalidArgument(field, "'" + std::string(text) + "' is not a whole number");
  }
  return value;
}

Result<bool> ParseBool(std::string_view text, const std::string& field) {
  if (text.empty() || text == "true" || text == "yes" || text == "1") return true;
  if (text == "false" || text == "no" || text == "0") return false;
  return Status::InvalidArgument(field, "'" + std::string(text) + "' is not true or false");
}

// Splits "a,b" for repeated fields of enums and ids (free text is never split).
std::vector<std::string> SplitValues(const pb::FieldDescriptor* field, const std::string& text) {
  if (!field->is_repeated() || (field->cpp_type() == pb::FieldDescriptor::CPPTYPE_STRING && !capi::IsIdField(field))) {
    return {text};
  }
  std::vector<std::string> values;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    if (comma > start) values.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return values;
}

// What a caller must give for a body of `type`: the fields its rules require without a
// condition (a required value, a link that must be set), less those the creating
// operation fills in; and, per field, the others that may stand in for it ("phone or
// email").
struct Requirements {
  std::set<std::string> required;
  std::map<std::string, std::vector<std::string>> any_of;
};

Requirements RequirementsOf(const pb::Descriptor* type) {
  Requirements out;
  const RecordTypeInfo* info = nullptr;
  for (const RecordTypeInfo& candidate : AllRecordTypes()) {
    if (candidate.descriptor == type) info = &candidate;
  }
  const validation::RecordRules* rules = info ? validation::FindRecordRules(info->type) : nullptr;
  if (rules == nullptr || !rules->written_on_devices) return out;
  const std::set<std::string>& filled = Device::FilledWhenEmpty(info->type);
  for (const validation::Rule& rule : rules->rules) {
    if (rule.when_field != nullptr) continue;
    using Kind = validation::Rule::Kind;
    const bool required = rule.kind == Kind::kRequired || (rule.kind == Kind::kLink && !rule.optional);
    if (required && filled.count(rule.field) == 0) out.required.insert(rule.field);
    if (rule.kind == Kind::kAnyOf) {
      for (const char* field : rule.any_of) {
        for (const char* other : rule.any_of) {
          if (other != field) out.any_of[field].push_back(other);
        }
      }
    }
  }
  return out;
}

// The placeholder after the option in --help: the value's form, and REQUIRED as CLI11
// marks its own required options.
std::string ValueForm(const pb::FieldDescriptor* field, bool required) {
  std::string form;
  if (field->cpp_type() == pb::FieldDescriptor::CPPTYPE_BOOL) {
    form = "[true|false]";
  } else if (validation::IsDateField(field->name())) {
    form = "YYYY-MM-DD";
  } else if (validation::IsInstantField(field->name())) {
    form = "YYYY-MM-DDTHH:MM";
  } else if (capi::IsIdField(field)) {
    form = "UUID";
  } else if (field->cpp_type() == pb::FieldDescriptor::CPPTYPE_ENUM) {
    form = "CHOICE";
  } else if (field->cpp_type() == pb::FieldDescriptor::CPPTYPE_STRING) {
    form = "TEXT";
  } else {
    form = "NUMBER";
  }
  return required ? form + " REQUIRED" : form;
}

std::string Describe(const pb::FieldDescriptor* field, const Requirements& requirements) {
  std::string text = field->name();
  if (auto others = requirements.any_of.find(field->name()); others != requirements.any_of.end()) {
    text += " (this";
    for (const std::string& other : others->second) text += " or " + other;
    text += ": one is REQUIRED)";
  }
  if (field->cpp_type() == pb::FieldDescriptor::CPPTYPE_ENUM) {
    text += ": one of ";
    const pb::EnumDescriptor* type = field->enum_type();
    for (int i = 0, shown = 0; i < type->value_count(); ++i) {
      if (type->value(i)->number() == 0) continue;
      text += (shown++ > 0 ? ", " : "") + EnumValueShortName(type->value(i));
    }
  } else if (capi::IsIdField(field)) {
    text += " (record id)";
  }
  if (field->is_repeated()) text += " (repeatable, or comma-separated)";
  return text;
}

}  // namespace

std::string OptionName(const pb::FieldDescriptor* field) {
  std::string name = field->name();
  for (std::string_view suffix : {"_ids", "_id"}) {
    if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      name.resize(name.size() - suffix.size());
      break;
    }
  }
  for (char& c : name) {
    if (c == '_') c = '-';
  }
  return "--" + name;
}

Status SetFieldFromText(pb::Message* message, const pb::FieldDescriptor* field, std::string_view text) {
  const pb::Reflection* r = message->GetReflection();
  const std::string& name = field->name();
  const bool rep = field->is_repeated();
  switch (field->cpp_type()) {
    case pb::FieldDescriptor::CPPTYPE_STRING: {
      std::string value(text);
      if (capi::IsIdField(field)) {
        auto id = Uuid::Parse(text);
        if (!id.ok()) return Status::InvalidArgument(name, "'" + value + "' is not a record id (a UUID)");
        value = id->raw();
      }
      rep ? r->AddString(message, field, value) : r->SetString(message, field, value);
      return Status::Ok();
    }
    case pb::FieldDescriptor::CPPTYPE_ENUM: {
      auto number = ParseEnumShortName(field->enum_type(), text, name);
      if (!number.ok()) return number.status();
      rep ? r->AddEnumValue(message, field, *number) : r->SetEnumValue(message, field, *number);
      return Status::Ok();
    }
    case pb::FieldDescriptor::CPPTYPE_BOOL: {
      auto value = ParseBool(text, name);
      if (!value.ok()) return value.status();
      rep ? r->AddBool(message, field, *value) : r->SetBool(message, field, *value);
      return Status::Ok();
    }
    case pb::FieldDescriptor::CPPTYPE_INT32: {
      auto value = ParseInteger<int32_t>(text, name);
      if (!value.ok()) return value.status();
      rep ? r->AddInt32(message, field, *value) : r->SetInt32(message, field, *value);
      return Status::Ok();
    }
    case pb::FieldDescriptor::CPPTYPE_INT64: {
      auto value = ParseInteger<int64_t>(text, name);
      if (!value.ok()) return value.status();
      rep ? r->AddInt64(message, field, *value) : r->SetInt64(message, field, *value);
      return Status::Ok();
    }
    case pb::FieldDescriptor::CPPTYPE_UINT32: {
      auto value = ParseInteger<uint32_t>(text, name);
      if (!value.ok()) return value.status();
      rep ? r->AddUInt32(message, field, *value) : r->SetUInt32(message, field, *value);
      return Status::Ok();
    }
    case pb::FieldDescriptor::CPPTYPE_UINT64: {
      auto value = ParseInteger<uint64_t>(text, name);
      if (!value.ok()) return value.status();
      rep ? r->AddUInt64(message, field, *value) : r->SetUInt64(message, field, *value);
      return Status::Ok();
    }
    case pb::FieldDescriptor::CPPTYPE_DOUBLE:
    case pb::FieldDescriptor::CPPTYPE_FLOAT: {
      std::string copy(text);
      char* end = nullptr;
      errno = 0;
      double value = std::strtod(copy.c_str(), &end);
      if (copy.empty() || end != copy.c_str() + copy.size() || errno != 0) {
        return Status::InvalidArgument(name, "'" + copy + "' is not a number");
      }
      if (field->cpp_type() == pb::FieldDescriptor::CPPTYPE_FLOAT) {
        rep ? r->AddFloat(message, field, static_cast<float>(value))
            : r->SetFloat(message, field, static_cast<float>(value));
      } else {
        rep ? r->AddDouble(message, field, value) : r->SetDouble(message, field, value);
      }
      return Status::Ok();
    }
    case pb::FieldDescriptor::CPPTYPE_MESSAGE: break;
  }
  return Status::InvalidArgument(name, "cannot be set from the command line");
}

FieldOptions::FieldOptions(CLI::App* app, const pb::Descriptor* type, const std::set<std::string>& skip) {
  const Requirements requirements = RequirementsOf(type);
  for (int i = 0; i < type->field_count(); ++i) {
    const pb::FieldDescriptor* field = type->field(i);
    if (field->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE || skip.count(field->name()) > 0) continue;
    const bool required = requirements.required.count(field->name()) > 0;
    CLI::Option* option = app->add_option(OptionName(field))
                              ->description(Describe(field, requirements))
                              ->type_name(ValueForm(field, required));
    if (field->cpp_type() == pb::FieldDescriptor::CPPTYPE_BOOL) {
      option->expected(0, 1);
    } else if (field->is_repeated()) {
      option->expected(1)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    }
    options_.emplace_back(field, option);
  }
}

Status FieldOptions::Apply(pb::Message* message) const {
  for (const auto& [field, option] : options_) {
    if (option->count() == 0) continue;
    message->GetReflection()->ClearField(message, field);
    std::vector<std::string> results = option->results();
    if (results.empty()) results.emplace_back();  // a bare boolean flag
    for (const std::string& text : results) {
      for (const std::string& value : SplitValues(field, text)) {
        OUTREACH_RETURN_IF_ERROR(SetFieldFromText(message, field, value));
      }
    }
  }
  return Status::Ok();
}

Status ApplyAssignments(const std::vector<std::string>& assignments, pb::Message* message) {
  std::set<const pb::FieldDescriptor*> cleared;
  for (const std::string& assignment : assignments) {
    size_t equals = assignment.find('=');
    if (equals == std::string::npos || equals == 0) {
      return Status::InvalidArgument("set", "'" + assignment + "' is not FIELD=VALUE");
    }
    const std::string key = assignment.substr(0, equals);
    const pb::FieldDescriptor* field = message->GetDescriptor()->FindFieldByName(key);
    if (field == nullptr) {
      return Status::InvalidArgument(key, "is not a field of " + message->GetDescriptor()->name());
    }
    if (cleared.insert(field).second) message->GetReflection()->ClearField(message, field);
    for (const std::string& value : SplitValues(field, assignment.substr(equals + 1))) {
      OUTREACH_RETURN_IF_ERROR(SetFieldFromText(message, field, value));
    }
  }
  return Status::Ok();
}

}  // namespace outreach::cli
