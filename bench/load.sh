#!/usr/bin/env bash
# Load benchmark: builds release, seeds organizations through the service layer, starts the
# server and drives HTTP load with wrk from a second process, on SQLite and on PostgreSQL.
# The backends' servers run side by side and take turns: each endpoint is measured in ROUNDS
# alternating runs per backend (the machine's speed drifts by tens of percent within minutes,
# so a comparison of runs made minutes apart measures the drift), and the median run is kept.
# Writes the table to bench/results.md.   Usage: bash bench/load.sh
# Environment: ORGS (20), BIG_ORGS (2), BIG_SCALE (10), DURATION (4s, one run), ROUNDS (5),
# CONNECTIONS (16), BACKENDS ("sqlite postgres"),
# PG_ADMIN_URL (postgres://postgres@127.0.0.1:5432/postgres),
# PG_OPTIONS (?sslmode=disable: the server reaches the database over loopback, without TLS).
set -euo pipefail
cd "$(dirname "$0")/.."

ORGS=${ORGS:-20}
BIG_ORGS=${BIG_ORGS:-2}
BIG_SCALE=${BIG_SCALE:-10}
DURATION=${DURATION:-4s}
ROUNDS=${ROUNDS:-5}
CONNECTIONS=${CONNECTIONS:-16}
BACKENDS=${BACKENDS:-"sqlite postgres"}
PG_ADMIN_URL=${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
PG_OPTIONS=${PG_OPTIONS-?sslmode=disable}
PORT=${PORT:-18089}
SECRET="load-benchmark-secret-0123456789abcdef"
OUT=bench/results.md
WORK=$(mktemp -d)
PG_DB=""
# Per backend: the server's pid and port, its database URL, the seeded organization's ids and tokens.
declare -A PID BASE URL ORG CONTROL READ_TOKEN WRITE_TOKEN LOGIN_EMAIL TOKENS64 BIG_ORG BIG_TOKEN SEEDED IDLE

cleanup() {
  for b in "${!PID[@]}"; do
    if [ -n "${PID[$b]}" ]; then kill "${PID[$b]}" 2>/dev/null || true; wait "${PID[$b]}" 2>/dev/null || true; fi
  done
  if [ -n "$PG_DB" ]; then psql "$PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null 2>&1 || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

if ! command -v wrk >/dev/null 2>&1; then
  echo "installing wrk (Debian package)"
  apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi

echo "building release"
cargo build --release --locked --bin annexa --example seed

field() { grep -o "$1=[^ ]*" <<<"$2" | head -n 1 | cut -d= -f2; }
# The resident set of backend $1's server: now, anonymous (heap) and peak, in MB.
rss_mb() { awk '/^VmRSS/ {printf "%d", $2 / 1024}' "/proc/${PID[$1]}/status"; }
anon_mb() { awk '/^RssAnon/ {printf "%d", $2 / 1024}' "/proc/${PID[$1]}/status"; }
hwm_mb() { awk '/^VmHWM/ {printf "%d", $2 / 1024}' "/proc/${PID[$1]}/status"; }

# An HS256 access token for a user, signed with the benchmark's secret (stdlib only).
mint() {
  python3 - "$1" "$SECRET" <<'PY'
import base64, hashlib, hmac, json, sys, time, uuid
def b64(data): return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
now = int(time.time())
header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
claims = b64(json.dumps({"iss": "urn:annexa", "aud": "urn:annexa:api", "sub": "user:" + sys.argv[1],
                         "iat": now, "exp": now + 3600, "jti": str(uuid.uuid4())}).encode())
signature = b64(hmac.new(sys.argv[2].encode(), f"{header}.{claims}".encode(), hashlib.sha256).digest())
print(f"{header}.{claims}.{signature}")
PY
}

# Starts backend $1's release server on its own port (extra settings from the caller's environment).
start_server() {
  local b=$1 port=$((PORT + $2))
  BASE[$b]="http://127.0.0.1:$port"
  # As in the Dockerfile: glibc returns Argon2's 9 MiB buffers after each login.
  MALLOC_MMAP_THRESHOLD_=131072 ANNEXA_DATABASE_URL="${URL[$b]}" ANNEXA_BIND="127.0.0.1:$port" RUST_LOG=warn \
    ANNEXA_JWT_SECRET="$SECRET" ANNEXA_RATE_LIMIT_PER_MINUTE=0 ANNEXA_TOKEN_RATE_LIMIT_PER_MINUTE=0 target/release/annexa serve >"$WORK/server-$b.log" 2>&1 &
  PID[$b]=$!
  for _ in $(seq 1 120); do curl -sf "${BASE[$b]}/readyz" >/dev/null && break; sleep 0.5; done
  curl -sf "${BASE[$b]}/readyz" >/dev/null
}

# Starts every backend's server, then lets them settle.
start_servers() {
  local i=0
  for b in $BACKENDS; do start_server "$b" "$i"; i=$((i + 1)); done
  sleep 1
}

stop_servers() {
  for b in $BACKENDS; do
    kill "${PID[$b]}"; wait "${PID[$b]}" 2>/dev/null || true; PID[$b]=""
  done
}

# VACUUM (ANALYZE), then CHECKPOINT, on the benchmark's PostgreSQL database.
vacuum_postgres() {
  psql "${PG_ADMIN_URL%/*}/$PG_DB" -qc "VACUUM (ANALYZE)" -qc "CHECKPOINT" >/dev/null
}

# One wrk run against backend $1 (with $path, $token, $tokens, $body, $ctype, $method set by
# `measure`): "req/s p50 p99" appended to the file $runs.$1.
run_once() {
  local b=$1 log="$WORK/wrk.log"
  WRK_METHOD=$method WRK_BODY=$body WRK_TOKEN=$token WRK_TOKENS=$tokens WRK_CONTENT_TYPE=$ctype \
    wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency -s bench/request.lua "${BASE[$b]}$path" >"$log" 2>&1
  local errors
  errors=$(awk '/Non-2xx or 3xx responses/ {print $5}' "$log")
  if [ -n "$errors" ]; then
    echo "FAILED: $name on $b answered $errors non-2xx responses" >&2
    cat "$log" >&2
    exit 1
  fi
  awk '/^Requests\/sec/ {rps = $2} $1 == "50%" {p50 = $2} $1 == "99%" {p99 = $2} END {print rps, p50, p99}' "$log" >>"$runs.$b"
}

# measure NAME METHOD PATH TOKEN_ARRAY [BODY] [CONTENT_TYPE] [TOKENS_ARRAY] → a table row per backend.
# PATH and BODY may hold {org}, {control}, {big_org} and {email}, replaced by each backend's own
# seeded ids; TOKEN_ARRAY and TOKENS_ARRAY name the per-backend arrays of tokens (or are empty).
# The backends take turns, ROUNDS runs each, the first backend alternating; the run with the
# median throughput is the row, and every run's throughput is listed after it.
measure() {
  local name=$1 method=$2 path_t=$3 token_a=$4 body_t=${5:-} ctype=${6:-application/json} tokens_a=${7:-}
  local runs path token tokens body order round b ref
  runs="$WORK/runs.$(date +%s%N)"
  for round in $(seq 1 "$ROUNDS"); do
    order=$BACKENDS
    if [ $((round % 2)) -eq 0 ]; then order=$(tr ' ' '\n' <<<"$BACKENDS" | tac | tr '\n' ' '); fi
    for b in $order; do
      path=$(fill "$path_t" "$b")
      body=$(fill "$body_t" "$b")
      token=""; tokens=""
      if [ -n "$token_a" ]; then ref="$token_a[$b]"; token=${!ref}; fi
      if [ -n "$tokens_a" ]; then ref="$tokens_a[$b]"; tokens=${!ref}; fi
      run_once "$b"
    done
  done
  for b in $BACKENDS; do
    local median rps p50 p99 all ratio
    median=$(sort -n "$runs.$b" | sed -n "$(( (ROUNDS + 1) / 2 ))p")
    read -r rps p50 p99 <<<"$median"
    all=$(awk '{printf "%s%d", (NR > 1 ? " " : ""), $1}' "$runs.$b")
    if [ "$name" = "GET /healthz" ]; then HEALTHZ_RPS[$b]=$rps; fi
    ratio=$(python3 -c "print(f'{float(\"$rps\") / float(\"${HEALTHZ_RPS[$b]}\"):.3f}')")
    printf '| %s | %s | %s | %s | %s | %s | %s MB | %s MB | %s |\n' "$b" "$name" "$rps" "$p50" "$p99" "$ratio" \
      "$(hwm_mb "$b")" "$(anon_mb "$b")" "$all" | tee -a "$WORK/rows.md"
  done
}
declare -A HEALTHZ_RPS

# $1 with backend $2's seeded ids in place of {org}, {control}, {big_org} and {email}.
fill() {
  local text=$1 b=$2
  text=${text//\{org\}/${ORG[$b]}}
  text=${text//\{control\}/${CONTROL[$b]}}
  text=${text//\{big_org\}/${BIG_ORG[$b]:-}}
  printf '%s' "${text//\{email\}/${LOGIN_EMAIL[$b]}}"
}

: >"$WORK/rows.md"
: >"$WORK/notes.md"
for BACKEND in $BACKENDS; do
  case $BACKEND in
    sqlite) URL[$BACKEND]="sqlite://$WORK/load.db" ;;
    postgres)
      PG_DB="annexa_load_$(date +%s)"
      psql "$PG_ADMIN_URL" -qc "CREATE DATABASE $PG_DB" >/dev/null
      URL[$BACKEND]="${PG_ADMIN_URL%/*}/$PG_DB$PG_OPTIONS"
      ;;
    *) echo "unknown backend $BACKEND" >&2; exit 1 ;;
  esac
  echo "== $BACKEND: seeding $ORGS organizations at 1× and $BIG_ORGS at ${BIG_SCALE}×"
  start=$(date +%s)
  RUST_LOG=warn target/release/examples/seed "${URL[$BACKEND]}" "$ORGS" 1 "$BIG_ORGS" "$BIG_SCALE" | grep '^org=' >"$WORK/seed.out"
  SEEDED[$BACKEND]=$(( $(date +%s) - start ))
  if [ "$BACKEND" = postgres ]; then
    # What autovacuum does on a production server after a bulk load (it is off on some machines,
    # this one included): without it, reads keep walking the dead row versions the seed left.
    # Then a checkpoint, so that writing back the seed's pages (a spread checkpoint, minutes
    # long) does not run during the measurements.
    vacuum_postgres
  else
    # The same for SQLite: the seed's last pages written back into the database file.
    python3 -c 'import sqlite3, sys; sqlite3.connect(sys.argv[1]).execute("PRAGMA wal_checkpoint(TRUNCATE)")' "$WORK/load.db"
  fi
  SMALL=$(awk '/ scale=1 / {print; exit}' "$WORK/seed.out")
  BIG=$(grep -v ' scale=1 ' "$WORK/seed.out" | head -n 1 || true)
  ORG[$BACKEND]=$(field org "$SMALL")
  CONTROL[$BACKEND]=$(field control "$SMALL")
  READ_TOKEN[$BACKEND]=$(mint "$(field auditor "$SMALL")")
  WRITE_TOKEN[$BACKEND]=$(mint "$(field editor "$SMALL")")
  LOGIN_EMAIL[$BACKEND]=$(field auditor_email "$SMALL")
  # 64 tokens of one auditor (one per caller), each request carrying the next.
  TOKENS64[$BACKEND]=$(for _ in $(seq 1 64); do mint "$(field auditor "$SMALL")"; done | tr '\n' ' ')
  if [ -n "$BIG" ]; then
    BIG_ORG[$BACKEND]=$(field org "$BIG")
    BIG_TOKEN[$BACKEND]=$(mint "$(field auditor "$BIG")")
    BIG_SCALE_SEEN=$(field scale "$BIG")
  fi
done

echo "== measuring (${ROUNDS} runs of $DURATION per endpoint and backend, the backends taking turns)"
start_servers
for b in $BACKENDS; do IDLE[$b]=$(rss_mb "$b"); done

measure "GET /healthz" GET /healthz ""
measure "GET …/readiness/iso27001-2022" GET "/api/v1/organizations/{org}/readiness/iso27001-2022" READ_TOKEN
measure "GET …/controls?limit=100" GET "/api/v1/organizations/{org}/controls?limit=100" READ_TOKEN
# The same page for many callers: each request carries the next of 64 tokens (one per caller),
# so concurrent requests seldom share the lookup of their caller.
measure "GET …/controls?limit=100 (64 callers)" GET "/api/v1/organizations/{org}/controls?limit=100" "" "" "" TOKENS64
measure "GET …/evidence?limit=100" GET "/api/v1/organizations/{org}/evidence?limit=100" READ_TOKEN
# The risk register (100 risks on 200 assets at 1×).
measure "GET …/risks?limit=100" GET "/api/v1/organizations/{org}/risks?limit=100" READ_TOKEN
measure "GET …/risk-treatment-plan" GET "/api/v1/organizations/{org}/risk-treatment-plan" READ_TOKEN
measure "PATCH …/controls/{id}" PATCH "/api/v1/organizations/{org}/controls/{control}" WRITE_TOKEN '{"notes": "load test %d"}'
measure "POST …/findings" POST "/api/v1/organizations/{org}/findings" WRITE_TOKEN \
  '{"title": "Load finding %d", "type": "observation", "source": "automated_check"}'
measure "POST /auth/token (password)" POST /api/v1/auth/token "" \
  "grant_type=password&username={email}&password=seeded%20password%201" application/x-www-form-urlencoded

if [[ " $BACKENDS " == *" postgres "* ]]; then
  # Autovacuum's work after the write runs' row updates: without it (it is off on this
  # machine), the 10× readiness reads after them measured ~20 % slower.
  vacuum_postgres
fi
# How the readiness request and list pages grow with the organization's size.
if [ -n "${BIG_SCALE_SEEN:-}" ]; then
  measure "GET …/readiness/iso27001-2022 (${BIG_SCALE_SEEN}× org)" GET "/api/v1/organizations/{big_org}/readiness/iso27001-2022" BIG_TOKEN
  measure "GET …/evidence?limit=100 (${BIG_SCALE_SEEN}× org)" GET "/api/v1/organizations/{big_org}/evidence?limit=100" BIG_TOKEN
fi
for b in $BACKENDS; do
  echo "- $b: seeded in ${SEEDED[$b]} s; idle RSS after start ${IDLE[$b]} MB, peak $(hwm_mb "$b") MB, anonymous at the end $(anon_mb "$b") MB" | tee -a "$WORK/notes.md"
done
stop_servers

# What a control-list page costs when it is rendered (after every change, or a query not asked
# before): the same request with the cache turned off (its control stats are then aggregated
# for every request too).
ANNEXA_CACHE_MB=0 start_servers
measure "GET …/controls?limit=100 (cache off)" GET "/api/v1/organizations/{org}/controls?limit=100" READ_TOKEN
stop_servers

# After the table: PostgreSQL against SQLite per endpoint, in throughputs and in ratios to /healthz
# (the machine's speed drifts between the two backends' runs, so both are shown), then the
# performance issue's targets checked against the rows and the idle RSS notes.
summary() {
  python3 - "$1" "$2" <<'PY'
import re, sys
rows, idle = {}, {}
for line in open(sys.argv[1]):
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    if len(cells) >= 7:
        rows[(cells[0], cells[1])] = cells
for line in open(sys.argv[2]):
    m = re.match(r"- (\w+): .*idle RSS after start (\d+) MB", line)
    if m:
        idle[m.group(1)] = int(m.group(2))
def rps(backend, name):
    return float(rows[(backend, name)][2]) if (backend, name) in rows else None
def ratio(backend, name):
    return float(rows[(backend, name)][5])
def runs(backend, name):  # every run's req/s, in round order
    return [float(v) for v in rows[(backend, name)][8].split()]
def ms(text):  # wrk's latency: 815.00us, 1.31ms, 1.02s
    number, unit = re.fullmatch(r"([\d.]+)([a-z]+)", text).groups()
    return float(number) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

names = [n for (b, n) in rows if b == "sqlite" and ("postgres", n) in rows]
if names:
    print()
    print("## PostgreSQL against SQLite in this run")
    print()
    print("Medians of the alternating runs; the last column pairs each PostgreSQL run with the SQLite run of")
    print("the same round (run next to it in time).")
    print()
    print("| endpoint | SQLite req/s (ratio) | PostgreSQL req/s (ratio) | PG / SQLite req/s | PG / SQLite ratio | PG / SQLite run by run |")
    print("| --- | --- | --- | --- | --- | --- |")
    for n in names:
        share = "—" if n == "GET /healthz" else f"{ratio('postgres', n) / ratio('sqlite', n):.0%}"
        pairs = [p / q for p, q in zip(runs("postgres", n), runs("sqlite", n))]
        spread = f"{min(pairs):.0%}–{max(pairs):.0%}" if pairs else "—"
        print(f"| {n} | {rps('sqlite', n):,.0f} ({ratio('sqlite', n):.3f}) | "
              f"{rps('postgres', n):,.0f} ({ratio('postgres', n):.3f}) | "
              f"{rps('postgres', n) / rps('sqlite', n):.0%} | {share} | {spread} |")

checks = []
def check(what, value, shown, ok):
    checks.append(f"| {what} | {shown if value is not None else 'not measured'} | {'met' if value is not None and ok else 'NOT met'} |")
v = rps("sqlite", "GET …/controls?limit=100")
check("SQLite `GET …/controls?limit=100` ≥ 4,000 req/s", v, f"{v:,.0f} req/s" if v else "", v and v >= 4000)
name = "GET …/readiness/iso27001-2022"
v = rps("sqlite", name)
p99 = ms(rows[("sqlite", name)][4]) if v else None
check("SQLite readiness (1×) ≥ 1,500 req/s, p99 < 25 ms", v, f"{v:,.0f} req/s, p99 {p99:.2f} ms" if v else "", v and v >= 1500 and p99 < 25)
for name in ("PATCH …/controls/{id}", "POST …/findings"):
    v = rps("sqlite", name)
    check(f"SQLite `{name}` ≥ 1,000 req/s", v, f"{v:,.0f} req/s" if v else "", v and v >= 1000)
peak = max((int(c[6].split()[0]) for (b, _), c in rows.items() if b == "sqlite"), default=None)
check("SQLite server RSS under load < 100 MB", peak, f"{peak} MB peak", peak is not None and peak < 100)
check("SQLite server RSS idle < 30 MB", idle.get("sqlite"), f"{idle.get('sqlite')} MB", idle.get("sqlite", 99) < 30)
reads = [n for n in names if n.startswith("GET …")]
worst = min(reads, key=lambda n: rps("postgres", n) / rps("sqlite", n), default=None)
if worst:
    share = rps("postgres", worst) / rps("sqlite", worst)
    by_ratio = ratio("postgres", worst) / ratio("sqlite", worst)
    check("PostgreSQL ≥ 70 % of SQLite on every read endpoint (req/s)", share,
          f"lowest {share:.1%} ({worst}; {by_ratio:.1%} in ratios to /healthz)", share >= 0.70)
print()
print("## Targets (performance issue)")
print()
print("| target | this run | |")
print("| --- | --- | --- |")
print("\n".join(checks))
PY
}

{
  echo "# Load benchmark results"
  echo
  echo "Last run $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, \`bash bench/load.sh\`: wrk -t1 -c$CONNECTIONS on the same machine as the servers."
  echo "Dataset per backend: $ORGS organizations at 1× (3 frameworks adopted: 288 controls, 5,000 evidence, 1,000 findings each)"
  echo "and $BIG_ORGS at ${BIG_SCALE}×, seeded through the service layer; requests go to a 1× organization unless marked."
  echo "Both backends' servers run side by side and take turns: per endpoint $ROUNDS runs of $DURATION each, alternating"
  echo "(the first backend alternates too); a row is the run with the median throughput, and its last column lists every run's."
  echo "Ratio: throughput / \`GET /healthz\` throughput of the same backend. Peak RSS: the server's peak resident set so far"
  echo "(on SQLite it includes the database pages mapped with \`mmap_size\`); anon: its anonymous (heap) memory after the endpoint's runs."
  echo "PostgreSQL: the local server over loopback TCP, connection options \`${PG_OPTIONS:-none}\`, \`VACUUM (ANALYZE)\` and \`CHECKPOINT\`"
  echo "after the seed and after the write runs; SQLite: \`PRAGMA wal_checkpoint(TRUNCATE)\` after the seed"
  echo "(autovacuum on this server: $(psql "$PG_ADMIN_URL" -Atc 'SHOW autovacuum' 2>/dev/null || echo unknown))."
  echo
  echo "| backend | endpoint | req/s | p50 | p99 | ratio to /healthz | peak RSS | anon RSS | req/s of each run |"
  echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
  cat "$WORK/rows.md"
  echo
  cat "$WORK/notes.md"
  summary "$WORK/rows.md" "$WORK/notes.md"
} >"$OUT"
echo "wrote $OUT"
