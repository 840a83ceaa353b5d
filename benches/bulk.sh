#!/usr/bin/env bash
# The bulk benchmark (tracker issue 11): how long `referee bulk --verify` takes for ROWS converted
# referrals of a sandbox seeded with SEED, against curl doing each row's conflict read and PUT.
#
#   benches/bulk.sh [SEED] [ROWS]    100000 referrals and 1000 rows by default
#
# Builds referee in release, starts the sandbox (see sandbox.sh), takes 2 × ROWS converted ids,
# then prints:
#   - `referee bulk --ids-from … --verify -y` over the first ROWS: it reads them, then for each
#     row the conflict guard's GET and the PUT, through the console's bulk window (the real app
#     off screen), journaling every write;
#   - the same GET + PUT for the other ROWS by one curl process, 8 transfers at once (kept-alive
#     connections), checked afterwards;
#   - the console's time as a multiple of curl's.
set -euo pipefail

seed=${1:-100000}
rows=${2:-1000}
source "$(dirname "$0")/sandbox.sh"
serve "$seed"

# Converted ids, by page.
offset=0
: >"$work/ids"
while (($(wc -l <"$work/ids") < 2 * rows)); do
    page=$(curl -sf -H "Authorization: Bearer $key" "$base/referrals?status=converted&limit=100&offset=$offset")
    found=$(grep -o '"id":"[^"]*"' <<<"$page" | cut -d'"' -f4 || true)
    [[ -n $found ]] || { echo "only $(wc -l <"$work/ids") converted referrals" >&2; exit 1; }
    echo "$found" >>"$work/ids"
    offset=$((offset + 100))
done
head -n "$rows" "$work/ids" >"$work/console.ids"
sed -n "$((rows + 1)),$((2 * rows))p" "$work/ids" >"$work/curl.ids"

started=$(now)
summary=$(REFEREE_HOME=$work REFEREE_API_KEY=$key "$referee" --base-url "$base" bulk \
    --ids-from "$work/console.ids" --verify -y 2>&1 >/dev/null | tail -1)
console_s=$(since "$started")

# curl: one process, 8 transfers at once over kept-alive connections, a GET and a PUT per row.
stamp=$(date -u +%Y-%m-%dT%H:%M:%SZ)
first=1
while read -r id; do
    ((first)) || echo "next"
    first=0
    echo "url = \"$base/referrals/$id\""
    echo "output = \"/dev/null\""
    echo "header = \"Authorization: Bearer $key\""
    echo "next"
    echo "url = \"$base/referrals/$id\""
    echo "output = \"/dev/null\""
    echo "header = \"Authorization: Bearer $key\""
    echo "header = \"Content-Type: application/json\""
    echo "request = \"PUT\""
    echo "data = \"{\\\"status\\\":\\\"verified\\\",\\\"verified_at\\\":\\\"$stamp\\\"}\""
done <"$work/curl.ids" >"$work/curl.config"
started=$(now)
curl -sf --no-progress-meter --parallel --parallel-max 8 -K "$work/curl.config"
curl_s=$(since "$started")
verified=$(while read -r id; do curl -sf -H "Authorization: Bearer $key" "$base/referrals/$id"; echo; done <"$work/curl.ids" | grep -c '"status":"verified"' || true)
[[ $verified == "$rows" ]] || echo "warning: curl verified $verified of $rows" >&2

echo "referrals: $seed; rows: $rows"
echo "console bulk verify:         $console_s s  ($summary)"
echo "curl GET + PUT, 8 transfers: $curl_s s  → console is $(awk "BEGIN { printf \"%.2f\", $console_s / $curl_s }")×"
