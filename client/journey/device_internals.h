// Internal: the store behind an outreach::Device, for in-tree code that works below the
// journey API (client/sync, tests, benchmarks). Not part of the C++ API
// (outreach/device.h) and never installed.
#pragma once

#include "client/store/local_store.h"
#include "outreach/device.h"

namespace outreach {

struct DeviceInternals {
  static client::LocalStore& Store(Device& device) { return *device.store_; }
};

// The device's local store (outbox, change log, sync state, identity, pulled pages).
inline client::LocalStore& StoreOf(Device& device) {
  return DeviceInternals::Store(device);
}

}  // namespace outreach
