/* kiosk_signin: a venue's sign-in kiosk, using only the stable C API (outreach.h).
 *
 *   kiosk_signin --db DEVICE.db --venue VENUE_ID --reference REF [--session SESSION_ID]
 *
 * Opens the device database, lists today's sessions at the venue, and signs the person
 * with reference number REF in to SESSION_ID (default: the first of today's sessions).
 * Exits 0 when signed in; otherwise prints the library's error (field and reason) and
 * exits 1.
 *
 * Results come back as JSON (OUTREACH_FORMAT_JSON). A real app reads them with its
 * platform's JSON parser or decodes the protobuf form; to stay dependency-free this
 * example only picks string members out of the compact JSON with find_string().
 */
#include <outreach/outreach.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Copies the string value of the first `"key":"` at or after `from` into `value` (at
 * most `size` bytes with the NUL); returns a pointer just past it, or NULL if absent. */
static const char* find_string(const char* from, const char* key, char* value, size_t size) {
  char pattern[64];
  const char* p;
  size_t n = 0;
  snprintf(pattern, sizeof pattern, "\"%s\":\"", key);
  p = strstr(from, pattern);
  if (p == NULL) return NULL;
  p += strlen(pattern);
  while (*p != '\0' && *p != '"') {
    if (*p == '\\' && p[1] != '\0') ++p; /* keep the escaped character */
    if (n + 1 < size) value[n++] = *p;
    ++p;
  }
  value[n] = '\0';
  return *p == '"' ? p + 1 : NULL;
}

static int fail(const char* what, outreach_error* error) {
  if (error != NULL) {
    fprintf(stderr, "kiosk_signin: %s: %s%s%s\n", what, error->field, error->field[0] != '\0' ? ": " : "",
            error->message);
    outreach_error_free(error);
  } else {
    fprintf(stderr, "kiosk_signin: %s failed\n", what);
  }
  return 1;
}

static int usage(void) {
  fprintf(stderr, "usage: kiosk_signin --db FILE --venue VENUE_ID --reference REF [--session SESSION_ID]\n");
  return 2;
}

int main(int argc, char** argv) {
  const char* db = NULL;
  const char* venue = NULL;
  const char* reference = NULL;
  const char* session = NULL;
  char chosen[64] = "";
  char title[256];
  char starts_at[32];
  char* sessions = NULL;
  char* attendance = NULL;
  const char* cursor;
  outreach_device* device = NULL;
  outreach_error* error = NULL;
  int i;
  int count = 0;

  for (i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--db") == 0) {
      db = argv[i + 1];
    } else if (strcmp(argv[i], "--venue") == 0) {
      venue = argv[i + 1];
    } else if (strcmp(argv[i], "--reference") == 0) {
      reference = argv[i + 1];
    } else if (strcmp(argv[i], "--session") == 0) {
      session = argv[i + 1];
    } else {
      return usage();
    }
  }
  if (i != argc || db == NULL || venue == NULL || reference == NULL) return usage();

  if (outreach_device_open(db, NULL, &device, &error) != OUTREACH_OK) return fail("open", error);

  /* Today's sessions at this venue, by start time. */
  if (outreach_sessions_at_venue(device, OUTREACH_FORMAT_JSON, venue, NULL, &sessions, NULL, &error) != OUTREACH_OK) {
    outreach_device_close(device);
    return fail("sessions", error);
  }
  printf("Today's sessions:\n");
  cursor = sessions;
  while ((cursor = strstr(cursor, "\"session\":{")) != NULL) {
    char id[64];
    cursor = find_string(cursor, "id", id, sizeof id);
    if (cursor == NULL) break;
    if (find_string(cursor, "title", title, sizeof title) == NULL) strcpy(title, "(untitled)");
    if (find_string(cursor, "starts_at", starts_at, sizeof starts_at) == NULL) strcpy(starts_at, "?");
    printf("  %d. %s  %s  [%s]\n", ++count, starts_at, title, id);
    if (chosen[0] == '\0' && (session == NULL || strcmp(session, id) == 0)) strcpy(chosen, id);
  }
  outreach_free(sessions);
  if (chosen[0] == '\0') {
    fprintf(stderr, "kiosk_signin: session: %s\n",
            session == NULL ? "no sessions today at this venue" : "is not one of today's sessions here");
    outreach_device_close(device);
    return 1;
  }

  /* The person types their reference number; the kiosk marks them attended. */
  if (outreach_kiosk_sign_in(device, OUTREACH_FORMAT_JSON, chosen, reference, &attendance, NULL, &error) !=
      OUTREACH_OK) {
    outreach_device_close(device);
    return fail("sign in", error);
  }
  printf("Signed in %s to session %s\n%s\n", reference, chosen, attendance);
  outreach_free(attendance);
  outreach_device_close(device);
  return 0;
}
