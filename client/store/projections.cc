#include "client/store/projections.h"

#include <cctype>
#include <cstdio>
#include <cstdlib>

namespace outreach::client::store {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

std::string NameKey(std::string_view text) {
  std::string out;
  for (char c : text) {
    unsigned char u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || u >= 0x80) {
      out.push_back(static_cast<char>(std::tolower(u)));
    } else if (!out.empty() && out.back() != ' ') {
      out.push_back(' ');
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

namespace {

// ---------------------------------------------------------------- declarations

// A column after `id`: a body field as it is (bytes bound as a blob, a string as text,
// an enum or number as an integer), the day (YYYY-MM-DD) of a date-time string field,
// or a value computed from the body.
using Compute = void (*)(const Message& body, std::string* scratch, Projection* p);  // appends one value
struct Column {
  enum How : uint8_t { kField, kDayOf, kComputed };
  const char* name;  // the table's column
  How how;
  const char* field;  // kField, kDayOf: the body field
  Compute compute;    // kComputed
};
Column Field(const char* name) {
  return {name, Column::kField, name, nullptr};
}
Column DayOf(const char* name, const char* field) {
  return {name, Column::kDayOf, field, nullptr};
}
Column Computed(const char* name, Compute compute) {
  return {name, Column::kComputed, nullptr, compute};
}

struct Declaration {
  v1::RecordType type;
  const char* table;
  const char* what;
  std::vector<Column> columns;
  // Whether a live record has a row (null: every live record has one).
  bool (*has_row)(const Message& body) = nullptr;
};

// The YYYY-MM-DD of a date or date-time.
std::string_view Day(std::string_view date_time) {
  return date_time.substr(0, 10);
}

// participant_p.name_key: the given and family names, normalised (FindParticipantsByName).
void ParticipantNameKey(const Message& body, std::string* scratch, Projection* p) {
  const auto& v = static_cast<const v1::Participant&>(body);
  *scratch = NameKey(v.given_name() + " " + v.family_name());
  p->Text(*scratch);
}

// attendance_p.seen_on: the day the person was seen (attended, late or left early) rides
// in the row: a mark costs one projection row, not two. NULL otherwise.
void AttendanceSeenOn(const Message& body, std::string*, Projection* p) {
  const auto& a = static_cast<const v1::Attendance&>(body);
  const std::string_view day = Day(a.marked_at());
  if ((a.status() == v1::ATTENDANCE_STATUS_ATTENDED || a.status() == v1::ATTENDANCE_STATUS_LATE ||
       a.status() == v1::ATTENDANCE_STATUS_LEFT_EARLY) &&
      !day.empty()) {
    p->Text(day);
  } else {
    p->Null();
  }
}

// seen_p holds the contact attempts that reached someone on a known day.
bool ReachedOnADay(const Message& body) {
  const auto& c = static_cast<const v1::ContactAttempt&>(body);
  return c.result() == v1::CONTACT_RESULT_REACHED && !c.participant_id().empty() && !Day(c.attempted_at()).empty();
}

// Every projection (the DDL is in schema.cc).
std::vector<Declaration> Declarations() {
  return {
      {v1::RECORD_TYPE_PARTICIPANT,
       "participant_p",
       "cannot write participant projection",
       {Field("reference"), Field("given_name"), Field("family_name"), Field("date_of_birth"), Field("ni_number"),
        Field("adviser"), Field("status"), Field("registered_on"), Computed("name_key", ParticipantNameKey)}},
      {v1::RECORD_TYPE_SESSION,
       "session_p",
       "cannot write session projection",
       {Field("venue_id"), DayOf("day", "starts_at"), Field("starts_at")}},
      {v1::RECORD_TYPE_BOOKING,
       "booking_p",
       "cannot write booking projection",
       {Field("session_id"), Field("participant_id"), Field("status")}},
      {v1::RECORD_TYPE_ATTENDANCE,
       "attendance_p",
       "cannot write attendance projection",
       {Field("session_id"), Field("participant_id"), Field("status"), Computed("seen_on", AttendanceSeenOn)}},
      {v1::RECORD_TYPE_CONTACT_ATTEMPT,
       "seen_p",
       "cannot write seen projection",
       {Field("participant_id"), DayOf("day", "attempted_at")},
       ReachedOnADay},
      {v1::RECORD_TYPE_ACTION_PLAN,
       "action_plan_p",
       "cannot write action plan projection",
       {Field("participant_id"), Field("status"), Field("started_on"), Field("agreed_on"), Field("review_on")}},
      {v1::RECORD_TYPE_ACTION_STEP,
       "action_step_p",
       "cannot write action step projection",
       {Field("plan_id"), Field("status"), Field("due_on")}},
  };
}

// ---------------------------------------------------------------- made from them

// A column with its body field resolved once.
struct ResolvedColumn {
  Column::How how;
  ValueKind kind;                // kField
  const FieldDescriptor* field;  // kField, kDayOf
  FieldDescriptor::CppType cpp;  // kField
  Compute compute;               // kComputed
};

struct Def : ProjectionDef {
  std::vector<ResolvedColumn> columns;
  bool (*has_row)(const Message& body) = nullptr;
};

[[noreturn]] void BadDeclaration(const char* table, const char* column, const char* why) {
  std::fprintf(stderr, "projections.cc: %s.%s: %s\n", table, column, why);
  std::abort();
}

std::vector<Def> MakeDefs() {
  std::vector<Def> defs;
  for (const Declaration& d : Declarations()) {
    Def def;
    def.type = d.type;
    def.table = d.table;
    def.what = d.what;
    def.has_row = d.has_row;
    def.clear_sql = "DELETE FROM " + def.table + " WHERE id = ?";
    def.empty_sql = "DELETE FROM " + def.table;
    std::string names = "id";
    std::string marks = "?";
    const std::unique_ptr<Message> body = NewBody(d.type);
    for (const Column& c : d.columns) {
      names += std::string(", ") + c.name;
      marks += ", ?";
      ResolvedColumn r{c.how, ValueKind::kNull, nullptr, FieldDescriptor::CPPTYPE_STRING, c.compute};
      if (c.how != Column::kComputed) {
        r.field = body->GetDescriptor()->FindFieldByName(c.field);
        if (r.field == nullptr || r.field->is_repeated()) BadDeclaration(d.table, c.name, "no such singular field");
        r.cpp = r.field->cpp_type();
        switch (r.cpp) {
          case FieldDescriptor::CPPTYPE_STRING:
            r.kind = r.field->type() == FieldDescriptor::TYPE_BYTES ? ValueKind::kBlob : ValueKind::kText;
            break;
          case FieldDescriptor::CPPTYPE_ENUM:
          case FieldDescriptor::CPPTYPE_INT32:
          case FieldDescriptor::CPPTYPE_INT64:
          case FieldDescriptor::CPPTYPE_UINT32:
          case FieldDescriptor::CPPTYPE_BOOL: r.kind = ValueKind::kInt; break;
          default: BadDeclaration(d.table, c.name, "not a string, bytes, enum or integer field");
        }
        if (c.how == Column::kDayOf && r.field->type() != FieldDescriptor::TYPE_STRING) {
          BadDeclaration(d.table, c.name, "the day of a field that is not a string");
        }
      }
      def.columns.push_back(r);
    }
    if (static_cast<int>(def.columns.size()) + 1 > Projection::kMaxValues) {
      BadDeclaration(d.table, "id", "more columns than Projection::kMaxValues");
    }
    def.insert_sql = "INSERT INTO " + def.table + "(" + names + ") VALUES (" + marks + ")";
    defs.push_back(std::move(def));
  }
  return defs;
}

// Made once, on first use, by whichever thread comes first (PreparePulledPage runs on
// the thread that receives pulled pages); never changed after.
const std::vector<Def>& Defs() {
  static const std::vector<Def> defs = MakeDefs();
  return defs;
}

const Def* FindDef(int type) {
  for (const Def& d : Defs()) {
    if (d.type == type) return &d;
  }
  return nullptr;
}

}  // namespace

const char* Projection::insert_sql() const {
  return has_row ? def->insert_sql.c_str() : nullptr;
}

const std::vector<const ProjectionDef*>& Projections() {
  static const std::vector<const ProjectionDef*> all = [] {
    std::vector<const ProjectionDef*> out;
    for (const Def& d : Defs()) out.push_back(&d);
    return out;
  }();
  return all;
}

void ProjectionOf(int type, const Message& b, bool live, std::string_view id, std::string* scratch, Projection* p) {
  const Def* def = FindDef(type);
  p->def = def;
  if (def == nullptr || !live) return;
  if (def->has_row != nullptr && !def->has_row(b)) return;
  p->has_row = true;
  p->Blob(id);
  const google::protobuf::Reflection* reflection = b.GetReflection();
  std::string unused;  // GetStringReference's copy for fields not held as strings (none here)
  for (const ResolvedColumn& c : def->columns) {
    switch (c.how) {
      case Column::kComputed: c.compute(b, scratch, p); break;
      case Column::kDayOf: p->Text(Day(reflection->GetStringReference(b, c.field, &unused))); break;
      case Column::kField:
        switch (c.cpp) {
          case FieldDescriptor::CPPTYPE_STRING:
            p->values[p->count++] = {c.kind, 0, reflection->GetStringReference(b, c.field, &unused)};
            break;
          case FieldDescriptor::CPPTYPE_ENUM: p->Int(reflection->GetEnumValue(b, c.field)); break;
          case FieldDescriptor::CPPTYPE_INT32: p->Int(reflection->GetInt32(b, c.field)); break;
          case FieldDescriptor::CPPTYPE_INT64: p->Int(reflection->GetInt64(b, c.field)); break;
          case FieldDescriptor::CPPTYPE_UINT32: p->Int(reflection->GetUInt32(b, c.field)); break;
          case FieldDescriptor::CPPTYPE_BOOL: p->Int(reflection->GetBool(b, c.field) ? 1 : 0); break;
          default: p->Null(); break;  // refused by MakeDefs
        }
        break;
    }
  }
}

std::string Fingerprint(const Projection& p) {
  const char* insert = p.insert_sql();
  std::string out(insert != nullptr ? insert : "");
  for (int i = 0; i < p.count; ++i) {
    const Projection::Value& v = p.values[i];
    out.push_back(static_cast<char>(v.kind));
    const int64_t n = v.kind == ValueKind::kInt ? v.number : static_cast<int64_t>(v.bytes.size());
    out.append(reinterpret_cast<const char*>(&n), sizeof n);
    out.append(v.bytes);
  }
  return out;
}

namespace {

std::string_view RawId(const Uuid& id) {
  return std::string_view(reinterpret_cast<const char*>(id.bytes().data()), Uuid::kSize);
}

}  // namespace

std::string ProjectionFingerprint(const Row& row) {
  std::string scratch;
  Projection p;
  ProjectionOf(row.type, *row.body, !row.deleted && !row.erased, RawId(row.id), &scratch, &p);
  return Fingerprint(p);
}

Status WriteProjection(sqlite::Database& db, const Row& row, bool had_projections, const std::string* held_projection) {
  const std::string_view id = RawId(row.id);
  std::string scratch;
  Projection p;
  ProjectionOf(row.type, *row.body, !row.deleted && !row.erased, id, &scratch, &p);
  if (held_projection != nullptr && *held_projection == Fingerprint(p)) return Status::Ok();  // the row stands
  if (had_projections && p.def != nullptr) {  // a record new to the file has none to clear
    Result<sqlite::Statement> s = db.Prepare(p.def->clear_sql.c_str());
    if (!s.ok()) return s.status();
    s->Blob(1, id);
    OUTREACH_RETURN_IF_ERROR(s->Run("cannot clear projection"));
  }
  if (!p.has_row) return Status::Ok();
  Result<sqlite::Statement> s = db.Prepare(p.def->insert_sql.c_str());
  if (!s.ok()) return s.status();
  for (int i = 0; i < p.count; ++i) BindValue(*s, i + 1, p.values[i].kind, p.values[i].number, p.values[i].bytes);
  return s->Run(p.def->what.c_str());
}

Status EmptyProjections(sqlite::Database& db) {
  for (const ProjectionDef* def : Projections()) OUTREACH_RETURN_IF_ERROR(db.Exec(def->empty_sql.c_str()));
  return Status::Ok();
}

Status RebuildProjections(sqlite::Database& db) {
  OUTREACH_RETURN_IF_ERROR(EmptyProjections(db));
  Result<sqlite::Statement> s = db.Prepare("SELECT type, id, deleted, erased, body FROM record");
  if (!s.ok()) return s.status();
  int rc;
  while ((rc = s->Step()) == SQLITE_ROW) {
    Row row;
    row.id = s->ColId(1);
    OUTREACH_RETURN_IF_ERROR(row.DecodeFrom(*s));
    OUTREACH_RETURN_IF_ERROR(WriteProjection(db, row, /*had_projections=*/false));
  }
  return rc == SQLITE_DONE ? Status::Ok() : s->Error("cannot list records");
}

}  // namespace outreach::client::store
