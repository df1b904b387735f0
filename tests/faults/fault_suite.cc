#include "tests/faults/fault_suite.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <tuple>

#include <sqlite3.h>

#include "client/journey/device_internals.h"
#include "common/field_value.h"
#include "common/hlc.h"
#include "common/record_registry.h"
#include "server/store/sqlite_store.h"
#include "tests/support/drama_numbers.h"

namespace outreach::testing {
namespace {

// Prints the tally once the whole binary has run.
class TallyPrinter : public ::testing::Environment {
 public:
  void TearDown() override {
    Tally& t = Tally::Get();
    std::printf(
        "[faults summary] operations checked: %llu, local refusals: %llu, syncs: %llu (failed by faults: %llu), "
        "faults injected: %llu, records lost: %llu, records duplicated: %llu\n",
        static_cast<unsigned long long>(t.operations_checked.load()),
        static_cast<unsigned long long>(t.local_refusals.load()), static_cast<unsigned long long>(t.syncs.load()),
        static_cast<unsigned long long>(t.failed_syncs.load()),
        static_cast<unsigned long long>(t.faults_injected.load()),
        static_cast<unsigned long long>(t.records_lost.load()),
        static_cast<unsigned long long>(t.records_duplicated.load()));
  }
};
[[maybe_unused]] const auto* const kTallyPrinter = ::testing::AddGlobalTestEnvironment(new TallyPrinter);

uint64_t EnvNumber(const char* name, uint64_t fallback) {
  const char* text = std::getenv(name);
  return text != nullptr && *text != '\0' ? std::strtoull(text, nullptr, 10) : fallback;
}

}  // namespace

Tally& Tally::Get() {
  static Tally tally;
  return tally;
}

std::vector<uint64_t> Seeds(std::vector<uint64_t> fixed) {
  if (std::getenv("OUTREACH_FAULTS_SEED") != nullptr) return {EnvNumber("OUTREACH_FAULTS_SEED", 0)};
  const uint64_t soak = EnvNumber("OUTREACH_FAULTS_SOAK", 0);
  std::random_device entropy;
  for (uint64_t i = 0; i < soak; ++i) fixed.push_back((uint64_t{entropy()} << 32) | entropy());
  return fixed;
}

// ------------------------------------------------------------------ server

void FaultSuiteTest::StartServer() {
  ++server_generation_;
  server_ = std::make_unique<ServerProcess>(
      deployment_.data, server_args_, deployment_.dir / ("server-" + std::to_string(server_generation_) + ".log"));
  ASSERT_NE(server_->port(), 0);
}

void FaultSuiteTest::KillServer() {
  server_.reset();  // ServerProcess's destructor sends SIGKILL and reaps
  ++Tally::Get().faults_injected;
}

void FaultSuiteTest::RestartServer() {
  server_.reset();
  StartServer();
}

void FaultSuiteTest::TearDown() {
  if (!server_) return;
  EXPECT_TRUE(server_->running()) << "outreach-server exited with status " << server_->exit_status() << "; log:\n"
                                  << server_->log();
  EXPECT_EQ(server_->Stop(), 0) << "outreach-server did not shut down cleanly; log:\n" << server_->log();
}

std::string FaultSuiteTest::AddVenue(const std::string& name) {
  CliResult r = RunCli({"venue", "add", "--data", deployment_.data, "--hub", deployment_.hub_id, "--name", name,
                        "--kind", "community_centre", "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.json().value("venue_id", "");
}

// ------------------------------------------------------------------ devices

FieldDevice FaultSuiteTest::NewDevice(const std::string& name, const std::string& role, std::string server,
                                      HybridClock::PhysicalClock clock, const std::string& venue) {
  FieldDevice d;
  d.name = name;
  d.path = deployment_.dir / (name + ".db");
  d.clock = std::move(clock);
  Reopen(d);
  EnrolOptions enrol;
  enrol.server = server.empty() ? ServerAddress() : server;
  enrol.ca_pem = deployment_.ca_pem;
  enrol.code = deployment_.IssueCode(role, name, venue);
  enrol.device_name = name + "'s tablet";
  Result<EnrolReport> report = Enrol(*d.device, enrol);
  EXPECT_TRUE(report.ok()) << name << ": " << report.status().ToString();
  return d;
}

void FaultSuiteTest::Reopen(FieldDevice& d) {
  d.device.reset();
  DeviceOptions options;
  options.path = d.path;
  options.user_name = d.name;
  options.clock = d.clock;
  auto opened = Device::Open(options);
  ASSERT_TRUE(opened.ok()) << d.path << ": " << opened.status().ToString();
  d.device = std::move(opened).value();
}

Result<SyncReport> FaultSuiteTest::TrySync(FieldDevice& d, const SyncOptions& options, Moved* moved) {
  SyncProgress last;
  Result<SyncReport> r = Sync(*d.device, options, [&last](const SyncProgress& p) { last = p; });
  if (moved != nullptr) {
    moved->pushed += last.pushed;
    moved->pulled += last.pulled;
  }
  if (r.ok()) {
    ++Tally::Get().syncs;
  } else {
    ++Tally::Get().failed_syncs;
    // A failed sync must say why, as a network or protocol problem, never as success.
    EXPECT_FALSE(r.status().message().empty());
    EXPECT_NE(r.status().code(), ErrorCode::kInternal) << r.status().ToString();
    EXPECT_NE(r.status().code(), ErrorCode::kDataLoss) << r.status().ToString();
  }
  return r;
}

SyncReport FaultSuiteTest::SyncUntilDone(FieldDevice& d, const SyncOptions& options, int attempts, Moved* moved) {
  Status last;
  for (int i = 0; i < attempts; ++i) {
    Result<SyncReport> r = TrySync(d, options, moved);
    if (r.ok()) return *r;
    last = r.status();
  }
  ADD_FAILURE() << d.name << " never completed a sync in " << attempts << " attempts: " << last.ToString();
  return {};
}

std::string FaultSuiteTest::State(FieldDevice& d) {
  Result<std::vector<v1::Record>> all = d->Export();
  EXPECT_TRUE(all.ok()) << all.status().ToString();
  if (!all.ok()) return {};
  std::string out;
  for (const v1::Record& r : *all) {
    if (r.type() == v1::RECORD_TYPE_INSTRUMENT) continue;
    if (r.type() == v1::RECORD_TYPE_CASE_NOTE && r.case_note().sensitivity() == v1::NOTE_SENSITIVITY_RESTRICTED) {
      continue;
    }
    out += r.ShortDebugString() + "\n";
  }
  return out;
}

// ------------------------------------------------------------------ checks

void ExpectSameState(FieldDevice& a, FieldDevice& b) {
  auto lines = [](const std::string& text) {
    std::set<std::string> out;
    size_t start = 0;
    for (size_t end; (end = text.find('\n', start)) != std::string::npos; start = end + 1) {
      out.insert(text.substr(start, end - start));
    }
    return out;
  };
  const std::set<std::string> in_a = lines(FaultSuiteTest::State(a));
  const std::set<std::string> in_b = lines(FaultSuiteTest::State(b));
  if (in_a == in_b) return;
  std::string diff;
  int shown = 0;
  for (const auto& [mine, theirs, who] : {std::tuple{&in_a, &in_b, &a}, std::tuple{&in_b, &in_a, &b}}) {
    for (const std::string& line : *mine) {
      if (theirs->count(line) != 0 || ++shown > 8) continue;
      diff += "\n  only on " + who->name + ": " + line;
    }
  }
  ADD_FAILURE() << a.name << " and " << b.name << " hold different states:" << diff;
}

uint64_t FaultSuiteTest::LedgerCount(const Uuid& device) {
  sqlite3* db = nullptr;
  const std::string path = deployment_.data + "/store.db";
  uint64_t count = 0;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_busy_timeout(db, 10000);
    sqlite3_stmt* stmt = nullptr;
    sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM ledger WHERE device_id = ?", -1, &stmt, nullptr);
    sqlite3_bind_blob(stmt, 1, device.bytes().data(), Uuid::kSize, SQLITE_TRANSIENT);
    if (sqlite3_step(stmt) == SQLITE_ROW) count = static_cast<uint64_t>(sqlite3_column_int64(stmt, 0));
    sqlite3_finalize(stmt);
  } else {
    ADD_FAILURE() << "cannot open " << path;
  }
  sqlite3_close(db);
  return count;
}

void FaultSuiteTest::CheckNoRecordTwice(FieldDevice& d) {
  Result<std::vector<v1::Record>> all = d->Export();
  ASSERT_TRUE(all.ok());
  std::set<std::string> ids;
  std::set<std::pair<std::string, std::string>> marks;
  for (const v1::Record& r : *all) {
    if (!ids.insert(r.id()).second) {
      ++Tally::Get().records_duplicated;
      ADD_FAILURE() << d.name << " holds record " << Uuid::FromBytes(r.id())->ToString() << " twice";
    }
    if (r.type() == v1::RECORD_TYPE_ATTENDANCE &&
        !marks.insert({r.attendance().session_id(), r.attendance().participant_id()}).second) {
      ++Tally::Get().records_duplicated;
      ADD_FAILURE() << d.name << " holds two attendance rows for one (session, participant)";
    }
  }
}

void FaultSuiteTest::CheckNothingLostOrDuplicated(const std::vector<FieldDevice*>& devices, FieldDevice& reference) {
  Result<std::unique_ptr<server::SqliteStore>> store = server::SqliteStore::Open(deployment_.data + "/store.db");
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  const Uuid hub = *Uuid::Parse(deployment_.hub_id);
  Tally& tally = Tally::Get();

  // The whole hub log.
  std::vector<v1::Change> log;
  Status read = (*store)->Transact([&](server::StoreTxn& txn) {
    log.clear();
    uint64_t after = 0;
    while (true) {
      Result<std::vector<v1::Change>> page = txn.ReadLog(hub, after, 1000);
      if (!page.ok()) return page.status();
      if (page->empty()) return Status::Ok();
      after = page->back().server_seq();
      for (auto& c : *page) log.push_back(std::move(c));
    }
  });
  ASSERT_TRUE(read.ok()) << read.ToString();
  std::map<std::pair<std::string, uint64_t>, int> logged;  // (origin device, device_seq) -> entries
  std::map<uint64_t, const v1::Change*> by_seq;
  for (const v1::Change& c : log) {
    by_seq[c.server_seq()] = &c;
    if (c.device_seq() == 0 || c.origin_device() == std::string(Uuid::kSize, '\0')) continue;
    if (++logged[{c.origin_device(), c.device_seq()}] == 2) {
      ++tally.records_duplicated;
      ADD_FAILURE() << "the hub log holds device " << Uuid::FromBytes(c.origin_device())->ToString() << " seq "
                    << c.device_seq() << " twice";
    }
  }

  // The reference state and its conflicts.
  Result<std::vector<v1::Record>> final_state = reference->Export();
  ASSERT_TRUE(final_state.ok());
  std::map<std::string, v1::Record> state;
  std::multimap<std::pair<std::string, uint32_t>, const v1::Conflict*> conflicts;
  for (const v1::Record& r : *final_state) state[r.id()] = r;
  for (const auto& [id, r] : state) {
    if (r.type() == v1::RECORD_TYPE_CONFLICT)
      conflicts.insert({{r.conflict().record_id(), r.conflict().field()}, &r.conflict()});
  }

  for (FieldDevice* d : devices) {
    const Uuid device_id = d->id();
    Result<std::vector<v1::Change>> changes = StoreOf(**d).ChangeLog();
    ASSERT_TRUE(changes.ok());
    Result<std::vector<RejectedChange>> rejected_list = (*d)->RejectedChanges();
    ASSERT_TRUE(rejected_list.ok());
    std::map<uint64_t, RejectedChange> rejected;
    for (const RejectedChange& r : *rejected_list) rejected[r.device_seq] = r;

    for (const v1::Change& c : *changes) {
      if (c.device_seq() == 0) continue;  // restricted: never leaves the device
      ++tally.operations_checked;
      std::optional<server::LedgerEntry> entry;
      Status looked = (*store)->Transact([&](server::StoreTxn& txn) {
        Result<std::optional<server::LedgerEntry>> got = txn.GetLedger(device_id, c.device_seq());
        if (!got.ok()) return got.status();
        entry = *got;
        return Status::Ok();
      });
      ASSERT_TRUE(looked.ok()) << looked.ToString();
      const std::string what = d->name + " seq " + std::to_string(c.device_seq()) + " (" +
                               std::string(FindRecordType(c.type())->name) + " " +
                               Uuid::FromBytes(c.record_id())->ToString() + ")";
      if (!entry) {
        ++tally.records_lost;
        ADD_FAILURE() << what << " never reached the server's ledger";
        continue;
      }
      if (entry->outcome == v1::CHANGE_OUTCOME_REJECTED) {
        auto it = rejected.find(c.device_seq());
        EXPECT_TRUE(it != rejected.end() && !it->second.reason.empty())
            << what << " was rejected by the server but the device does not show why";
        continue;
      }
      EXPECT_TRUE(entry->outcome == v1::CHANGE_OUTCOME_APPLIED || entry->outcome == v1::CHANGE_OUTCOME_CONFLICT)
          << what << " has ledger outcome " << entry->outcome;
      auto found = state.find(c.record_id());
      if (found == state.end()) {
        ++tally.records_lost;
        ADD_FAILURE() << what << " was accepted but its record is not in " << reference.name << "'s state";
        continue;
      }
      const v1::Record& now = found->second;
      if (c.op() == v1::CHANGE_OP_DELETE) {
        EXPECT_TRUE(now.deleted()) << what << " deleted the record but it is live";
        continue;
      }
      // The change as the server logged it (its stamp may have been replaced by the server's).
      const v1::Change* as_logged =
          entry->server_seq != 0 && by_seq.count(entry->server_seq) != 0 ? by_seq[entry->server_seq] : nullptr;
      const google::protobuf::Message* body = RecordBody(now);
      ASSERT_NE(body, nullptr) << what;
      for (const v1::FieldValue& fv : c.fields()) {
        ++tally.operations_checked;
        const auto* field = body->GetDescriptor()->FindFieldByNumber(static_cast<int>(fv.field()));
        if (field == nullptr) continue;
        if (EncodeField(*body, field) == fv.value()) continue;  // in the state
        bool kept = false;
        auto range = conflicts.equal_range({c.record_id(), fv.field()});
        for (auto it = range.first; it != range.second && !kept; ++it) {
          kept = it->second->losing_value() == fv.value() || it->second->winning_value() == fv.value();
        }
        if (kept) continue;  // in a conflict record
        // Superseded: a later stamp on the same field (from anyone, the server included).
        // A state machine's state moves in arrival order (only legal transitions apply),
        // so there any later legal move supersedes it.
        const Hlc mine(as_logged != nullptr ? as_logged->hlc() : c.hlc());
        const RecordTypeInfo* info = FindRecordType(c.type());
        const bool state_field = info != nullptr && info->state_field != nullptr &&
                                 info->state_field->number() == static_cast<int>(fv.field());
        const uint64_t my_seq = as_logged != nullptr ? as_logged->server_seq() : 0;
        for (const v1::Change& other : log) {
          if (kept) break;
          if (other.record_id() != c.record_id() || &other == as_logged) continue;
          if (state_field ? other.server_seq() < my_seq : Hlc(other.hlc()) < mine) continue;
          for (const v1::FieldValue& ofv : other.fields()) kept = kept || ofv.field() == fv.field();
        }
        if (!kept) {
          ++tally.records_lost;
          std::string history;
          for (const v1::Change& other : log) {
            if (other.record_id() != c.record_id()) continue;
            history += "\n  log #" + std::to_string(other.server_seq()) + " hlc " + Hlc(other.hlc()).ToString() +
                       " by " + other.author() + " (device seq " + std::to_string(other.device_seq()) + "):";
            for (const v1::FieldValue& ofv : other.fields()) {
              history += " " + std::to_string(ofv.field()) + "=" +
                         DescribeFieldValue(body->GetDescriptor(), ofv.field(), ofv.value());
            }
          }
          ADD_FAILURE() << what << ": field " << field->name() << " = "
                        << DescribeFieldValue(body->GetDescriptor(), fv.field(), fv.value())
                        << " is neither in the state, nor in a conflict, nor superseded (state has "
                        << DescribeFieldValue(body->GetDescriptor(), fv.field(), EncodeField(*body, field))
                        << "); ledger outcome " << v1::ChangeOutcome_Name(entry->outcome) << ", stamped "
                        << Hlc(c.hlc()).ToString() << "; the record's log:" << history;
        }
      }
    }
  }
}

// ------------------------------------------------------------------ journey

std::vector<v1::Record> RandomJourney::Live(v1::RecordType type) {
  Result<std::vector<v1::Record>> all = StoreOf(*d_).RecordsOfType(type);
  EXPECT_TRUE(all.ok()) << all.status().ToString();
  return all.ok() ? *all : std::vector<v1::Record>{};
}

void RandomJourney::Check(const Result<v1::Record>& r) {
  if (r.ok()) return;
  const Status& st = r.status();
  switch (st.code()) {
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kNotFound:
    case ErrorCode::kFailedPrecondition:
    case ErrorCode::kResourceExhausted:
    case ErrorCode::kPermissionDenied:
    case ErrorCode::kAlreadyExists:
    case ErrorCode::kConflict:
      ++Tally::Get().local_refusals;
      EXPECT_FALSE(st.message().empty()) << last_ << ": a refusal without a reason";
      return;
    default: ADD_FAILURE() << d_.name << ": " << last_ << " failed: " << st.ToString();
  }
}

void RandomJourney::Step() {
  static const char* const kGiven[] = {"Amina", "Sam", "Lee", "Jo", "Maria", "Dan"};
  static const char* const kFamily[] = {"Khan", "Jones", "Smith", "Lopez"};
  static const char* const kBirth[] = {"1990-04-01", "1985-02-03", "1979-12-01"};
  const std::vector<v1::Record> people = Live(v1::RECORD_TYPE_PARTICIPANT);
  const std::vector<v1::Record> sessions = Live(v1::RECORD_TYPE_SESSION);
  const int op = people.empty() ? 0 : static_cast<int>(Pick(16));
  const std::string pid = people.empty() ? std::string() : PickFrom(people).id();

  switch (op) {
    case 0: {
      last_ = "register";
      v1::Participant p;
      p.set_given_name(kGiven[Pick(6)]);
      p.set_family_name(kFamily[Pick(4)]);
      p.set_date_of_birth(kBirth[Pick(3)]);
      Result<v1::Record> registered = d_->RegisterParticipant(p);
      Check(registered);
      if (!registered.ok()) return;
      // The consents referrals and validation rest on, given at registration.
      for (v1::ConsentPurpose purpose : {v1::CONSENT_PURPOSE_HOLD_DATA, v1::CONSENT_PURPOSE_SHARE_WITH_PARTNERS}) {
        last_ = "consent";
        v1::Consent c;
        c.set_participant_id(registered->id());
        c.set_purpose(purpose);
        c.set_wording_version("2024-03");
        c.set_method(v1::CONSENT_METHOD_SIGNED);
        Check(d_->RecordConsent(c));
      }
      return;
    }
    case 1:
    case 2: {
      last_ = "update participant";
      Result<v1::Record> now = d_->Get(*Uuid::FromBytes(pid));
      if (!now.ok()) return Check(now);
      v1::Participant p = now->participant();
      p.set_phone(DramaPhoneNumber(Pick(10)));
      if (Pick(2) == 0) p.set_postcode("NG" + std::to_string(1 + Pick(9)) + " 1AA");
      if (Pick(3) == 0) p.set_employment_status(static_cast<v1::EmploymentStatus>(1 + Pick(4)));
      Check(d_->UpdateParticipant(*Uuid::FromBytes(pid), p));
      return;
    }
    case 3: {
      last_ = "create session";
      v1::Session s;
      s.set_venue_id(Uuid::Parse(venue_id_)->raw());
      s.set_kind(v1::SESSION_KIND_GROUP);
      s.set_title("Job club " + std::to_string(Pick(100)));
      s.set_starts_at("2026-11-2" + std::to_string(3 + Pick(5)) + "T10:00");
      s.set_duration_min(60);
      Check(d_->CreateSession(s));
      return;
    }
    case 4: {
      if (sessions.empty()) return;
      last_ = "book";
      v1::Booking b;
      b.set_session_id(PickFrom(sessions).id());
      b.set_participant_id(pid);
      Check(d_->BookSession(b));
      return;
    }
    case 5:
    case 6: {
      if (sessions.empty()) return;
      last_ = "mark attendance";
      v1::Attendance a;
      a.set_session_id(PickFrom(sessions).id());
      a.set_participant_id(pid);
      a.set_status(static_cast<v1::AttendanceStatus>(1 + Pick(4)));
      if (a.status() == v1::ATTENDANCE_STATUS_DID_NOT_ATTEND) a.set_reason(v1::NON_ATTENDANCE_REASON_CARING);
      Check(d_->MarkAttendance(a));
      return;
    }
    case 7: {
      last_ = "assess";
      v1::Assessment a;
      a.set_participant_id(pid);
      a.set_instrument_id("my-journey");
      a.set_instrument_version(1);
      for (const char* domain : {"communication", "confidence", "managing_feelings", "reliability",
                                 "setting_and_achieving_goals", "working_with_others"}) {
        v1::DomainScore* s = a.add_scores();
        s->set_domain(domain);
        s->set_score(static_cast<int32_t>(1 + Pick(6)));
      }
      Check(d_->RecordAssessment(a));
      return;
    }
    case 8: {
      last_ = "refer";
      v1::Referral r;
      r.set_participant_id(pid);
      r.set_kind(v1::REFERRAL_KIND_REFERRAL);
      r.set_partner_name("Debt advice");
      Check(d_->MakeReferral(r));
      return;
    }
    case 9: {
      const std::vector<v1::Record> referrals = Live(v1::RECORD_TYPE_REFERRAL);
      if (referrals.empty()) return;
      last_ = "move referral";
      const auto to = static_cast<v1::ReferralStatus>(2 + Pick(5));
      const std::string detail = to == v1::REFERRAL_STATUS_REJECTED            ? "not eligible"
                                 : to == v1::REFERRAL_STATUS_FIRST_APPOINTMENT ? "2026-12-01"
                                                                               : "";
      Check(d_->MoveReferral(*Uuid::FromBytes(PickFrom(referrals).id()), to, detail));
      return;
    }
    case 10: {
      last_ = "record outcome";
      v1::Outcome o;
      o.set_participant_id(pid);
      o.set_kind(static_cast<v1::OutcomeKind>(1 + Pick(3)));
      // Achieved today, with its evidence, so that it can move on to evidenced and claimed.
      v1::EvidenceItem e;
      e.set_participant_id(pid);
      e.set_kind(v1::EVIDENCE_KIND_OTHER);
      Result<v1::Record> evidence = d_->AddEvidence(e);
      Check(evidence);
      if (evidence.ok()) o.add_evidence_ids(evidence->id());
      if (o.kind() == v1::OUTCOME_KIND_JOB_START) {
        o.set_employer("Boots");
        o.set_hours_per_week(16);
        o.set_contract(v1::CONTRACT_TYPE_PERMANENT);
      }
      Check(d_->RecordOutcome(o));
      return;
    }
    case 11: {
      const std::vector<v1::Record> outcomes = Live(v1::RECORD_TYPE_OUTCOME);
      if (outcomes.empty()) return;
      last_ = "move outcome";
      const auto to = static_cast<v1::OutcomeStatus>(2 + Pick(4));
      Check(d_->MoveOutcome(*Uuid::FromBytes(PickFrom(outcomes).id()), to,
                            to == v1::OUTCOME_STATUS_REJECTED ? "no evidence" : ""));
      return;
    }
    case 12: {
      last_ = "note";
      v1::CaseNote n;
      n.set_participant_id(pid);
      n.set_sensitivity(Pick(5) == 0 ? v1::NOTE_SENSITIVITY_RESTRICTED : v1::NOTE_SENSITIVITY_NORMAL);
      n.set_text("Talked about CVs, visit " + std::to_string(Pick(1000)));
      Check(d_->AddCaseNote(n));
      return;
    }
    case 13: {
      last_ = "contact";
      v1::ContactAttempt c;
      c.set_participant_id(pid);
      c.set_method(v1::CONTACT_METHOD_PHONE);
      c.set_result(static_cast<v1::ContactResult>(1 + Pick(5)));
      Check(d_->LogContact(c));
      return;
    }
    case 14: {
      const std::vector<v1::Record> bookings = Live(v1::RECORD_TYPE_BOOKING);
      if (bookings.empty()) return;
      last_ = "delete booking";
      Check(d_->Delete(*Uuid::FromBytes(PickFrom(bookings).id())));
      return;
    }
    default: {
      Result<std::vector<v1::Record>> open = d_->OpenConflicts();
      if (!open.ok() || open->empty()) return;
      last_ = "resolve conflict";
      Check(d_->ResolveConflict(*Uuid::FromBytes(PickFrom(*open).id()),
                                Pick(2) == 0 ? v1::CONFLICT_STATUS_KEPT_WINNER : v1::CONFLICT_STATUS_TOOK_LOSER));
      return;
    }
  }
}

}  // namespace outreach::testing
