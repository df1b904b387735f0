#include "common/field_value.h"

#include <google/protobuf/text_format.h>
#include <google/protobuf/unknown_field_set.h>

#include <memory>

namespace outreach {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

std::string EncodeField(const Message& body, const FieldDescriptor* field) {
  std::unique_ptr<Message> one(body.New());
  const auto* reflection = body.GetReflection();
  if (field->is_repeated() ? reflection->FieldSize(body, field) == 0 : !reflection->HasField(body, field)) {
    return std::string();
  }
  // Copy just this field: serialise the whole body is wasteful; copy by reflection.
  std::unique_ptr<Message> copy(body.New());
  copy->CopyFrom(body);
  std::vector<const FieldDescriptor*> fields{field};
  reflection->SwapFields(copy.get(), one.get(), fields);
  std::string out;
  one->SerializeToString(&out);
  return out;
}

Status ApplyField(Message* body, uint32_t number, std::string_view value) {
  const auto* reflection = body->GetReflection();
  const FieldDescriptor* field = body->GetDescriptor()->FindFieldByNumber(static_cast<int>(number));
  if (field != nullptr) {
    reflection->ClearField(body, field);
  } else {
    reflection->MutableUnknownFields(body)->DeleteByNumber(static_cast<int>(number));
  }
  if (value.empty()) return Status::Ok();
  std::unique_ptr<Message> one(body->New());
  if (!one->ParseFromArray(value.data(), static_cast<int>(value.size()))) {
    return Status::DataLoss("value of field " + std::to_string(number) + " of " + body->GetDescriptor()->name() +
                            " does not decode");
  }
  // Refuse a value that carries anything other than the one field it claims to set.
  std::vector<const FieldDescriptor*> set;
  reflection->ListFields(*one, &set);
  const auto& unknown = one->GetReflection()->GetUnknownFields(*one);
  for (const FieldDescriptor* f : set) {
    if (f->number() != static_cast<int>(number)) {
      return Status::DataLoss("value for field " + std::to_string(number) + " also sets field " + f->name());
    }
  }
  for (int i = 0; i < unknown.field_count(); ++i) {
    if (unknown.field(i).number() != static_cast<int>(number)) {
      return Status::DataLoss("value for field " + std::to_string(number) + " also sets field " +
                              std::to_string(unknown.field(i).number()));
    }
  }
  body->MergeFrom(*one);
  return Status::Ok();
}

std::vector<v1::FieldValue> DiffFields(const Message& before, const Message& after) {
  std::vector<v1::FieldValue> out;
  const auto* d = after.GetDescriptor();
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    std::string a = EncodeField(before, f);
    std::string b = EncodeField(after, f);
    if (a == b) continue;
    v1::FieldValue fv;
    fv.set_field(static_cast<uint32_t>(f->number()));
    fv.set_value(std::move(b));
    out.push_back(std::move(fv));
  }
  return out;
}

std::vector<v1::FieldValue> AllFields(const Message& body) {
  std::unique_ptr<Message> empty(body.New());
  return DiffFields(*empty, body);
}

std::string DescribeFieldValue(const google::protobuf::Descriptor* type, uint32_t number, std::string_view value) {
  const auto* prototype = google::protobuf::MessageFactory::generated_factory()->GetPrototype(type);
  std::unique_ptr<Message> one(prototype->New());
  if (!one->ParseFromArray(value.data(), static_cast<int>(value.size()))) return "<undecodable>";
  const FieldDescriptor* f = type->FindFieldByNumber(static_cast<int>(number));
  if (f == nullptr) return "<field " + std::to_string(number) + ">";
  std::string out;
  google::protobuf::TextFormat::Printer printer;
  printer.SetSingleLineMode(true);
  printer.PrintFieldValueToString(*one, f, f->is_repeated() ? 0 : -1, &out);
  if (f->is_repeated()) {
    out.clear();
    const auto* r = one->GetReflection();
    for (int i = 0; i < r->FieldSize(*one, f); ++i) {
      std::string item;
      printer.PrintFieldValueToString(*one, f, i, &item);
      if (!out.empty()) out += ", ";
      out += item;
    }
  }
  return out;
}

}  // namespace outreach
