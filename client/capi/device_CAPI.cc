// outreach.h: basics, the device handle, and any record by id.
#include <cstdlib>

#include "client/capi/capi_support.h"

using outreach::Device;
using outreach::Status;
using outreach::capi::EmitRecord;
using outreach::capi::EmitText;
using outreach::capi::Guard;
using outreach::capi::ParseBody;
using outreach::capi::ParseId;
using outreach::capi::Run;

extern "C" {

const char* outreach_version(void) {
  return OUTREACH_VERSION_STRING;
}

const char* outreach_status_name(outreach_status status) {
  return outreach::ErrorCodeName(static_cast<outreach::ErrorCode>(status));
}

void outreach_error_free(outreach_error* error) {
  if (error == nullptr) return;
  std::free(error->field);
  std::free(error->message);
  std::free(error);
}

void outreach_free(void* buffer) {
  std::free(buffer);
}

outreach_status outreach_device_open(const char* path, const char* user_name, outreach_device** device,
                                     outreach_error** error) {
  if (device != nullptr) *device = nullptr;
  return Guard(error, [&]() -> Status {
    if (device == nullptr) return Status::InvalidArgument("device", "is NULL");
    if (path == nullptr || *path == '\0') return Status::InvalidArgument("path", "is required");
    outreach::DeviceOptions options;
    options.path = path;
    options.user_name = outreach::capi::OptionalText(user_name);
    auto opened = Device::Open(options);
    if (!opened.ok()) return opened.status();
    *device = new outreach_device{std::move(opened).value()};
    return Status::Ok();
  });
}

void outreach_device_close(outreach_device* device) {
  delete device;
}  // ~Device is noexcept

outreach_status outreach_device_id(outreach_device* device, char** id, outreach_error** error) {
  return Run(device, OUTREACH_FORMAT_JSON, id, nullptr, error,
             [&](Device& d) { return EmitText(d.device_id().ToString(), id, nullptr); });
}

outreach_status outreach_device_today(outreach_device* device, char** today, outreach_error** error) {
  return Run(device, OUTREACH_FORMAT_JSON, today, nullptr, error,
             [&](Device& d) { return EmitText(d.Today(), today, nullptr); });
}

outreach_status outreach_record_get(outreach_device* device, outreach_format format, const char* id, char** out,
                                    size_t* out_size, outreach_error** error) {
  return Run(device, format, out, out_size, error, [&](Device& d) -> Status {
    auto record_id = ParseId(id, "id");
    if (!record_id.ok()) return record_id.status();
    return EmitRecord(format, d.Get(*record_id), out, out_size);
  });
}

outreach_status outreach_record_update(outreach_device* device, outreach_format format, const char* id,
                                       const char* body, size_t body_size, char** out, size_t* out_size,
                                       outreach_error** error) {
  return Run(device, format, out, out_size, error, [&](Device& d) -> Status {
    auto record_id = ParseId(id, "id");
    if (!record_id.ok()) return record_id.status();
    auto current = d.Get(*record_id);
    if (!current.ok()) return current.status();
    auto new_body = outreach::NewRecordBody(current->type());
    if (new_body == nullptr) return Status::InvalidArgument("id", "names a record of a type this library cannot edit");
    OUTREACH_RETURN_IF_ERROR(ParseBody(format, body, body_size, new_body.get()));
    return EmitRecord(format, d.Update(*record_id, *new_body), out, out_size);
  });
}

outreach_status outreach_record_delete(outreach_device* device, outreach_format format, const char* id, char** out,
                                       size_t* out_size, outreach_error** error) {
  return Run(device, format, out, out_size, error, [&](Device& d) -> Status {
    auto record_id = ParseId(id, "id");
    if (!record_id.ok()) return record_id.status();
    return EmitRecord(format, d.Delete(*record_id), out, out_size);
  });
}

}  // extern "C"
