// Command benchwait is scripts/bench.sh's watch over a campaign: it polls
// tiershift's database once a second, on one connection, until every
// partner of the campaign has reached a stage and no email is pending, and
// prints the most connections it saw to that database.
//
// It replaces a shell loop that started three psql processes a second.
// Each psql paid for a process, a password handshake and a fresh backend:
// about 45 ms of CPU, so 134 ms a second taken from the wave it was
// measuring, which the yardstick's watch (tools/benchwave, inside its own
// process) does not pay. One connection and three queries cost about
// 8 ms a second (BENCHMARKS.md, 2026-12-06 13:07).
//
//	benchwait -url postgres://... -campaign bench-wave -n 20000 -until done -by 1765000000
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/jackc/pgx/v5"
)

// stages are the enrollment conditions a watch waits for, counted over the
// campaign: announced is past the launch, done has its outcome.
var stages = map[string]string{
	"announced": "stage NOT IN ('enrolled', 'waiting-launch')",
	"done":      "stage = 'done'",
}

// errLate is the time limit passing before the campaign got there.
var errLate = errors.New("time limit passed")

func main() {
	url := flag.String("url", "", "tiershift's database (postgres:// URL)")
	campaign := flag.String("campaign", "", "campaign ID")
	n := flag.Int("n", 0, "partners that must reach the stage")
	until := flag.String("until", "done", "stage to wait for: announced or done")
	by := flag.Int64("by", 0, "give up at this Unix time (seconds; 0: never)")
	every := flag.Duration("every", time.Second, "time between polls")
	flag.Parse()
	cond, ok := stages[*until]
	if *url == "" || *campaign == "" || *n <= 0 || !ok {
		fmt.Fprintln(os.Stderr, "benchwait: -url, -campaign, -n > 0 and -until announced|done are required")
		os.Exit(2)
	}
	maxConns, err := watch(context.Background(), *url, *campaign, cond, *n, *by, *every)
	fmt.Printf("max_connections=%d\n", maxConns)
	switch {
	case errors.Is(err, errLate):
		fmt.Fprintf(os.Stderr, "benchwait: campaign %s not %s by %s\n", *campaign, *until, time.Unix(*by, 0).UTC().Format(time.RFC3339))
		os.Exit(3)
	case err != nil:
		fmt.Fprintln(os.Stderr, "benchwait:", err)
		os.Exit(1)
	}
}

// watch polls until n enrollments of campaign meet cond and none of its
// emails is pending, or until the Unix time by. It returns the most
// connections to the database seen in a poll (its own included, as the
// psql loop it replaces counted itself).
func watch(ctx context.Context, url, campaign, cond string, n int, by int64, every time.Duration) (maxConns int, err error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return 0, fmt.Errorf("connect: %w", err)
	}
	defer func() { _ = conn.Close(ctx) }()
	query := `SELECT (SELECT count(*) FROM enrollments WHERE campaign_id = $1 AND ` + cond + `),
	                 (SELECT count(*) FROM emails WHERE campaign_id = $1 AND status = 'pending'),
	                 (SELECT count(*) FROM pg_stat_activity WHERE datname = current_database())`
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		var reached, pending, conns int
		if err := conn.QueryRow(ctx, query, campaign).Scan(&reached, &pending, &conns); err != nil {
			return maxConns, fmt.Errorf("poll campaign %s: %w", campaign, err)
		}
		maxConns = max(maxConns, conns)
		if reached >= n && pending == 0 {
			return maxConns, nil
		}
		if by > 0 && time.Now().Unix() > by {
			return maxConns, errLate
		}
		<-tick.C
	}
}
