#include "common/validation/forms.h"

#include <cctype>
#include <memory>

#include "common/dates.h"
#include "common/record_registry.h"
#include "common/uuid.h"

namespace outreach::validation {

using google::protobuf::FieldDescriptor;

namespace {

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool IsIdField(const std::string& name) {
  return EndsWith(name, "_id") || EndsWith(name, "_ids") || name == "supersedes" || name == "merged_into";
}

Status TooLarge(const std::string& name, size_t size, size_t limit, const char* what) {
  return Status::InvalidArgument(
      name, "is " + std::to_string(size) + " bytes; " + what + " holds at most " + std::to_string(limit));
}

Status CheckOne(const google::protobuf::Message& body, const FieldDescriptor* f, int index) {
  const auto* r = body.GetReflection();
  const std::string& name = f->name();
  switch (f->type()) {
    case FieldDescriptor::TYPE_STRING: {
      std::string scratch;
      const std::string& v = index < 0 ? r->GetStringReference(body, f, &scratch)
                                       : r->GetRepeatedStringReference(body, f, index, &scratch);
      if (v.empty()) return Status::Ok();
      if (v.size() > kMaxFieldBytes) return TooLarge(name, v.size(), kMaxFieldBytes, "a field");
      if (IsDateField(name) && !ParseDate(v)) {
        return Status::InvalidArgument(name, "'" + v + "' is not a real date in the form YYYY-MM-DD");
      }
      if (IsInstantField(name) && !ParseInstant(v)) {
        return Status::InvalidArgument(name, "'" + v + "' is not a date and time in the form YYYY-MM-DDTHH:MM");
      }
      return Status::Ok();
    }
    case FieldDescriptor::TYPE_BYTES: {
      std::string scratch;
      const std::string& v = index < 0 ? r->GetStringReference(body, f, &scratch)
                                       : r->GetRepeatedStringReference(body, f, index, &scratch);
      if (v.size() > kMaxFieldBytes) return TooLarge(name, v.size(), kMaxFieldBytes, "a field");
      if (!v.empty() && IsIdField(name) && v.size() != Uuid::kSize) {
        return Status::InvalidArgument(name, "is not a record id (16 bytes)");
      }
      return Status::Ok();
    }
    case FieldDescriptor::TYPE_ENUM: {
      int v = index < 0 ? r->GetEnumValue(body, f) : r->GetRepeatedEnumValue(body, f, index);
      if (f->enum_type()->FindValueByNumber(v) == nullptr || (index >= 0 && v == 0)) {
        return Status::InvalidArgument(name, std::to_string(v) + " is not a known " + f->enum_type()->name());
      }
      return Status::Ok();
    }
    default: return Status::Ok();
  }
}

}  // namespace

bool IsDateField(std::string_view name) {
  return EndsWith(name, "_on") || EndsWith(name, "_date") || name == "date_of_birth";
}

bool IsInstantField(std::string_view name) {
  return EndsWith(name, "_at");
}

namespace {

Status CheckField(const google::protobuf::Message& body, const FieldDescriptor* f) {
  if (!f->is_repeated()) return CheckOne(body, f, -1);
  const int size = body.GetReflection()->FieldSize(body, f);
  for (int j = 0; j < size; ++j) OUTREACH_RETURN_IF_ERROR(CheckOne(body, f, j));
  return Status::Ok();
}

Status CheckSize(const google::protobuf::Message& body) {
  const size_t size = body.ByteSizeLong();
  if (size <= kMaxRecordBodyBytes) return Status::Ok();
  // Every field is within its own bound, so many values add up: name the field that
  // adds the most (a repeated field counts all its values). Only on refusal.
  const auto* d = body.GetDescriptor();
  const FieldDescriptor* largest = nullptr;
  size_t largest_size = 0;
  std::unique_ptr<google::protobuf::Message> without(body.New());
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    without->CopyFrom(body);
    without->GetReflection()->ClearField(without.get(), f);
    const size_t field_size = size - without->ByteSizeLong();
    if (field_size > largest_size) largest = f, largest_size = field_size;
  }
  return Status::InvalidArgument(largest != nullptr ? largest->name() : "body",
                                 "makes the record " + std::to_string(size) + " bytes; a record holds at most " +
                                     std::to_string(kMaxRecordBodyBytes));
}

}  // namespace

Status CheckForms(const google::protobuf::Message& body) {
  const auto* d = body.GetDescriptor();
  for (int i = 0; i < d->field_count(); ++i) OUTREACH_RETURN_IF_ERROR(CheckField(body, d->field(i)));
  return CheckSize(body);
}

Status CheckFormsOf(const google::protobuf::Message& body, std::span<const uint32_t> fields) {
  const auto* d = body.GetDescriptor();
  for (uint32_t number : fields) {
    const FieldDescriptor* f = d->FindFieldByNumber(static_cast<int>(number));
    if (f != nullptr) OUTREACH_RETURN_IF_ERROR(CheckField(body, f));
  }
  return CheckSize(body);
}

Status Required(const std::string& value, std::string_view field) {
  for (char c : value) {
    if (!std::isspace(static_cast<unsigned char>(c))) return Status::Ok();
  }
  return Status::InvalidArgument(std::string(field), "is required");
}

Status RequiredEnum(int value, std::string_view field) {
  return value == 0 ? Status::InvalidArgument(std::string(field), "is required") : Status::Ok();
}

}  // namespace outreach::validation
