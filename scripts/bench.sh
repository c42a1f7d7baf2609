#!/usr/bin/env bash
# Throughput benchmarks, end to end, appended as a dated section to
# BENCHMARKS.md (`make bench` runs `make build up` first).
#
# Everything runs against a separate database (tiershift_bench, recreated)
# and a separate Temporal dev server on port 7300 (never the one on 7233 that
# the tests use); what this script starts it stops.
#
#   BENCH_IMPORT_SIZES="100000 1000000"  partners per import run
#   BENCH_LAUNCH_N=20000                 workflows started per launch run
#   BENCH_LAUNCH_CONCURRENCY="32 64"     benchstart baseline concurrencies (best is kept)
#   BENCH_LAUNCH_MODES="memory file"     dev server in memory and/or file-backed (SQLite)
#   BENCH_WAVE_N=2000                    partners falling due at the same minute
#   BENCH_WAVE_RATES="0 100"             TIERSHIFT_EMAIL_RATE per wave run
#   BENCH_WAVE_GRACE="4 minutes"         launch to deadline: long enough to launch and announce all
#   BENCH_WAVE_REMINDERS="[1 minute]"    reminders before the deadline ("[]" for none)
#   BENCH_WAVE_TIMEOUT=1800              seconds after the deadline before giving up
#   BENCH_WAVE_WORKERS="1"               worker processes per wave run ("1 2": one run each)
#   BENCH_WAVE_YARDSTICK=1               after each wave, tools/benchwave on a fresh server of the same kind (0: skip)
#   BENCH_TEMPORAL=dev                   the wave's server: dev (start-dev, in memory) or cluster
#                                        (scripts/cluster.sh: 4 services on PostgreSQL, 8 shards, a fresh
#                                        one per run in .dev/bench-cluster and databases BENCH_DB_temporal*)
#   BENCH_CLUSTER_PORT_BASE=7350         that cluster's frontend port (the next 8, and +10..+14, too)
#   BENCH_PIN=0                          1: the wave's Temporal server on CPU 0, everything else (workers,
#                                        PostgreSQL, the stand-in, this script) on CPU 1, as when the
#                                        server has cores of its own; restored when the script ends
#   BENCH_STEADY_SECONDS=240             each worker sample (>= 2 min: Go forces a GC every 2 min)
#   BENCH_STEADY_N=100000                workflows asleep for the steady-state section (worker defaults)
#   BENCH_PLAN_N=1000000                 partners for `starter plan` (VMware, and Red Hat's three tracks)
#   BENCH_SKIP="launch wave"             sections to skip (import launch wave steady plan)
#   BENCH_OUT=BENCHMARKS.md
#   BENCH_DB=tiershift_bench             database (dropped and recreated)
#   BENCH_TEMPORAL_PORT=7300             dev server port (the next three ports too)
#   BENCH_STUB_ADDR=127.0.0.1:8025       the SendGrid stand-in of the wave sections
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

IMPORT_SIZES=${BENCH_IMPORT_SIZES:-100000 1000000}
LAUNCH_N=${BENCH_LAUNCH_N:-20000}
LAUNCH_CONC=${BENCH_LAUNCH_CONCURRENCY:-32 64}
LAUNCH_MODES=${BENCH_LAUNCH_MODES:-memory file}
WAVE_N=${BENCH_WAVE_N:-2000}
WAVE_RATES=${BENCH_WAVE_RATES:-0 100}
WAVE_GRACE=${BENCH_WAVE_GRACE:-4 minutes}
WAVE_REMINDERS=${BENCH_WAVE_REMINDERS:-[1 minute]}
WAVE_TIMEOUT=${BENCH_WAVE_TIMEOUT:-1800}
WAVE_WORKERS=${BENCH_WAVE_WORKERS:-1}
WAVE_YARDSTICK=${BENCH_WAVE_YARDSTICK:-1}
TEMPORAL_KIND=${BENCH_TEMPORAL:-dev}
CLUSTER_BASE=${BENCH_CLUSTER_PORT_BASE:-7350}
PIN=${BENCH_PIN:-0}
STEADY_SECONDS=${BENCH_STEADY_SECONDS:-240}
STEADY_N=${BENCH_STEADY_N:-100000}
PLAN_N=${BENCH_PLAN_N:-1000000}
SKIP=" ${BENCH_SKIP:-} "
OUT=${BENCH_OUT:-BENCHMARKS.md}
PROGRAM=examples/vmware-2009/program.yaml
TRACKS_PROGRAM=examples/redhat-pex/program.yaml
TPORT=${BENCH_TEMPORAL_PORT:-7300}
TADDR=localhost:$TPORT
STUB_ADDR=${BENCH_STUB_ADDR:-127.0.0.1:8025}

W=$(mktemp -d /tmp/tiershift-bench.XXXXXX)
BENCH_DB=${BENCH_DB:-tiershift_bench}
BENCH_URL="postgres://tiershift:tiershift@localhost:5432/$BENCH_DB?sslmode=disable"
PIDS=()

log() { echo "bench: $*" >&2; }
skipped() { [[ "$SKIP" == *" $1 "* ]]; }
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	[ "$TEMPORAL_KIND" != cluster ] || bench_cluster down >/dev/null 2>&1 || true
	[ "$PIN" != 1 ] || unpin
	rm -rf "$W"
}
trap cleanup EXIT

psql_root() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- psql -X -q "$@"; else sudo -u postgres psql -X -q "$@"; fi; }
bpsql() { psql -X -q -At "$BENCH_URL" "$@"; }
secs() { date +%s.%N; }
dt() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", b-a}'; }
div() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b+0 == 0) print "n/a"; else printf "%.0f", a/b}'; }
# pct A B [DECIMALS]: A as a percentage of B; a figure held to a target
# takes one decimal (79.6% is not 80%).
pct() { awk -v a="$1" -v b="$2" -v d="${3:-0}" 'BEGIN{ if (b+0 == 0) print "n/a"; else printf "%.*f%%", d, 100*a/b}'; }

ROWS=()
row() { ROWS+=("| $1 | $2 | $3 |"); log "$1: $2"; }

# ---- build and database -------------------------------------------------
go build -o "$W/starter" ./starter
go build -o "$W/worker" ./worker
go build -o "$W/genpartners" ./tools/genpartners
go build -o "$W/benchstart" ./tools/benchstart
go build -o "$W/sendgridstub" ./internal/sendgridstub/cmd/sendgridstub
go build -o "$W/benchwave" ./tools/benchwave
go build -o "$W/benchwait" ./tools/benchwait
[ -x bin/temporal ] || scripts/temporal.sh build

fresh_db() {
	psql_root -c "DROP DATABASE IF EXISTS $BENCH_DB" -c "CREATE DATABASE $BENCH_DB OWNER tiershift" 2>/dev/null
	DATABASE_URL=$BENCH_URL "$W/starter" migrate >/dev/null 2>&1
}
export DATABASE_URL=$BENCH_URL TEMPORAL_ADDRESS=$TADDR LOG_LEVEL=warn
unset SENDGRID_API_KEY TIERSHIFT_EMAIL_TASK_QUEUE

# ---- Temporal dev server of our own ---------------------------------------
TEMPORAL_PID=
temporal_up() { # $1 = memory|file
	local dbf=()
	[ "$1" = file ] && dbf=(--db-filename "$W/temporal.db" --sqlite-pragma journal_mode=wal --sqlite-pragma synchronous=normal)
	local sa=()
	while IFS= read -r l; do sa+=(--search-attribute "$l"); done < <(grep -v '^#' deploy/search-attributes.txt | grep =)
	bin/temporal server start-dev --headless --port $TPORT --http-port $((TPORT + 1)) --ui-port $((TPORT + 2)) \
		--metrics-port $((TPORT + 3)) --log-level warn --namespace default "${dbf[@]}" "${sa[@]}" \
		--dynamic-config-value frontend.rps=10000 --dynamic-config-value frontend.namespaceRPS=10000 \
		--dynamic-config-value frontend.namespaceRPS.visibility=1000 \
		--dynamic-config-value system.forceSearchAttributesCacheRefreshOnRead=true >"$W/temporal.log" 2>&1 &
	TEMPORAL_PID=$!
	PIDS+=("$TEMPORAL_PID")
	for _ in $(seq 60); do
		bin/temporal operator namespace describe --address $TADDR -n default >/dev/null 2>&1 && return 0
		sleep 0.5
	done
	log "Temporal dev server on $TADDR did not come up"; cat "$W/temporal.log" >&2; return 1
}
# The wave's server (BENCH_TEMPORAL): the dev server in memory, or a fresh
# cluster of scripts/cluster.sh beside make's (its own directory, ports and
# databases). SERVER_PIDS are its processes, whose CPU the wave rows report.
SERVER_PIDS=()
CLUSTER_DIR_REL=.dev/bench-cluster
bench_cluster() {
	CLUSTER_DIR=$CLUSTER_DIR_REL CLUSTER_PORT_BASE=$CLUSTER_BASE CLUSTER_UI_PORT=$((CLUSTER_BASE + 10)) \
		CLUSTER_METRICS_BASE=$((CLUSTER_BASE + 11)) CLUSTER_DB=${BENCH_DB}_temporal \
		CLUSTER_VISIBILITY_DB=${BENCH_DB}_temporal_visibility CLUSTER_TLS=0 scripts/cluster.sh "$@"
}
wave_server_up() {
	if [ "$TEMPORAL_KIND" = dev ]; then
		temporal_up memory
		SERVER_PIDS=("$TEMPORAL_PID")
		return
	fi
	bench_cluster down >/dev/null 2>&1 || true
	psql_root -c "DROP DATABASE IF EXISTS ${BENCH_DB}_temporal" -c "DROP DATABASE IF EXISTS ${BENCH_DB}_temporal_visibility" 2>/dev/null
	bench_cluster up >"$W/cluster-up.log" 2>&1 || { cat "$W/cluster-up.log" >&2; return 1; }
	SERVER_PIDS=()
	local svc
	for svc in frontend history matching worker; do SERVER_PIDS+=("$(cat "$CLUSTER_DIR_REL/pid/$svc")"); done
}
# pin: BENCH_PIN=1's split of the two CPUs, the server's processes (all
# their threads) on CPU 0 and PostgreSQL (its postmaster, so new backends
# too) and this script (so everything it starts) on CPU 1.
pin() {
	[ "$PIN" = 1 ] || return 0
	local p
	for p in "${SERVER_PIDS[@]}"; do taskset -a -p -c 0 "$p" >/dev/null; done
	for p in $(pgrep -u postgres) $$; do taskset -a -p -c 1 "$p" >/dev/null 2>&1 || true; done
}
unpin() {
	local p all
	all=$(seq -s, 0 $(($(nproc --all) - 1)))
	for p in $(pgrep -u postgres) $$; do taskset -a -p -c "$all" "$p" >/dev/null 2>&1 || true; done
}
wave_server_down() {
	if [ "$TEMPORAL_KIND" = dev ]; then temporal_down; else bench_cluster down >/dev/null; fi
	SERVER_PIDS=()
}
case $TEMPORAL_KIND in
dev) WADDR=$TADDR ;;
cluster) WADDR=127.0.0.1:$CLUSTER_BASE; bench_cluster build ;;
*) log "BENCH_TEMPORAL=$TEMPORAL_KIND: want dev or cluster"; exit 2 ;;
esac

# jiffies PID...: the CPU time (user + system, in clock ticks) of the
# processes so far; busy: the whole machine's, from /proc/stat.
jiffies() { local p t=0; for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0))); done; echo $t; }
busy() { awk '/^cpu /{print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }
ticks() { awk -v a="$1" -v t="$(getconf CLK_TCK)" 'BEGIN{printf "%.1f", a/t}'; }
# machine_busy JIFFIES SECONDS: busy time as a share of every CPU (not only
# those a pinned script may use) over that many seconds.
machine_busy() { awk -v b="$1" -v t="$(getconf CLK_TCK)" -v s="$2" -v n="$(nproc --all)" 'BEGIN{printf "%.0f%%", 100*b/t/s/n}'; }
# sleep_until EPOCH: returns at that second (at once if it has passed).
sleep_until() { local d; d=$(awk -v e="$1" -v n="$(secs)" 'BEGIN{d = e - n; print (d > 0 ? d : 0)}'); sleep "$d"; }

# history_profile QUERY: the events of up to 5 of the server's workflows
# that QUERY (a List Filter) finds, counted by type and averaged per
# workflow, with the history's JSON size: what the server stored, read and
# sent for each. The wave's rows compare the two sides with it.
history_profile() {
	local ids id n=0 out=$W/histories.json
	ids=$(bin/temporal workflow list --address "$WADDR" -q "$1" --limit 5 -o json 2>/dev/null | jq -r '.. | .workflowId? // empty' | sort -u | head -5)
	: >"$out"
	for id in $ids; do
		bin/temporal workflow show --address "$WADDR" -w "$id" -o json >>"$out" 2>/dev/null && n=$((n + 1))
	done
	[ "$n" -gt 0 ] || { echo "no history read"; return; }
	echo "$(jq -r '.events[].eventType' "$out" | sed 's/^EVENT_TYPE_//' | sort | uniq -c |
		awk -v n="$n" '{printf "%s%s %.1f", sep, $2, $1 / n; sep = ", "}'); $(( $(wc -c <"$out") / n )) bytes of JSON per history ($n histories)"
}

temporal_down() {
	[ -n "$TEMPORAL_PID" ] || return 0
	kill "$TEMPORAL_PID" 2>/dev/null || true
	wait "$TEMPORAL_PID" 2>/dev/null || true
	TEMPORAL_PID=
	rm -f "$W"/temporal.db*
}

# ---- 1. import -------------------------------------------------------------
if ! skipped import; then
	for n in $IMPORT_SIZES; do
		fresh_db
		f=$W/partners-$n.csv
		"$W/genpartners" -n "$n" -program $PROGRAM -seed 1 >"$f"
		cols="partner_id text, name text, email text, locale text, country text, tier text, revenue text, points text, certifications text, competencies text, modules text"
		bpsql -c "CREATE TABLE copy_plain ($cols)"
		t0=$(secs); bpsql -c "\\copy copy_plain from '$f' csv header"; t1=$(secs)
		copy_s=$(dt "$t0" "$t1")
		t0=$(secs); "$W/starter" import --campaign bench-a --program $PROGRAM "$f" >/dev/null; t1=$(secs)
		first_s=$(dt "$t0" "$t1")
		t0=$(secs); "$W/starter" import --campaign bench-a --program $PROGRAM "$f" >/dev/null; t1=$(secs)
		again_s=$(dt "$t0" "$t1")
		t0=$(secs); "$W/starter" import --campaign bench-b --program $PROGRAM "$f" >/dev/null; t1=$(secs)
		known_s=$(dt "$t0" "$t1")
		# The floor of any import into this schema: the rows as stored, with no
		# CSV parsing, validation or comparison, loaded the way a first import
		# loads them — into tables shaped like partners and enrollments (same
		# columns, defaults and checks, no triggers) without indexes, whose
		# primary keys are then built, in one transaction.
		pcols="partner_id, name, email, locale, country, tier, certifications, competencies, modules, revenue_cents, points"
		bpsql -c "\\copy (SELECT $pcols FROM partners) to '$W/stored.copy'"
		bpsql -c "CREATE TABLE floor_p (LIKE partners INCLUDING DEFAULTS INCLUDING CONSTRAINTS); CREATE TABLE floor_e (LIKE enrollments INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
		t0=$(secs)
		bpsql -c "BEGIN" -c "\\copy floor_p ($pcols) from '$W/stored.copy'" \
			-c "INSERT INTO floor_e (campaign_id, partner_id, workflow_id, old_tier) SELECT 'f', partner_id, 'transition/f/' || partner_id, tier FROM floor_p" \
			-c "SET LOCAL maintenance_work_mem = '256MB'" \
			-c "ALTER TABLE floor_p ADD PRIMARY KEY (partner_id)" -c "ALTER TABLE floor_e ADD PRIMARY KEY (campaign_id, partner_id)" \
			-c "COMMIT"
		t1=$(secs)
		floor_s=$(dt "$t0" "$t1")
		# Partners alone, the same way: what any import that keeps a key on
		# partners costs before a single enrollment is written.
		bpsql -c "CREATE TABLE floor_p1 (LIKE partners INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
		t0=$(secs)
		bpsql -c "BEGIN" -c "\\copy floor_p1 ($pcols) from '$W/stored.copy'" \
			-c "SET LOCAL maintenance_work_mem = '256MB'" -c "ALTER TABLE floor_p1 ADD PRIMARY KEY (partner_id)" -c "COMMIT"
		t1=$(secs)
		floor1_s=$(dt "$t0" "$t1")
		rm -f "$W/stored.copy"
		row "import $n, psql \\copy into a plain table" "$copy_s s, $(div "$n" "$copy_s") rows/s" \
			"\`psql -c \"\\copy copy_plain from 'partners-$n.csv' csv header\"\`"
		row "import $n, first import (new partners, new campaign)" "$first_s s, $(div "$n" "$first_s") rows/s, $(pct "$copy_s" "$first_s") of \\copy" \
			"\`bin/starter import --campaign bench-a --program $PROGRAM partners-$n.csv\`"
		row "import $n, floor: stored rows into partners + enrollments" "$floor_s s, $(pct "$copy_s" "$floor_s") of \\copy" \
			"\`\\copy\` of \`SELECT * FROM partners\` and \`INSERT ... SELECT\` into tables \`LIKE partners/enrollments\` without indexes, then their primary keys, in one transaction"
		row "import $n, floor: stored rows into partners alone" "$floor1_s s, $(pct "$copy_s" "$floor1_s") of \\copy" \
			"the same for a table \`LIKE partners\` alone: \`\\copy\`, then its primary key, in one transaction"
		row "import $n, same file again (no change)" "$again_s s, $(div "$n" "$again_s") rows/s, $(pct "$copy_s" "$again_s") of \\copy" "same command again"
		row "import $n, known partners into a new campaign" "$known_s s, $(div "$n" "$known_s") rows/s, $(pct "$copy_s" "$known_s") of \\copy" \
			"\`bin/starter import --campaign bench-b ...\`"
		rm -f "$f"
	done
fi

# ---- 2. launch -------------------------------------------------------------
if ! skipped launch; then
	for mode in $LAUNCH_MODES; do
		fresh_db
		# Every measurement gets a fresh dev server of the same build and
		# settings: a server slows as it fills (the in-memory one went from
		# ~380 to ~300 empty starts/s over 50,000 workflows), so whichever
		# ran second on a shared one would be handicapped.
		best=0 bestc=0
		for c in $LAUNCH_CONC; do
			temporal_up "$mode"
			r=$("$W/benchstart" -address $TADDR -n "$LAUNCH_N" -concurrency "$c" | sed -n 's/.*: \([0-9.]*\) starts\/s/\1/p')
			temporal_down
			log "benchstart $mode c=$c: $r starts/s"
			if awk -v a="$r" -v b="$best" 'BEGIN{exit !(a>b)}'; then best=$r bestc=$c; fi
		done
		"$W/genpartners" -n "$LAUNCH_N" -program $PROGRAM -seed 3 >"$W/launch.csv"
		"$W/starter" import --campaign bench-launch --program $PROGRAM "$W/launch.csv" >/dev/null
		temporal_up "$mode"
		t0=$(secs)
		TIERSHIFT_TASK_QUEUE=bench-launch "$W/starter" launch --campaign bench-launch --program $PROGRAM --launch-at 2030-01-01 \
			>"$W/launch.out" 2>"$W/launch.err" || { cat "$W/launch.out" "$W/launch.err" >&2; exit 1; }
		t1=$(secs)
		l_s=$(dt "$t0" "$t1")
		lr=$(div "$LAUNCH_N" "$l_s")
		row "launch $LAUNCH_N, dev server $mode: benchstart baseline" "$best starts/s (best of concurrency $LAUNCH_CONC: $bestc; a fresh dev server each)" \
			"\`go run ./tools/benchstart -address $TADDR -n $LAUNCH_N -concurrency $bestc\`"
		row "launch $LAUNCH_N, dev server $mode: starter launch" "$l_s s, $lr starts/s, $(pct "$lr" "$best") of baseline" \
			"\`bin/starter launch --campaign bench-launch --program $PROGRAM --launch-at 2030-01-01\` (default --concurrency 64), on a fresh dev server"
		temporal_down
	done
fi

# ---- 3 + 4. deadline wave and steady state ----------------------------------
if ! skipped wave; then
	# The rehearsal program with every old tier on the same grace (4 minutes
	# by default) and one reminder a minute before: every partner falls due at
	# the same moment.
	wprog=$W/wave-program.yaml
	sed -e "s/grace: [0-9]* minutes/grace: $WAVE_GRACE/" -e "s/^reminders: .*/reminders: $WAVE_REMINDERS/" \
		examples/rehearsal/program.yaml >"$wprog"
	grace_s=$(( $(date -u -d "1970-01-01 + $WAVE_GRACE" +%s) ))
	"$W/genpartners" -n "$WAVE_N" -program "$wprog" -seed 4 >"$W/wave.csv"
	for nw in $WAVE_WORKERS; do
	for rate in $WAVE_RATES; do
		fresh_db
		wave_server_up
		pin
		"$W/sendgridstub" -addr $STUB_ADDR >"$W/stub.log" 2>&1 &
		stub=$!; PIDS+=("$stub")
		q=bench-wave-$rate
		label="deadline wave $WAVE_N, $TEMPORAL_KIND server, $nw worker process(es), TIERSHIFT_EMAIL_RATE=$rate"
		wtimes=() wpids=()
		for k in $(seq "$nw"); do
			TEMPORAL_ADDRESS=$WADDR TIERSHIFT_TASK_QUEUE=$q TIERSHIFT_EMAIL_RATE=$rate SENDGRID_API_KEY=bench SENDGRID_API_URL=http://$STUB_ADDR \
				/usr/bin/time -v -o "$W/worker$k.time" "$W/worker" >"$W/worker$k.log" 2>&1 &
			wtimes+=($!); PIDS+=($!)
		done
		sleep 3
		for t in "${wtimes[@]}"; do wpids+=("$(pgrep -P "$t" -f "$W/worker" | awk 'NR == 1')"); done
		"$W/starter" import --campaign bench-wave --program "$wprog" "$W/wave.csv" >/dev/null
		launch_at=$(date -u -d '+20 seconds' +%Y-%m-%dT%H:%M:%SZ)
		t_launch=$(secs)
		TEMPORAL_ADDRESS=$WADDR TIERSHIFT_TASK_QUEUE=$q "$W/starter" launch --campaign bench-wave --program "$wprog" --launch-at "$launch_at" \
			--concurrency 32 >/dev/null 2>"$W/launch.err"
		launch_s=$(dt "$t_launch" "$(secs)")
		deadline_epoch=$(( $(date -u -d "$launch_at" +%s) + grace_s ))
		# Steady state: sample the workers once every partner is announced
		# (its notified email handed over) and asleep until its reminder or
		# deadline.
		"$W/benchwait" -url "$BENCH_URL" -campaign bench-wave -n "$WAVE_N" -until announced -by "$deadline_epoch" >/dev/null ||
			log "announcements not done by the deadline: raise BENCH_WAVE_GRACE"
		announced_s=$(dt "$t_launch" "$(secs)")
		row "$label: launch, then every partner announced" "launch $launch_s s, all announced $announced_s s after the launch began" \
			"\`bin/starter launch --concurrency 32\` with bin/worker running; enrollments past waiting-launch and no email pending"
		j0=$(jiffies "${wpids[@]}")
		rss_max=0
		for _ in $(seq "$STEADY_SECONDS"); do
			r=0; for p in "${wpids[@]}"; do r=$((r + $(awk '/VmRSS/{print $2}' "/proc/$p/status"))); done
			[ "$r" -gt "$rss_max" ] && rss_max=$r
			sleep 1
		done
		j1=$(jiffies "${wpids[@]}")
		steady_cpu=$(awk -v a=$((j1 - j0)) -v t="$(getconf CLK_TCK)" -v s="$STEADY_SECONDS" 'BEGIN{printf "%.2f%%", 100*a/t/s}')
		sleeping=$(bpsql -c "SELECT count(*) FROM enrollments WHERE campaign_id='bench-wave' AND stage <> 'done'")
		row "steady state, $sleeping workflows asleep on timers ($STEADY_SECONDS s)" "worker CPU $steady_cpu of one core, RSS up to $((rss_max / 1024)) MB" \
			"samples of /proc/PID/stat and VmRSS of bin/worker, 1 s apart"
		# The wave, from the deadline: poll until every outcome is written and
		# every email handed over, and count the CPU it took.
		[ "$(date +%s)" -lt "$deadline_epoch" ] || log "the steady-state sample ran past the deadline: the wave's CPU figures start late"
		sleep_until "$deadline_epoch"
		cw0=$(jiffies "${wpids[@]}") cs0=$(jiffies "${SERVER_PIDS[@]}") cb0=$(busy) cg0=$(jiffies "$stub")
		# One connection polled once a second (tools/benchwait): a psql per
		# poll cost ~45 ms of CPU each, three a second, taken from the wave.
		"$W/benchwait" -url "$BENCH_URL" -campaign bench-wave -n "$WAVE_N" -until done -by $((deadline_epoch + WAVE_TIMEOUT)) >"$W/benchwait.out" ||
			log "wave did not finish in $WAVE_TIMEOUT s"
		maxconn=$(sed -n 's/^max_connections=//p' "$W/benchwait.out")
		cw1=$(jiffies "${wpids[@]}") cs1=$(jiffies "${SERVER_PIDS[@]}") cb1=$(busy) cg1=$(jiffies "$stub")
		last_done=$(bpsql -c "SELECT extract(epoch FROM max(updated_at) - min(deadline)) FROM enrollments WHERE campaign_id='bench-wave' AND stage='done'")
		last_mail=$(bpsql -c "SELECT extract(epoch FROM max(sent_at)) - $deadline_epoch FROM emails WHERE campaign_id='bench-wave' AND kind='outcome'")
		emails=$(bpsql -c "SELECT count(*) FROM emails WHERE campaign_id='bench-wave'")
		distinct=$(bpsql -c "SELECT count(DISTINCT (workflow_id, step)) FROM emails WHERE campaign_id='bench-wave'")
		notsent=$(bpsql -c "SELECT count(*) FROM emails WHERE campaign_id='bench-wave' AND status <> 'sent'")
		outcomes=$(bpsql -c "SELECT count(*) FROM emails WHERE campaign_id='bench-wave' AND kind='outcome'")
		stub_msgs=$(grep -c ' dedupe=' "$W/stub.log" || true)
		stub_keys=$(grep -o ' dedupe=[^ ]*' "$W/stub.log" | sort -u | wc -l)
		for p in "${wpids[@]}"; do kill -INT "$p"; done
		for t in "${wtimes[@]}"; do wait "$t" || true; done
		cpu=$(cat "$W"/worker*.time | awk -F': ' '/User time/{u+=$2} /System time/{s+=$2} END{printf "%.1f", u+s}')
		rss=$(cat "$W"/worker*.time | awk -F': ' '/Maximum resident/{if ($2 > m) m = $2} END{printf "%d", m/1024}')
		rm -f "$W"/worker*.time
		wave_s=$(awk -v a="$last_done" -v b="$last_mail" 'BEGIN{printf "%.1f", (a > b ? a : b)}')
		row "$label: last outcome written" "$(printf %.1f "$last_done") s after the deadline" \
			"max(enrollments.updated_at) - deadline, stage done ($WAVE_N/$WAVE_N)"
		row "$label: last outcome email handed over" "$(printf %.1f "$last_mail") s after the deadline" \
			"max(emails.sent_at) of kind outcome - deadline"
		row "$label: the wave" "$wave_s s, $(div "$WAVE_N" "$wave_s") partners/s" "the later of the two above"
		row "$label: CPU during the wave" "workers $(ticks $((cw1 - cw0))) s, Temporal $(ticks $((cs1 - cs0))) s, the SendGrid stand-in $(ticks $((cg1 - cg0))) s, the rest (PostgreSQL, this script) $(ticks $((cb1 - cb0 - cw1 + cw0 - cs1 + cs0 - cg1 + cg0))) s; machine $(machine_busy $((cb1 - cb0)) "$wave_s") busy" \
			"/proc/PID/stat of the workers and the server's processes, /proc/stat, from the deadline to the poll that saw the wave done"
		row "$label: emails" "$emails rows, $distinct distinct (workflow, step), $notsent not sent, $outcomes outcomes; stand-in got $stub_msgs messages, $stub_keys distinct dedupe keys" \
			"emails table; sendgridstub log"
		row "$label: workers (whole run)" "CPU $cpu s, peak RSS $rss MB (largest process), up to $maxconn Postgres connections" \
			"\`/usr/bin/time -v bin/worker\`; max of pg_stat_activity sampled each second"
		row "$label: events per workflow" "$(history_profile "WorkflowType = 'PartnerTransition'")" \
			"\`temporal workflow show -o json\` of 5 transitions, event types counted"
		kill "$stub" 2>/dev/null; wait "$stub" 2>/dev/null || true
		wave_server_down
		[ "$WAVE_YARDSTICK" = 1 ] || continue
		# The yardstick: the wave's shape and nothing else (tools/benchwave),
		# on a fresh server of the same kind, in as many worker processes, all
		# due at once after a lead as long as tiershift's launch took and more.
		wave_server_up
		pin
		bq=bench-yardstick
		bpids=()
		for k in $(seq "$nw"); do
			"$W/benchwave" -address "$WADDR" -queue $bq -serve >"$W/benchwave$k.log" 2>&1 &
			bpids+=($!); PIDS+=($!)
		done
		sleep 3
		lead=$(awk -v l="$launch_s" 'BEGIN{printf "%d", 30 + 1.5 * l}')
		at_epoch=$(( $(date +%s) + lead ))
		at=$(date -u -d "@$at_epoch" +%Y-%m-%dT%H:%M:%SZ)
		"$W/benchwave" -address "$WADDR" -queue $bq -n "$WAVE_N" -at "$at" -workers 0 >"$W/yardstick.out" 2>&1 &
		ys=$!
		sleep_until "$at_epoch"
		cw0=$(jiffies "${bpids[@]}") cs0=$(jiffies "${SERVER_PIDS[@]}") cb0=$(busy)
		wait "$ys" || { cat "$W/yardstick.out" >&2; exit 1; }
		cw1=$(jiffies "${bpids[@]}") cs1=$(jiffies "${SERVER_PIDS[@]}") cb1=$(busy)
		for p in "${bpids[@]}"; do kill -INT "$p"; wait "$p" || true; done
		y_s=$(sed -n 's/.*last closed \([0-9.]*\) s after.*/\1/p' "$W/yardstick.out")
		row "$label: yardstick" "$y_s s, $(div "$WAVE_N" "$y_s") partners/s" \
			"\`benchwave -serve\` × $nw, then \`benchwave -address $WADDR -n $WAVE_N -at <now + $lead s> -workers 0\`, on a fresh $TEMPORAL_KIND server"
		row "$label: yardstick CPU" "workers $(ticks $((cw1 - cw0))) s, Temporal $(ticks $((cs1 - cs0))) s, the rest $(ticks $((cb1 - cb0 - cw1 + cw0 - cs1 + cs0))) s; machine $(machine_busy $((cb1 - cb0)) "$y_s") busy" \
			"as for the wave"
		row "$label: yardstick events per workflow" "$(history_profile "WorkflowType = 'WaveBaseline'")" \
			"as for the wave"
		row "$label: **wave / yardstick**" "**$(pct "$y_s" "$wave_s" 1)** (target ≥ 80%)" "yardstick seconds / wave seconds"
		wave_server_down
	done
	done
fi

# ---- 4. steady state at scale ---------------------------------------------
# STEADY_N workflows started with their launch a day away: each runs its first
# task (loads the program, shows its search attributes) and sleeps on the
# launch timer. The worker runs with its defaults (GODEBUG=gctrace=1 only, to
# count the garbage collections). It is sampled twice for STEADY_SECONDS:
# before the launch, with nothing to run (the control), and once every
# workflow is asleep.
if ! skipped steady; then
	fresh_db
	temporal_up memory
	"$W/genpartners" -n "$STEADY_N" -program $PROGRAM -seed 5 >"$W/steady.csv"
	"$W/starter" import --campaign bench-steady --program $PROGRAM "$W/steady.csv" >/dev/null
	env -u TIERSHIFT_STICKY_CACHE_SIZE TIERSHIFT_TASK_QUEUE=bench-steady GODEBUG=gctrace=1 \
		"$W/worker" >"$W/steady-worker.log" 2>&1 &
	spid=$!; PIDS+=("$spid")
	# Ready: it polls the task queue.
	until bin/temporal task-queue describe --address $TADDR --task-queue bench-steady -o json 2>/dev/null | grep -q '"identity"'; do
		kill -0 "$spid" 2>/dev/null || { cat "$W/steady-worker.log" >&2; exit 1; }
		sleep 0.5
	done
	# sample SECONDS: CPU as % of one core, peak RSS (MB), collections, and the
	# live heap after the last one (MB, from gctrace's "a->b->c MB").
	sample() {
		local tck u0 s0 u1 s1 r rss_max=0 gc0 gc1
		tck=$(getconf CLK_TCK)
		gc0=$(grep -c '^gc ' "$W/steady-worker.log" || true)
		read -r u0 s0 < <(awk '{print $14, $15}' "/proc/$spid/stat")
		for _ in $(seq "$1"); do
			r=$(awk '/VmRSS/{print $2}' "/proc/$spid/status"); [ "$r" -gt "$rss_max" ] && rss_max=$r
			sleep 1
		done
		read -r u1 s1 < <(awk '{print $14, $15}' "/proc/$spid/stat")
		gc1=$(grep -c '^gc ' "$W/steady-worker.log" || true)
		live=$(grep '^gc ' "$W/steady-worker.log" | tail -1 | sed -n 's/.* [0-9]*->[0-9]*->\([0-9]*\) MB.*/\1/p')
		printf '%s %d %d %s\n' "$(awk -v a=$((u1 + s1 - u0 - s0)) -v t="$tck" -v s="$1" 'BEGIN{printf "%.2f%%", 100*a/t/s}')" \
			$((rss_max / 1024)) $((gc1 - gc0)) "${live:-?}"
	}
	read -r cpu rss gcs live < <(sample "$STEADY_SECONDS")
	row "steady state: worker with no workflows, the control ($STEADY_SECONDS s)" "CPU $cpu of one core, RSS up to $rss MB, $gcs garbage collections, live heap $live MB" \
		"samples of /proc/PID/stat and VmRSS of bin/worker (default settings, GODEBUG=gctrace=1), 1 s apart"
	t0=$(secs)
	TIERSHIFT_TASK_QUEUE=bench-steady "$W/starter" launch --campaign bench-steady --program $PROGRAM \
		--launch-at "$(date -u -d '+1 day' +%Y-%m-%dT%H:%M:%SZ)" >/dev/null 2>"$W/steady-launch.err" ||
		{ cat "$W/steady-launch.err" >&2; exit 1; }
	# Asleep: no workflow task waiting or dispatched for 30 s (the server's
	# rates cover the last 30 s or so).
	quiet=0
	while [ "$quiet" -lt 15 ]; do
		st=$(bin/temporal task-queue describe --address $TADDR --task-queue bench-steady -o json | awk '
			/"taskQueueType": "workflow"/ {w = 1} /"taskQueueType": "activity"/ {w = 0}
			w && /approximateBacklogCount|tasksDispatchRate/ {gsub(/[^0-9.]/, "", $2); s += $2} END {print s + 0}')
		if [ "$st" = 0 ]; then quiet=$((quiet + 1)); else quiet=0; fi
		sleep 2
	done
	asleep_s=$(dt "$t0" "$(secs)")
	running=$(bin/temporal workflow count --address $TADDR --query "TaskQueue='bench-steady' AND ExecutionStatus='Running'" | awk '{print $2}')
	read -r cpu rss gcs live < <(sample "$STEADY_SECONDS")
	row "steady state: $running workflows asleep ($STEADY_SECONDS s)" "CPU $cpu of one core, RSS up to $rss MB, $gcs garbage collections, live heap $live MB (launched and asleep in $asleep_s s)" \
		"\`bin/starter launch --campaign bench-steady --launch-at <tomorrow>\` with bin/worker running (default settings); sampled as the control once no workflow task was queued or dispatched for 30 s"
	kill -INT "$spid"; wait "$spid" || true
	temporal_down
fi

# ---- 5. plan -----------------------------------------------------------------
# bench_plan PROGRAM NAME LABEL: plan over PLAN_N generated partners of PROGRAM.
bench_plan() {
	"$W/genpartners" -n "$PLAN_N" -program "$1" -seed 1 >"$W/$2.csv"
	/usr/bin/time -v -o "$W/$2.time" "$W/starter" plan --program "$1" --partners "$W/$2.csv" >/dev/null
	el=$(awk -F': ' '/Elapsed/{print $2}' "$W/$2.time")
	rss=$(awk -F': ' '/Maximum resident/{printf "%d", $2/1024}' "$W/$2.time")
	row "$3" "$el elapsed, peak RSS $rss MB" "\`/usr/bin/time -v bin/starter plan --program $1 --partners $2-$PLAN_N.csv\`"
	rm -f "$W/$2.csv"
}
if ! skipped plan; then
	bench_plan $PROGRAM partners "plan $PLAN_N partners"
	# A program with three tracks (Red Hat's modules): every partner is
	# evaluated in each track it holds, one output line per track.
	bench_plan $TRACKS_PROGRAM partners-tracks "plan $PLAN_N partners, three tracks"
fi

# ---- write ---------------------------------------------------------------------
{
	echo
	echo "## $(date -u '+%Y-%m-%d %H:%M UTC') — $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (with uncommitted changes)')"
	echo
	echo "Machine: \`nproc --all\` = $(nproc --all); $(free -g | awk '/^Mem:/{print $2 " GB RAM (free -g)"}'); $(uname -sr); $(psql -X -At "$BENCH_URL" -c 'show server_version' | cut -d' ' -f1) PostgreSQL; Temporal CLI $(bin/temporal --version 2>/dev/null | awk '{print $3}') dev server on port $TPORT; the wave's server: $TEMPORAL_KIND$( [ "$PIN" = 1 ] && echo ", pinned to CPU 0 and everything else to CPU 1 (BENCH_PIN=1)")$( [ "$TEMPORAL_KIND" = cluster ] && echo " (scripts/cluster.sh: Temporal server $(sed -n 's/^TEMPORAL_SERVER_VERSION=//p' scripts/cluster.sh), 4 services, 8 history shards, PostgreSQL)")."
	# Worker settings taken from the environment change the figures: say so.
	wenv=$(env | grep -E '^TIERSHIFT_(STICKY|WORKFLOW_POLLERS|ACTIVITY_POLLERS|MAX_CONCURRENT|DB_MAX_CONNS)' | sort | tr '\n' ' ' || true)
	if [ -n "${TIERSHIFT_CODEC_KEYS:-}${TIERSHIFT_CODEC_KEY_FILE:-}" ]; then
		echo "Payload codec: on (every payload encrypted with AES-256-GCM)."
	else
		echo "Payload codec: off (payloads in clear)."
	fi
	echo "Load average when the run ended: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine slows every figure)."
	echo "Sizes: import $IMPORT_SIZES; launch $LAUNCH_N; wave $WAVE_N; steady $STEADY_N; plan $PLAN_N. Command: \`${wenv}BENCH_IMPORT_SIZES=\"$IMPORT_SIZES\" BENCH_LAUNCH_N=$LAUNCH_N BENCH_WAVE_N=$WAVE_N BENCH_STEADY_N=$STEADY_N BENCH_STEADY_SECONDS=$STEADY_SECONDS BENCH_WAVE_RATES=\"$WAVE_RATES\" BENCH_WAVE_GRACE=\"$WAVE_GRACE\" BENCH_WAVE_REMINDERS=\"$WAVE_REMINDERS\" BENCH_WAVE_TIMEOUT=$WAVE_TIMEOUT BENCH_WAVE_WORKERS=\"$WAVE_WORKERS\" BENCH_TEMPORAL=$TEMPORAL_KIND BENCH_PIN=$PIN BENCH_SKIP=\"${BENCH_SKIP:-}\" scripts/bench.sh\`"
	echo
	echo "| figure | result | exact command |"
	echo "|---|---|---|"
	printf '%s\n' "${ROWS[@]}"
} >>"$OUT"
log "appended $(( ${#ROWS[@]} )) rows to $OUT"
