#include "server/store/store_copy.h"

#include <string>

namespace outreach::server {
namespace {

// Rows per read of the paged tables (log, ledger, audit).
constexpr uint32_t kPage = 1000;

// Copies everything `src` holds into the empty `dst`; counts into `report`.
Status CopyRows(StoreTxn& src, StoreTxn& dst, CopyReport* report) {
  auto existing = dst.ListHubs();
  if (!existing.ok()) return existing.status();
  if (!existing->empty()) {
    return Status::FailedPrecondition("the target store already holds hubs; copy only into a new, empty store", "to");
  }
  auto hubs = src.ListHubs();
  if (!hubs.ok()) return hubs.status();
  for (const HubRow& hub : *hubs) {
    OUTREACH_RETURN_IF_ERROR(dst.InsertHub(hub));
    ++report->hubs;
  }
  auto devices = src.ListDevices(Uuid());
  if (!devices.ok()) return devices.status();
  for (const DeviceRow& device : *devices) {
    OUTREACH_RETURN_IF_ERROR(dst.InsertDevice(device));
    ++report->devices;
  }
  auto codes = src.ListEnrolmentCodes();
  if (!codes.ok()) return codes.status();
  for (const EnrolmentCodeRow& code : *codes) {
    OUTREACH_RETURN_IF_ERROR(dst.InsertEnrolmentCode(code));
    ++report->enrolment_codes;
  }

  const google::protobuf::EnumDescriptor* types = v1::RecordType_descriptor();
  for (const HubRow& hub : *hubs) {
    for (int t = 0; t < types->value_count(); ++t) {
      const auto type = static_cast<v1::RecordType>(types->value(t)->number());
      if (type == v1::RECORD_TYPE_UNSPECIFIED) continue;
      auto records = src.ListRecordsByType(hub.hub_id, type);
      if (!records.ok()) return records.status();
      for (const StoredRecord& record : *records) {
        OUTREACH_RETURN_IF_ERROR(dst.PutRecord(record));
        ++report->records;
      }
    }
    // The log, re-appended in order: the numbers must come out the same.
    for (uint64_t after = 0;;) {
      auto page = src.ReadLog(hub.hub_id, after, kPage);
      if (!page.ok()) return page.status();
      for (v1::Change& change : *page) {
        const uint64_t expected = change.server_seq();
        auto seq = dst.AppendChange(hub.hub_id, std::move(change));
        if (!seq.ok()) return seq.status();
        if (*seq != expected) {
          return Status::DataLoss("hub " + hub.hub_id.ToString() + ": change " + std::to_string(expected) +
                                  " was numbered " + std::to_string(*seq) + " in the target");
        }
        after = expected;
        ++report->changes;
      }
      if (page->size() < kPage) break;
    }
    if (report->changes > 0 || hub.last_seq > 0) {
      auto copied = dst.GetHub(hub.hub_id);
      if (!copied.ok()) return copied.status();
      if (!copied->has_value() || (*copied)->last_seq != hub.last_seq) {
        return Status::DataLoss("hub " + hub.hub_id.ToString() + ": the log ends at " + std::to_string(hub.last_seq) +
                                " in the source but not in the target");
      }
    }
    for (uint64_t after = 0;;) {
      auto page = src.ReadAudit(hub.hub_id, after, kPage);
      if (!page.ok()) return page.status();
      for (const auto& [position, row] : *page) {
        OUTREACH_RETURN_IF_ERROR(dst.AppendAudit(row));
        after = position;
        ++report->audit_rows;
      }
      if (page->size() < kPage) break;
    }
  }

  for (const DeviceRow& device : *devices) {
    for (uint64_t after = 0;;) {
      auto page = src.ReadLedger(device.device_id, after, kPage);
      if (!page.ok()) return page.status();
      for (const auto& [device_seq, entry] : *page) {
        OUTREACH_RETURN_IF_ERROR(dst.PutLedger(device.device_id, device_seq, entry));
        after = device_seq;
        ++report->ledger_entries;
      }
      if (page->size() < kPage) break;
    }
  }
  return Status::Ok();
}

}  // namespace

Result<CopyReport> CopyStore(Store& from, Store& to) {
  CopyReport report;
  // Either store may run its body again (a PostgreSQL retry): each run starts counting afresh.
  Status st = from.Transact([&](StoreTxn& src) {
    return to.Transact([&](StoreTxn& dst) {
      report = CopyReport();
      return CopyRows(src, dst, &report);
    });
  });
  if (!st.ok()) return st;
  return report;
}

}  // namespace outreach::server
