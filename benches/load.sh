#!/usr/bin/env bash
# The load benchmark (tracker issue 11): how long the console takes to load every referral of
# `referee serve --seed N` over Referral API v1, against curl fetching the same pages of 100.
#
#   benches/load.sh [SEED]        SEED referrals, 100000 by default
#
# Builds referee in release (honours CARGO_TARGET_DIR), starts the sandbox on a free port with a
# fresh database in a temporary folder and no rate limit, then prints:
#   - the console's full load (`referee --exit-after-load`: the real app loop, off screen), with
#     its peak memory (VmHWM);
#   - curl over the same ceil((SEED+1)/100) pages, 8 processes in parallel, and one curl
#     process with 8 transfers in parallel (kept-alive connections) when curl supports it;
#   - the console's time as a multiple of each.
# Over v1 the console also fetches the ambassadors (users), which curl does not; impressions are
# read one at a time when a referral is opened, never during the load. See README "Performance".
set -euo pipefail

seed=${1:-100000}
source "$(dirname "$0")/sandbox.sh"
serve "$seed"

# The console.
started=$(now)
console=$(REFEREE_HOME=$work REFEREE_API_KEY=$key "$referee" --base-url "$base" --exit-after-load 2>&1 >/dev/null | tail -1)
console_s=$(since "$started")

# The same pages by curl.
offsets=$(seq 0 100 "$seed")
pages=$(wc -l <<<"$offsets")
started=$(now)
xargs -P 8 -I{} curl -sf -o /dev/null -H "Authorization: Bearer $key" "$base/referrals?limit=100&offset={}" <<<"$offsets"
curl8_s=$(since "$started")
parallel_s=
if curl --help all 2>/dev/null | grep -q -- --parallel-max; then
    for offset in $offsets; do
        echo "url = \"$base/referrals?limit=100&offset=$offset\""
        echo "output = \"/dev/null\""
    done >"$work/curl.config"
    started=$(now)
    curl -sf --parallel --parallel-max 8 -H "Authorization: Bearer $key" -K "$work/curl.config" 2>/dev/null
    parallel_s=$(since "$started")
fi

ratio() { awk "BEGIN { printf \"%.2f\", $console_s / $1 }"; }
echo "referrals: $seed ($pages pages of 100)"
echo "console:                     $console_s s  ($console)"
echo "curl, 8 processes at once:   $curl8_s s  → console is $(ratio "$curl8_s")×"
if [[ -n $parallel_s ]]; then
    echo "one curl, 8 transfers:       $parallel_s s  → console is $(ratio "$parallel_s")×"
fi
