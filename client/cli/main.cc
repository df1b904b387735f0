// outreach: the command line over liboutreach. See client/cli/commands.h for the contract.
#include <iostream>

#include "client/cli/commands.h"

int main(int argc, char** argv) {
  outreach::cli::CommandLine command_line;
  return command_line.Run(argc, argv, std::cout, std::cerr);
}
