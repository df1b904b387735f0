#include "common/field_value.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/text_format.h>
#include <google/protobuf/unknown_field_set.h>
#include <google/protobuf/wire_format_lite.h>

#include <map>
#include <memory>
#include <optional>

namespace outreach {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::internal::WireFormatLite;

namespace {

// The encoding of each field of a serialised message, by field number: the bytes of
// every occurrence of the field, in order (a repeated field's elements, a packed run).
// Generated code serialises known fields in field-number order and each field's
// occurrences together, so this is exactly what serialising a copy of the message with
// only that field set gives. nullopt if `wire` is not a well-formed message.
std::optional<std::map<uint32_t, std::string>> SplitByField(std::string_view wire) {
  std::map<uint32_t, std::string> fields;
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(wire.data()),
                                            static_cast<int>(wire.size()));
  while (true) {
    const int start = in.CurrentPosition();
    const uint32_t tag = in.ReadTag();
    if (tag == 0) {
      if (static_cast<size_t>(in.CurrentPosition()) != wire.size()) return std::nullopt;
      return fields;
    }
    if (!WireFormatLite::SkipField(&in, tag)) return std::nullopt;
    fields[WireFormatLite::GetTagFieldNumber(tag)].append(wire.substr(start, in.CurrentPosition() - start));
  }
}

std::map<uint32_t, std::string> FieldEncodings(const Message& body) {
  // A message we serialised ourselves always splits.
  return SplitByField(body.SerializeAsString()).value();
}

std::string EncodingOf(const std::map<uint32_t, std::string>& fields, const FieldDescriptor* field) {
  auto it = fields.find(static_cast<uint32_t>(field->number()));
  return it == fields.end() ? std::string() : it->second;
}

}  // namespace

std::string EncodeField(const Message& body, const FieldDescriptor* field) {
  return EncodingOf(FieldEncodings(body), field);
}

Status ApplyField(Message* body, uint32_t number, std::string_view value) {
  // Refuse a value that is not a message, or that sets any field but the one it claims.
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(value.data()),
                                            static_cast<int>(value.size()));
  for (uint32_t tag = in.ReadTag(); tag != 0; tag = in.ReadTag()) {
    if (static_cast<uint32_t>(WireFormatLite::GetTagFieldNumber(tag)) != number) {
      const FieldDescriptor* other = body->GetDescriptor()->FindFieldByNumber(WireFormatLite::GetTagFieldNumber(tag));
      return Status::DataLoss(
          "value for field " + std::to_string(number) + " also sets field " +
          (other != nullptr ? other->name() : std::to_string(WireFormatLite::GetTagFieldNumber(tag))));
    }
    if (!WireFormatLite::SkipField(&in, tag)) break;
  }
  const auto fail = [&] {
    return Status::DataLoss("value of field " + std::to_string(number) + " of " + body->GetDescriptor()->name() +
                            " does not decode");
  };
  if (static_cast<size_t>(in.CurrentPosition()) != value.size()) return fail();

  const auto* reflection = body->GetReflection();
  const FieldDescriptor* field = body->GetDescriptor()->FindFieldByNumber(static_cast<int>(number));
  if (field != nullptr) {
    reflection->ClearField(body, field);
  } else {
    reflection->MutableUnknownFields(body)->DeleteByNumber(static_cast<int>(number));
  }
  if (value.empty()) return Status::Ok();
  // Merging the bytes sets the cleared field (or appends the unknown one). It can still
  // fail on what the wire scan does not check (invalid UTF-8 in a string).
  if (!body->MergeFromString(std::string(value))) return fail();
  return Status::Ok();
}

std::vector<v1::FieldValue> DiffFields(const Message& before, const Message& after) {
  const std::map<uint32_t, std::string> was = FieldEncodings(before);
  std::map<uint32_t, std::string> now = FieldEncodings(after);
  std::vector<v1::FieldValue> out;
  const auto* d = after.GetDescriptor();
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    const uint32_t number = static_cast<uint32_t>(f->number());
    auto b = now.find(number);
    std::string value = b == now.end() ? std::string() : std::move(b->second);
    if (EncodingOf(was, f) == value) continue;
    v1::FieldValue fv;
    fv.set_field(number);
    fv.set_value(std::move(value));
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
  if (!f->is_repeated()) {
    printer.PrintFieldValueToString(*one, f, -1, &out);
  } else {  // an empty list (a value never set, say) has nothing to print
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
