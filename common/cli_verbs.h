// The one line both command lines (`outreach`, `outreach-server`) print when CLI11
// refuses a line because of its verb: the verbs possible at that point are named, so a
// person can correct the line without reading --help.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace outreach {

// For a line refused at a level that has verbs: "unknown verb 'frobnicate'; verbs are:
// participant, session, ..." when a word was given where a verb was expected, "a verb is
// required; verbs are: ..." when none was. Empty when the error is not about a verb
// (a missing option, a bad value), so the caller prints CLI11's own message.
std::string VerbError(const CLI::App& app, const CLI::ParseError& error);

}  // namespace outreach
