/* Compiles outreach.h as strict C89 (see CMakeLists.txt); a build failure is the test. */
#include <outreach/outreach.h>

int outreach_header_compiles_as_c89(void) { return (int)OUTREACH_OK + (int)OUTREACH_FORMAT_JSON; }
