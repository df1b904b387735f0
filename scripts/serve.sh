#!/usr/bin/env bash
# `make serve`: the sync server on 127.0.0.1:7443 over an SQLite store in ./var.
# The first run creates the store, CA, certificate, a demo hub and venue; every run
# prints fresh one-time enrolment codes for the demo hub, then serves until Ctrl-C.
set -euo pipefail
BUILD=${BUILD_DIR:-build}
SERVER=$BUILD/server/cli/outreach-server
DATA=${DATA:-var}
LISTEN=${LISTEN:-127.0.0.1:7443}

if [ ! -f "$DATA/demo-hub" ]; then
  "$SERVER" init --data "$DATA" --hostname localhost --json >/dev/null
  "$SERVER" hub add --data "$DATA" --name "Demo hub" --json | jq -r .hub_id >"$DATA/demo-hub"
  "$SERVER" venue add --data "$DATA" --hub "$(cat "$DATA/demo-hub")" --name "Demo children's centre" \
    --kind childrens_centre --json | jq -r .venue_id >"$DATA/demo-venue"
  echo "created a deployment in $DATA/ (store.db, ca.pem, server.pem)"
fi
HUB=$(cat "$DATA/demo-hub")
VENUE=$(cat "$DATA/demo-venue")
code() { "$SERVER" enrol --data "$DATA" --hub "$HUB" --json "$@" | jq -r .code; }
cat <<TXT
demo hub $HUB, venue $VENUE
one-time enrolment codes (valid 72 hours):
  adviser        $(code --role adviser --name "Demo Adviser")
  health worker  $(code --role health_worker --name "Demo Health Worker")
  manager        $(code --role manager --name "Demo Manager")
  kiosk          $(code --role kiosk --name "Demo Kiosk" --venue "$VENUE")
enrol a device:  $BUILD/client/cli/outreach --db tablet.db enrol --server $LISTEN --ca $DATA/ca.pem --code CODE
TXT
exec "$SERVER" serve --data "$DATA" --listen "$LISTEN"
