#!/usr/bin/env bash
# `make demo`: a day in the life, against a real outreach-server process over TLS.
#
# Morning at the hub: two advisers (a children's centre, a housing office) and a kiosk
# enrol and sync. Out in the field, offline all day: people are registered (one of them
# twice, by two advisers at two venues), a group session's register is marked by the kiosk
# and by the adviser, assessments are recorded, and both advisers change the same
# participant's phone number. At day's end every device syncs; the demo prints what each
# pushed and pulled, the conflict and the duplicate found, and shows that every adviser's
# device now holds the same records. Priya's eligibility file goes from Ann to the hub
# coordinator's pre-check to the manager's acceptance; Ann may not accept her own file.
set -euo pipefail

BUILD=${BUILD_DIR:-build}
SERVER=$BUILD/server/cli/outreach-server
CLIENT=$BUILD/client/cli/outreach
WORK=$(mktemp -d /tmp/outreach-demo.XXXXXX)
DATA=$WORK/hub
SERVER_PID=""
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  [ -n "${KEEP:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
ann() { "$CLIENT" --db "$WORK/ann.db" --json "$@"; }
bo() { "$CLIENT" --db "$WORK/bo.db" --json "$@"; }
kiosk() { "$CLIENT" --db "$WORK/kiosk.db" --json "$@"; }
mo() { "$CLIENT" --db "$WORK/mo.db" --json "$@"; }
cy() { "$CLIENT" --db "$WORK/cy.db" --json "$@"; }
id_of() { jq -r .id; }

say "The hub sets up its server (store, CA, certificate), a hub, two venues, its programme, its instrument and a partner"
"$SERVER" init --data "$DATA" --hostname localhost --json >/dev/null
HUB=$("$SERVER" hub add --data "$DATA" --name "Nottingham North" --json | jq -r .hub_id)
CENTRE=$("$SERVER" venue add --data "$DATA" --hub "$HUB" --name "Bulwell Children's Centre" --kind childrens_centre --json | jq -r .venue_id)
HOUSING=$("$SERVER" venue add --data "$DATA" --hub "$HUB" --name "Aspley Housing Office" --kind housing_office --json | jq -r .venue_id)
echo "hub $HUB; venues: children's centre $CENTRE, housing office $HOUSING"
"$SERVER" programme add --data "$DATA" --name "Building Better Opportunities" --funder "ESF and the National Lottery" \
  --strand BBO --min-age 18 --max-age 100 --rules-version 2026-04 --hub "$HUB" --json |
  jq -c '{programme: .name, funder, strands, ages: "\(.min_age)-\(.max_age)", rules_version}'
PROGRAMME=$("$SERVER" programme list --data "$DATA" --json | jq -r '.programmes[0].programme_id')
cat >"$WORK/my-journey.json" <<'JSON'
{"instrument_id": "my-journey", "version": 1, "name": "My Journey",
 "domains": [{"key": "communication", "label": "Communication", "min_score": 1, "max_score": 6},
             {"key": "confidence", "label": "Confidence", "min_score": 1, "max_score": 6},
             {"key": "managing_feelings", "label": "Managing feelings", "min_score": 1, "max_score": 6},
             {"key": "reliability", "label": "Reliability", "min_score": 1, "max_score": 6},
             {"key": "setting_and_achieving_goals", "label": "Setting and achieving goals", "min_score": 1, "max_score": 6},
             {"key": "working_with_others", "label": "Working with others", "min_score": 1, "max_score": 6}]}
JSON
"$SERVER" instrument add --data "$DATA" --programme "$PROGRAMME" --file "$WORK/my-journey.json" --json |
  jq -c '{instrument: .instrument_id, version, domains: [.domains[].key]}'
ADVICE=$("$SERVER" partner add --data "$DATA" --name "Citizens Advice Nottingham" --kind referral_partner --hub "$HUB" --json | jq -r .partner_id)
echo "partner: Citizens Advice Nottingham $ADVICE"

"$SERVER" serve --data "$DATA" --listen 127.0.0.1:0 --json >"$WORK/serve.out" 2>"$WORK/serve.log" &
SERVER_PID=$!
for _ in $(seq 100); do [ -s "$WORK/serve.out" ] && break; sleep 0.05; done
ADDRESS=$(head -n 1 "$WORK/serve.out" | jq -r .listening)
echo "outreach-server listening on $ADDRESS (TLS 1.3, ALPN outreach/1)"

say "Morning: the advisers' devices, a kiosk, the manager's and the coordinator's enrol with one-time codes"
code() { "$SERVER" enrol --data "$DATA" --hub "$HUB" --json "$@" | jq -r .code; }
ann enrol --server "$ADDRESS" --ca "$DATA/ca.pem" --code "$(code --role adviser --name 'Ann Adviser')" --name "Ann's tablet" | jq -c .
bo enrol --server "$ADDRESS" --ca "$DATA/ca.pem" --code "$(code --role adviser --name 'Bo Adviser')" --name "Bo's laptop" | jq -c .
kiosk enrol --server "$ADDRESS" --ca "$DATA/ca.pem" --code "$(code --role kiosk --name 'Centre kiosk' --venue "$CENTRE")" --name "Centre kiosk" | jq -c .
mo enrol --server "$ADDRESS" --ca "$DATA/ca.pem" --code "$(code --role manager --name 'Mo Manager')" --name "Hub office PC" | jq -c .
cy enrol --server "$ADDRESS" --ca "$DATA/ca.pem" --code "$(code --role coordinator --name 'Cy Coordinator')" --name "Coordinator's laptop" | jq -c .

TODAY=$(date +%F)
say "Morning: Ann registers two people, sets up today's job club and books them; all sync"
PRIYA=$(ann participant add --given-name Priya --family-name Shah --date-of-birth 1991-03-14 --phone "0113 496 0100" --postcode "NG6 8AB" --venue "$CENTRE" | id_of)
DAN=$(ann participant add --given-name Dan --family-name Okafor --date-of-birth 1987-07-22 --venue "$CENTRE" | id_of)
JOBCLUB=$(ann session add --venue "$CENTRE" --kind group --group-format job_club --title "Job club" --starts-at "${TODAY}T10:00" --duration-min 90 --capacity 8 | id_of)
ann book --session "$JOBCLUB" --participant "$PRIYA" >/dev/null
ann book --session "$JOBCLUB" --participant "$DAN" >/dev/null
PRIYA_REF=$(ann show "$PRIYA" | jq -r .reference)
DAN_REF=$(ann show "$DAN" | jq -r .reference)
echo "Priya $PRIYA_REF, Dan $DAN_REF, job club $JOBCLUB"
for who in ann bo kiosk; do printf '%-6s sync: ' "$who"; $who sync | jq -c .; done
echo "Ann's tablet now holds the programme, its instrument and its partners (reference data from the server):"
ann programme show | jq -c '{programme: .name, strands, rules_version}'
ann instrument list | jq -c '.instruments[] | {instrument_id, version, domains: (.domains | length)}'
ann partner list | jq -c '.partners[] | {id, name, kind}'

say "In the field, offline all day"
echo "- the kiosk at the children's centre signs Priya and Dan in by reference number"
kiosk sign-in --session "$JOBCLUB" --reference "$PRIYA_REF" | jq -c '{id, status}'
kiosk sign-in --session "$JOBCLUB" --reference "$DAN_REF" | jq -c '{id, status}'
echo "- Ann marks Dan late on her register (an adviser's mark outranks the kiosk's)"
ann attend --session "$JOBCLUB" --participant "$DAN" --status late | jq -c '{id, status}'
echo "- Ann records Priya's My Journey baseline"
ann assess --participant "$PRIYA" --instrument my-journey --score communication=3 --score confidence=2 \
  --score managing_feelings=3 --score reliability=4 --score setting_and_achieving_goals=2 --score working_with_others=3 | jq -c '{id, instrument_id}'
echo "- Priya agrees to her details going to Citizens Advice, and Ann makes a warm handover there"
ann consent --participant "$PRIYA" --purpose share_with_partners --method signed --wording-version v3 --partner "$ADVICE" >/dev/null
ann refer --participant "$PRIYA" --kind warm_handover --partner "$ADVICE" --summary "Debt worries; prefers mornings" | jq -c '{id, kind, partner_id}'
echo "- at the housing office Bo registers Dan again, not knowing Ann already has (a duplicate)"
DAN2=$(bo participant add --given-name dan --family-name OKAFOR --date-of-birth 1987-07-22 --venue "$HOUSING" | id_of)
echo "  Bo's Dan: $DAN2; Bo logs a phone call with him"
bo contact --participant "$DAN2" --method phone --result reached --attempted-at "${TODAY}T15:00" | jq -c '{id, participant_id}'
echo "- Priya gives Ann a new phone number, and gives Bo another one"
ann participant update "$PRIYA" --phone "0113 496 0111" | jq -c '{id, phone}'
sleep 0.01
bo participant update "$PRIYA" --phone "0113 496 0222" | jq -c '{id, phone}'

say "Day's end: every device syncs (pushed, pulled, conflicts, rejected)"
for who in ann bo kiosk ann bo; do printf '%-6s sync: ' "$who"; $who sync | jq -c .; done

say "What the server found"
echo "conflicts kept for review (nothing silently dropped):"
"$SERVER" conflicts list --data "$DATA" --hub "$HUB" --json | jq -c '.conflicts[] | {record: .record_id, field: .field, winner: .winning_value, winning_author: .winning_author, loser: .losing_value, losing_author: .losing_author}'
echo "duplicate participants to review:"
ann export --format json | jq -c '.records[] | select(.type == "duplicate_review") | {participant: .participant_id, other: .other_participant_id, match, status}'
echo "Dan's attendance at the job club on every device:"
for who in ann bo kiosk; do
  printf '%-6s ' "$who"; $who export --format json | jq -c --arg s "$JOBCLUB" --arg p "$DAN" '.records[] | select(.type == "attendance" and .session_id == $s and .participant_id == $p) | {status, marked_by}'
done

say "Back at the hub, the manager merges the duplicate, keeping Ann's record of Dan"
mo sync | jq -c .
REVIEW=$(mo duplicates | jq -r '.duplicates[0].id')
mo duplicates decide "$REVIEW" --decision merged --keep "$DAN" | jq -c '{id, status, kept_participant_id}'
for who in mo ann bo kiosk ann bo; do printf '%-6s sync: ' "$who"; $who sync | jq -c .; done
echo "Bo's call with Dan now belongs to Ann's record of Dan ($DAN), on every adviser's device:"
for who in ann bo; do
  printf '%-6s ' "$who"; $who export --format json | jq -c '.records[] | select(.type == "contact_attempt") | {call: .id, participant_id}'
  printf '%-6s ' "$who"; $who show "$DAN2" | jq -c '{status, merged_into}'
done

say "Priya's eligibility file: Ann submits it, the coordinator pre-checks it, the manager accepts it"
ann consent --participant "$PRIYA" --purpose hold_data --method signed --wording-version v3 >/dev/null
PASSPORT=$(ann evidence --participant "$PRIYA" --kind passport | id_of)
FILE=$(ann validation --participant "$PRIYA" --status submitted --evidence "$PASSPORT" | id_of)  # rules version: the programme's
for who in ann cy; do printf '%-6s sync: ' "$who"; $who sync | jq -c .; done
cy validation move "$FILE" --to precheck_passed | jq -c '{id, status, submitted_by, prechecked_by}'
for who in cy ann; do printf '%-6s sync: ' "$who"; $who sync | jq -c .; done
echo "- Ann tries to accept the file she submitted herself:"
if refusal=$(ann validation move "$FILE" --to accepted 2>&1); then
  echo "NOT refused: $refusal"; exit 1
fi
echo "  refused: $refusal"
mo sync | jq -c .
mo validation move "$FILE" --to accepted | jq -c '{id, status, submitted_by, prechecked_by, decided_by}'
for who in mo ann bo cy; do printf '%-6s sync: ' "$who"; $who sync | jq -c .; done
echo "The file's kept history, on Ann's tablet:"
ann validation history "$FILE" | jq -c '.moves[] | {from: (.from_status // "(opened)"), to: .to_status, by: .moved_by, at: .moved_at}'
echo "and from the server's audit trail (who, which device, which field):"
"$SERVER" audit --data "$DATA" --record "$FILE" --json | jq -c '.changes[] | select(.field == "status") | {at, author, old, new}'

say "Every staff device holds the same records"
for who in ann bo mo cy; do
  $who export --format json | jq -S '.records' >"$WORK/$who.export.json"
  printf '%-6s %s records, sha256 %s\n' "$who" "$(jq length "$WORK/$who.export.json")" "$(sha256sum <"$WORK/$who.export.json" | cut -c1-16)"
done
printf '%-6s %s records (its venue only: the session, its register and the names needed to sign in)\n' kiosk \
  "$(kiosk export --format json | jq '.records | length')"
if cmp -s "$WORK/ann.export.json" "$WORK/bo.export.json" && cmp -s "$WORK/ann.export.json" "$WORK/mo.export.json" &&
  cmp -s "$WORK/ann.export.json" "$WORK/cy.export.json"; then
  echo "converged: Ann's, Bo's, the manager's and the coordinator's devices are identical"
else
  echo "NOT converged:"; diff "$WORK/ann.export.json" "$WORK/bo.export.json" | head -40; exit 1
fi
