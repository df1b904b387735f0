// The calendar helpers moved to common/dates.h (the record rules there check dates on
// both sides); these names keep the journey code and its tests building unchanged.
#pragma once

#include "common/dates.h"

namespace outreach::journey {

using outreach::AddMonths;
using outreach::CivilFromDays;
using outreach::Date;
using outreach::DateOfMillis;
using outreach::DaysFromCivil;
using outreach::FormatDate;
using outreach::InstantOfMillis;
using outreach::ParseDate;
using outreach::ParseInstant;

}  // namespace outreach::journey
