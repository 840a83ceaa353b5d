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
key=sk_bench
root=$(cd "$(dirname "$0")/.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}

echo "building referee (release)…" >&2
(cd "$root" && cargo build --release --quiet)
referee=$target/release/referee

work=$(mktemp -d)
server=
cleanup() {
    if [[ -n $server ]]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

# A port nothing answers on.
while :; do
    port=$((20000 + RANDOM % 40000))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || break
done
base=http://127.0.0.1:$port/api/v1

echo "seeding $seed referrals and serving on $base…" >&2
seeding_started=$(date +%s.%N)
REFEREE_HOME=$work REFEREE_LOG=warn "$referee" serve --addr "127.0.0.1:$port" --db "$work/sandbox.db" \
    --seed "$seed" --api-key "$key" --rate-limit 1000000000 2>"$work/serve.log" &
server=$!
until curl -sf -o /dev/null -H "Authorization: Bearer $key" "$base/referrals?limit=1"; do
    if ! kill -0 "$server" 2>/dev/null; then cat "$work/serve.log" >&2; exit 1; fi
    sleep 0.2
done
echo "ready in $(awk "BEGIN { printf \"%.1f\", $(date +%s.%N) - $seeding_started }") s" >&2

now() { date +%s.%N; }
since() { awk "BEGIN { printf \"%.2f\", $(now) - $1 }"; }

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
