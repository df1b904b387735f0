#include "common/cli_verbs.h"

#include <vector>

namespace outreach {

std::string VerbError(const CLI::App& app, const CLI::ParseError& error) {
  // The deepest verb parsed: where the next word had to be one of its verbs.
  const CLI::App* level = &app;
  while (!level->get_subcommands().empty()) level = level->get_subcommands().back();
  const std::vector<const CLI::App*> verbs = level->get_subcommands({});
  if (verbs.empty()) return "";
  std::string names;
  for (const CLI::App* verb : verbs) names += (names.empty() ? "" : ", ") + verb->get_name();

  // A word that is not an option, left over where a verb was expected (an unexpected
  // word falls through to the top level, as global options do).
  std::string word;
  for (const CLI::App* where : {level, &app}) {
    for (const std::string& rest : where->remaining()) {
      if (word.empty() && !rest.empty() && rest.front() != '-') word = rest;
    }
  }
  if (!word.empty()) return "unknown verb '" + word + "'; verbs are: " + names;
  if (error.get_name() == "RequiredError" && level->get_require_subcommand_min() > 0) {
    return "a verb is required; verbs are: " + names;
  }
  return "";
}

}  // namespace outreach
