# Sourced by the benchmark scripts: builds referee in release and serves `referee serve --seed N`
# on a free port with a fresh database in a temporary folder and no rate limit. Sets `referee`,
# `work`, `base` (the v1 base URL) and `key`; the server is stopped and the folder removed on exit.

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
key=sk_bench

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

now() { date +%s.%N; }
since() { awk "BEGIN { printf \"%.2f\", $(now) - $1 }"; }

# serve SEED: seeds SEED referrals and waits until the sandbox answers.
serve() {
    local port
    while :; do
        port=$((20000 + RANDOM % 40000))
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || break
    done
    base=http://127.0.0.1:$port/api/v1
    echo "seeding $1 referrals and serving on $base…" >&2
    local started
    started=$(now)
    REFEREE_HOME=$work REFEREE_LOG=warn "$referee" serve --addr "127.0.0.1:$port" --db "$work/sandbox.db" \
        --seed "$1" --api-key "$key" --rate-limit 1000000000 2>"$work/serve.log" &
    server=$!
    until curl -sf -o /dev/null -H "Authorization: Bearer $key" "$base/referrals?limit=1"; do
        if ! kill -0 "$server" 2>/dev/null; then cat "$work/serve.log" >&2; exit 1; fi
        sleep 0.2
    done
    echo "ready in $(since "$started") s" >&2
}
