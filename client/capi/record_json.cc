#include "client/capi/record_json.h"

#include <google/protobuf/util/json_util.h>
#include <openssl/evp.h>

#include <string>

#include "common/record_registry.h"
#include "common/uuid.h"
#include "common/validation/formats.h"
#include "common/validation/record_rules.h"

namespace outreach::capi {
namespace {

namespace pb = google::protobuf;
using Json = nlohmann::ordered_json;

std::string Base64Encode(const std::string& raw) {
  std::string out(4 * ((raw.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(raw.data()), static_cast<int>(raw.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

// Standard padded base64 (what protobuf's JSON printer writes); false when malformed.
bool Base64Decode(const std::string& text, std::string* raw) {
  if (text.size() % 4 != 0) return false;
  raw->assign(3 * text.size() / 4, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(raw->data()),
                          reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) return false;
  size_t padding = 0;
  for (size_t i = text.size(); i > 0 && text[i - 1] == '='; --i) ++padding;
  raw->resize(static_cast<size_t>(n) - padding);
  return true;
}

// The members RecordToJson adds around a body's fields.
bool IsRecordMetadata(const std::string& key) {
  return key == "id" || key == "type" || key == "hub_id" || key == "deleted" || key == "erased";
}

bool Is64BitInteger(const pb::FieldDescriptor* field) {
  switch (field->cpp_type()) {
    case pb::FieldDescriptor::CPPTYPE_INT64:
    case pb::FieldDescriptor::CPPTYPE_UINT64: return true;
    default: return false;
  }
}

void ToReadableMessage(Json* object, const pb::Descriptor* type);

// Rewrites one value printed by protobuf (ids base64, enums as numbers, 64-bit integers as
// strings) into the readable form.
void ToReadableValue(Json* value, const pb::FieldDescriptor* field) {
  if (field->type() == pb::FieldDescriptor::TYPE_MESSAGE) {
    ToReadableMessage(value, field->message_type());
  } else if (IsIdField(field) && value->is_string()) {
    std::string raw;
    if (Base64Decode(value->get<std::string>(), &raw)) {
      auto id = Uuid::FromBytes(raw);
      if (id.ok()) *value = id->ToString();
    }
  } else if (field->type() == pb::FieldDescriptor::TYPE_ENUM && value->is_number_integer()) {
    const pb::EnumValueDescriptor* v = field->enum_type()->FindValueByNumber(value->get<int>());
    if (v != nullptr) *value = EnumValueShortName(v);
  } else if (field->type() == pb::FieldDescriptor::TYPE_STRING && value->is_string() &&
             validation::IsPhoneField(*field)) {
    *value = validation::PhoneForDisplay(value->get<std::string>());  // stored E.164, shown nationally
  } else if (Is64BitInteger(field) && value->is_string()) {
    const std::string text = value->get<std::string>();
    if (field->cpp_type() == pb::FieldDescriptor::CPPTYPE_INT64) {
      *value = std::stoll(text);
    } else {
      *value = std::stoull(text);
    }
  }
}

// protobuf's JSON of a v1::Record ({"id", "type", ..., "participant": {...}}) into the
// flat form: metadata first, then the body's fields.
void FlattenRecord(Json* object) {
  const pb::Descriptor* record = v1::Record::descriptor();
  Json flat = Json::object();
  for (const char* key : {"id", "type", "hub_id", "deleted", "erased"}) {
    auto it = object->find(key);
    if (it == object->end()) continue;
    Json value = *it;
    if (std::string_view(key) == "type") {
      const RecordTypeInfo* info =
          value.is_number_integer() ? FindRecordType(static_cast<v1::RecordType>(value.get<int>())) : nullptr;
      if (info != nullptr) value = std::string(info->name);
    } else {
      ToReadableValue(&value, record->FindFieldByName(key));
    }
    flat[key] = std::move(value);
  }
  for (auto& [key, value] : object->items()) {
    const pb::FieldDescriptor* field = record->FindFieldByName(key);
    if (field == nullptr || field->containing_oneof() == nullptr) continue;
    ToReadableMessage(&value, field->message_type());
    if (value.is_object()) {
      for (auto& [body_key, body_value] : value.items()) flat[body_key] = std::move(body_value);
    }
  }
  *object = std::move(flat);
}

// Result messages (capi.proto) keep a fixed shape: absent scalars and lists are written
// with their defaults ("days": 0, "records": []). Records stay sparse, and so does a field
// whose absence says something (a message, a proto3 `optional` scalar).
void AddDefaults(Json* object, const pb::Descriptor* type) {
  for (int i = 0; i < type->field_count(); ++i) {
    const pb::FieldDescriptor* field = type->field(i);
    if (object->contains(field->name())) continue;
    Json value;
    if (field->is_repeated()) {
      value = Json::array();
    } else if (field->has_presence()) {
      continue;  // absent stays absent
    } else {
      switch (field->cpp_type()) {
        case pb::FieldDescriptor::CPPTYPE_STRING: value = ""; break;
        case pb::FieldDescriptor::CPPTYPE_BOOL: value = false; break;
        case pb::FieldDescriptor::CPPTYPE_ENUM: value = EnumValueShortName(field->default_value_enum()); break;
        default: value = 0; break;
      }
    }
    (*object)[field->name()] = std::move(value);
  }
}

void ToReadableMessage(Json* object, const pb::Descriptor* type) {
  if (!object->is_object()) return;
  if (type == v1::Record::descriptor()) {
    FlattenRecord(object);
    return;
  }
  if (type->file()->package() == "outreach.v1.capi") AddDefaults(object, type);
  for (auto& [key, value] : object->items()) {
    const pb::FieldDescriptor* field = type->FindFieldByName(key);
    if (field == nullptr) continue;
    if (field->is_repeated() && value.is_array()) {
      for (Json& element : value) ToReadableValue(&element, field);
    } else {
      ToReadableValue(&value, field);
    }
  }
}

Status ToProtobufMessage(Json* object, const pb::Descriptor* type, const std::string& path);

// Checks one readable value against its field and rewrites it into what protobuf's JSON
// parser takes. `name` is the field's path for error messages.
Status ToProtobufValue(Json* value, const pb::FieldDescriptor* field, const std::string& name) {
  switch (field->cpp_type()) {
    case pb::FieldDescriptor::CPPTYPE_MESSAGE: return ToProtobufMessage(value, field->message_type(), name);
    case pb::FieldDescriptor::CPPTYPE_STRING:
      if (!value->is_string()) return Status::InvalidArgument(name, "must be a string");
      if (IsIdField(field) && !value->get<std::string>().empty()) {
        auto id = Uuid::Parse(value->get<std::string>());
        if (!id.ok()) {
          return Status::InvalidArgument(name, "'" + value->get<std::string>() + "' is not a record id (a UUID)");
        }
        *value = Base64Encode(id->raw());
      }
      return Status::Ok();
    case pb::FieldDescriptor::CPPTYPE_ENUM: {
      if (value->is_number_integer()) return Status::Ok();
      if (!value->is_string()) return Status::InvalidArgument(name, "must be a name or a number");
      const std::string text = value->get<std::string>();
      if (const pb::EnumValueDescriptor* v = field->enum_type()->FindValueByName(text)) {
        *value = v->number();
        return Status::Ok();
      }
      auto number = ParseEnumShortName(field->enum_type(), text, name);
      if (!number.ok()) return number.status();
      *value = *number;
      return Status::Ok();
    }
    case pb::FieldDescriptor::CPPTYPE_BOOL:
      if (!value->is_boolean()) return Status::InvalidArgument(name, "must be true or false");
      return Status::Ok();
    case pb::FieldDescriptor::CPPTYPE_FLOAT:
    case pb::FieldDescriptor::CPPTYPE_DOUBLE:
      if (!value->is_number()) return Status::InvalidArgument(name, "must be a number");
      return Status::Ok();
    default:  // integers
      if (!value->is_number_integer() && !(Is64BitInteger(field) && value->is_string())) {
        return Status::InvalidArgument(name, "must be a whole number");
      }
      return Status::Ok();
  }
}

Status ToProtobufMessage(Json* object, const pb::Descriptor* type, const std::string& path) {
  if (!object->is_object()) {
    return Status::InvalidArgument(path.empty() ? "json" : path, "must be a JSON object");
  }
  Json fields = Json::object();
  for (auto& [key, value] : object->items()) {
    const std::string name = path.empty() ? key : path + "." + key;
    const pb::FieldDescriptor* field = type->FindFieldByName(key);
    // A record's JSON may come back as a body: its metadata is not part of the body.
    if (field == nullptr && path.empty() && IsRecordMetadata(key)) continue;
    if (field == nullptr) return Status::InvalidArgument(name, "is not a field of " + type->name());
    if (value.is_null()) continue;  // protobuf reads null as "unset"
    if (field->is_repeated()) {
      if (!value.is_array()) return Status::InvalidArgument(name, "must be an array");
      for (Json& element : value) OUTREACH_RETURN_IF_ERROR(ToProtobufValue(&element, field, name));
    } else {
      OUTREACH_RETURN_IF_ERROR(ToProtobufValue(&value, field, name));
    }
    fields[key] = std::move(value);
  }
  *object = std::move(fields);
  return Status::Ok();
}

}  // namespace

bool IsIdField(const pb::FieldDescriptor* field) {
  if (field->type() != pb::FieldDescriptor::TYPE_BYTES) return false;
  const std::string& name = field->name();
  static constexpr std::string_view kNotId = "_value";
  return !(name.size() >= kNotId.size() && name.compare(name.size() - kNotId.size(), kNotId.size(), kNotId) == 0);
}

Result<Json> MessageToJson(const pb::Message& message) {
  pb::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_enums_as_ints = true;
  std::string text;
  auto status = pb::util::MessageToJsonString(message, &text, options);
  if (!status.ok()) {
    return Status(ErrorCode::kDataLoss, "cannot print " + message.GetTypeName() + " as JSON: " + status.ToString());
  }
  Json json = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return Status(ErrorCode::kDataLoss, "cannot print " + message.GetTypeName() + " as JSON");
  ToReadableMessage(&json, message.GetDescriptor());
  return json;
}

Result<Json> RecordToJson(const v1::Record& record) {
  return MessageToJson(record);
}

Status MessageFromJson(const Json& json, pb::Message* message) {
  Json converted = json;
  OUTREACH_RETURN_IF_ERROR(ToProtobufMessage(&converted, message->GetDescriptor(), ""));
  message->Clear();
  pb::util::JsonParseOptions options;
  auto status = pb::util::JsonStringToMessage(converted.dump(), message, options);
  if (!status.ok()) return Status::InvalidArgument("json", std::string(status.message()));
  return Status::Ok();
}

Status MessageFromJson(std::string_view json_text, pb::Message* message) {
  Json json = Json::parse(json_text.begin(), json_text.end(), nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return Status::InvalidArgument("json", "is not valid JSON");
  return MessageFromJson(json, message);
}

}  // namespace outreach::capi
