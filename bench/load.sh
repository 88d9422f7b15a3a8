#!/usr/bin/env bash
# Load benchmark: builds release, seeds organizations through the service layer, starts the
# server and drives HTTP load with wrk from a second process, on SQLite and on PostgreSQL.
# Writes the table to bench/results.md.   Usage: bash bench/load.sh
# Environment: ORGS (20), BIG_ORGS (2), BIG_SCALE (10), DURATION (10s), CONNECTIONS (16),
# BACKENDS ("sqlite postgres"), PG_ADMIN_URL (postgres://postgres@127.0.0.1:5432/postgres),
# PG_OPTIONS (?sslmode=disable: the server reaches the database over loopback, without TLS).
set -euo pipefail
cd "$(dirname "$0")/.."

ORGS=${ORGS:-20}
BIG_ORGS=${BIG_ORGS:-2}
BIG_SCALE=${BIG_SCALE:-10}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-16}
BACKENDS=${BACKENDS:-"sqlite postgres"}
PG_ADMIN_URL=${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
PG_OPTIONS=${PG_OPTIONS-?sslmode=disable}
PORT=${PORT:-18089}
BASE="http://127.0.0.1:$PORT"
SECRET="load-benchmark-secret-0123456789abcdef"
PASSWORD="seeded password 1"
OUT=bench/results.md
WORK=$(mktemp -d)
SERVER_PID=""
PG_DB=""

cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
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
rss_mb() { awk '/^VmRSS/ {printf "%d", $2 / 1024}' "/proc/$SERVER_PID/status"; }
anon_mb() { awk '/^RssAnon/ {printf "%d", $2 / 1024}' "/proc/$SERVER_PID/status"; }
hwm_mb() { awk '/^VmHWM/ {printf "%d", $2 / 1024}' "/proc/$SERVER_PID/status"; }

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

# Starts the release server on $URL (extra settings from the caller's environment).
start_server() {
  # As in the Dockerfile: glibc returns Argon2's 19 MiB buffers after each login.
  MALLOC_MMAP_THRESHOLD_=131072 ANNEXA_DATABASE_URL="$URL" ANNEXA_BIND="127.0.0.1:$PORT" RUST_LOG=warn \
    ANNEXA_JWT_SECRET="$SECRET" target/release/annexa serve >"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 120); do curl -sf "$BASE/readyz" >/dev/null && break; sleep 0.5; done
  curl -sf "$BASE/readyz" >/dev/null
  sleep 1
}

# VACUUM (ANALYZE), then CHECKPOINT, on the benchmark's PostgreSQL database.
vacuum_postgres() {
  psql "${PG_ADMIN_URL%/*}/$PG_DB" -qc "VACUUM (ANALYZE)" -qc "CHECKPOINT" >/dev/null
}

stop_server() {
  kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""
}

# measure NAME METHOD PATH TOKEN [BODY] [CONTENT_TYPE] → a table row
measure() {
  local name=$1 method=$2 path=$3 token=$4 body=${5:-} ctype=${6:-application/json} log="$WORK/wrk.log"
  WRK_METHOD=$method WRK_BODY=$body WRK_TOKEN=$token WRK_TOKENS=${TOKENS:-} WRK_CONTENT_TYPE=$ctype \
    wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency -s bench/request.lua "$BASE$path" >"$log" 2>&1
  local rps p50 p99 errors
  rps=$(awk '/^Requests\/sec/ {print $2}' "$log")
  p50=$(awk '$1 == "50%" {print $2}' "$log")
  p99=$(awk '$1 == "99%" {print $2}' "$log")
  errors=$(awk '/Non-2xx or 3xx responses/ {print $5}' "$log")
  if [ -n "$errors" ]; then
    echo "FAILED: $name answered $errors non-2xx responses" >&2
    cat "$log" >&2
    exit 1
  fi
  if [ "$name" = "GET /healthz" ]; then HEALTHZ_RPS=$rps; fi
  local ratio
  ratio=$(python3 -c "print(f'{float(\"$rps\") / float(\"$HEALTHZ_RPS\"):.3f}')")
  printf '| %s | %s | %s | %s | %s | %s | %s MB | %s MB |\n' "$BACKEND" "$name" "$rps" "$p50" "$p99" "$ratio" "$(hwm_mb)" "$(anon_mb)" \
    | tee -a "$WORK/rows.md"
}

: >"$WORK/rows.md"
: >"$WORK/notes.md"
for BACKEND in $BACKENDS; do
  case $BACKEND in
    sqlite) URL="sqlite://$WORK/load.db" ;;
    postgres)
      PG_DB="annexa_load_$(date +%s)"
      psql "$PG_ADMIN_URL" -qc "CREATE DATABASE $PG_DB" >/dev/null
      URL="${PG_ADMIN_URL%/*}/$PG_DB$PG_OPTIONS"
      ;;
    *) echo "unknown backend $BACKEND" >&2; exit 1 ;;
  esac
  echo "== $BACKEND: seeding $ORGS organizations at 1× and $BIG_ORGS at ${BIG_SCALE}×"
  start=$(date +%s)
  RUST_LOG=warn target/release/examples/seed "$URL" "$ORGS" 1 "$BIG_ORGS" "$BIG_SCALE" | grep '^org=' >"$WORK/seed.out"
  seeded_in=$(( $(date +%s) - start ))
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
  ORG=$(field org "$SMALL")
  CONTROL=$(field control "$SMALL")
  READ_TOKEN=$(mint "$(field auditor "$SMALL")")
  WRITE_TOKEN=$(mint "$(field editor "$SMALL")")
  LOGIN_EMAIL=$(field auditor_email "$SMALL")

  start_server
  idle=$(rss_mb)

  measure "GET /healthz" GET /healthz ""
  measure "GET …/readiness/iso27001-2022" GET "/api/v1/organizations/$ORG/readiness/iso27001-2022" "$READ_TOKEN"
  measure "GET …/controls?limit=100" GET "/api/v1/organizations/$ORG/controls?limit=100" "$READ_TOKEN"
  # The same page for many callers: each request carries the next of 64 tokens (one per caller),
  # so concurrent requests seldom share the lookup of their caller.
  TOKENS=$(for _ in $(seq 1 64); do mint "$(field auditor "$SMALL")"; done | tr '\n' ' ') \
    measure "GET …/controls?limit=100 (64 callers)" GET "/api/v1/organizations/$ORG/controls?limit=100" ""
  measure "GET …/evidence?limit=100" GET "/api/v1/organizations/$ORG/evidence?limit=100" "$READ_TOKEN"
  measure "PATCH …/controls/{id}" PATCH "/api/v1/organizations/$ORG/controls/$CONTROL" "$WRITE_TOKEN" '{"notes": "load test %d"}'
  measure "POST …/findings" POST "/api/v1/organizations/$ORG/findings" "$WRITE_TOKEN" \
    '{"title": "Load finding %d", "type": "observation", "source": "automated_check"}'
  measure "POST /auth/token (password)" POST /api/v1/auth/token "" \
    "grant_type=password&username=$LOGIN_EMAIL&password=seeded%20password%201" application/x-www-form-urlencoded

  if [ "$BACKEND" = postgres ]; then
    # Autovacuum's work after the write runs' ~25,000 row updates: without it (it is off on this
    # machine), the 10× readiness reads after them measured ~20 % slower.
    vacuum_postgres
  fi
  # How the readiness request and list pages grow with the organization's size.
  if [ -n "$BIG" ]; then
    BIG_ORG=$(field org "$BIG")
    BIG_TOKEN=$(mint "$(field auditor "$BIG")")
    scale=$(field scale "$BIG")
    measure "GET …/readiness/iso27001-2022 (${scale}× org)" GET "/api/v1/organizations/$BIG_ORG/readiness/iso27001-2022" "$BIG_TOKEN"
    measure "GET …/evidence?limit=100 (${scale}× org)" GET "/api/v1/organizations/$BIG_ORG/evidence?limit=100" "$BIG_TOKEN"
  fi
  echo "- $BACKEND: seeded in ${seeded_in} s; idle RSS after start ${idle} MB, peak $(hwm_mb) MB, anonymous at the end $(anon_mb) MB" | tee -a "$WORK/notes.md"
  stop_server

  # What a control-list page costs when it is rendered (after every change, or a query not asked
  # before): the same request with the page cache turned off.
  ANNEXA_PAGE_CACHE_MB=0 start_server
  measure "GET …/controls?limit=100 (page cache off)" GET "/api/v1/organizations/$ORG/controls?limit=100" "$READ_TOKEN"
  stop_server
done

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
def ms(text):  # wrk's latency: 815.00us, 1.31ms, 1.02s
    number, unit = re.fullmatch(r"([\d.]+)([a-z]+)", text).groups()
    return float(number) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

names = [n for (b, n) in rows if b == "sqlite" and ("postgres", n) in rows]
if names:
    print()
    print("## PostgreSQL against SQLite in this run")
    print()
    print("| endpoint | SQLite req/s (ratio) | PostgreSQL req/s (ratio) | PG / SQLite req/s | PG / SQLite ratio |")
    print("| --- | --- | --- | --- | --- |")
    for n in names:
        share = "—" if n == "GET /healthz" else f"{ratio('postgres', n) / ratio('sqlite', n):.0%}"
        print(f"| {n} | {rps('sqlite', n):,.0f} ({ratio('sqlite', n):.3f}) | "
              f"{rps('postgres', n):,.0f} ({ratio('postgres', n):.3f}) | "
              f"{rps('postgres', n) / rps('sqlite', n):.0%} | {share} |")

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
  echo "Last run $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, \`bash bench/load.sh\` (wrk -t1 -c$CONNECTIONS -d$DURATION on the same machine as the server)."
  echo "Dataset per backend: $ORGS organizations at 1× (3 frameworks adopted: 288 controls, 5,000 evidence, 1,000 findings each)"
  echo "and $BIG_ORGS at ${BIG_SCALE}×, seeded through the service layer; requests go to a 1× organization unless marked."
  echo "Ratio: throughput / \`GET /healthz\` throughput of the same run. Peak RSS: the server's peak resident set so far"
  echo "(on SQLite it includes the database pages mapped with \`mmap_size\`); anon: its anonymous (heap) memory after the endpoint's run."
  echo "PostgreSQL: the local server over loopback TCP, connection options \`${PG_OPTIONS:-none}\`, \`VACUUM (ANALYZE)\` and \`CHECKPOINT\`"
  echo "after the seed and after the write runs; SQLite: \`PRAGMA wal_checkpoint(TRUNCATE)\` after the seed"
  echo "(autovacuum on this server: $(psql "$PG_ADMIN_URL" -Atc 'SHOW autovacuum' 2>/dev/null || echo unknown))."
  echo
  echo "| backend | endpoint | req/s | p50 | p99 | ratio to /healthz | peak RSS | anon RSS |"
  echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
  cat "$WORK/rows.md"
  echo
  cat "$WORK/notes.md"
  summary "$WORK/rows.md" "$WORK/notes.md"
} >"$OUT"
echo "wrote $OUT"
