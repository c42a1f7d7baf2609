// Command worker runs tiershift's Temporal workers: the transition workflows
// and Postgres activities on the main task queue, and the rate-limited email
// activities on their own queue. Start as many as you like side by side.
package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/tiershift/tiershift/activities"
	"github.com/tiershift/tiershift/config"
	"github.com/tiershift/tiershift/logging"
	"github.com/tiershift/tiershift/metrics"
	"github.com/tiershift/tiershift/schema"
	"github.com/tiershift/tiershift/store"
	"github.com/tiershift/tiershift/temporalx"
	"github.com/tiershift/tiershift/workflows"

	// The zone database, in the binary: deadlines and dates read the same
	// on a machine without one (package zones uses it too).
	_ "time/tzdata"
)

func main() {
	cfg, err := config.FromEnv()
	log := logging.New(os.Stderr, cfg.LogFormat, cfg.LogLevel)
	if err != nil {
		log.Fatal().Err(err).Msg("worker: bad configuration")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, log); err != nil {
		log.Error().Err(err).Msg("worker stopped")
		os.Exit(1)
	}
}

func run(ctx context.Context, cfg config.Config, log zerolog.Logger) error {
	log.Info().
		Str("temporal", cfg.TemporalAddress).Str("namespace", cfg.TemporalNamespace).
		Bool("temporal_tls", cfg.TemporalTLS()).Str("temporal_api_key", logging.Redact(cfg.Temporal.APIKey)).
		Str("task_queue", cfg.TaskQueue).Str("email_task_queue", cfg.EmailTaskQueue).
		Float64("email_rate", cfg.EmailRate).Bool("capture_mode", cfg.CaptureMode()).
		Str("sendgrid_api_key", logging.Redact(cfg.SendGridAPIKey)).
		Msg("worker starting")

	if cfg.PprofAddr != "" {
		stop, err := servePprof(cfg.PprofAddr, log)
		if err != nil {
			return err
		}
		defer stop()
	}

	pool, err := openDatabase(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()

	// With TIERSHIFT_METRICS_ADDR the SDK's metrics and tiershift's own are
	// served at /metrics; without it nothing is collected.
	var (
		m            *metrics.Metrics
		dialOpts     []temporalx.Option
		interceptors []interceptor.WorkerInterceptor
		recorder     activities.Recorder
	)
	if cfg.MetricsAddr != "" {
		if m, err = metrics.New(); err != nil {
			return err
		}
		addr, stop, err := m.Serve(cfg.MetricsAddr, log)
		if err != nil {
			return fmt.Errorf("%s: %w", config.EnvMetricsAddr, err)
		}
		defer stop()
		log.Info().Str("metrics_addr", addr).Msg("serving Prometheus metrics at http://" + addr + "/metrics")
		dialOpts = append(dialOpts, temporalx.WithMetrics(m.SDKHandler()))
		interceptors = append(interceptors, m.Interceptor())
		recorder = m
	}

	c, err := temporalx.Dial(ctx, cfg, log, dialOpts...)
	if err != nil {
		return err
	}
	defer c.Close()
	if added, err := temporalx.EnsureSearchAttributes(ctx, c, cfg.TemporalNamespace); err != nil {
		return err
	} else if len(added) > 0 {
		log.Info().Strs("added", added).Msg("registered search attributes")
	}

	// 0 turns the cache off: every workflow task replays its history.
	worker.SetStickyWorkflowCacheSize(cfg.StickyCacheSize)
	main := worker.New(c, cfg.TaskQueue, worker.Options{
		MaxConcurrentWorkflowTaskPollers:       cfg.WorkflowPollers,
		MaxConcurrentActivityTaskPollers:       cfg.ActivityPollers,
		MaxConcurrentActivityExecutionSize:     cfg.MaxActivities,
		MaxConcurrentWorkflowTaskExecutionSize: cfg.MaxWorkflowTasks,
		StickyScheduleToStartTimeout:           cfg.StickyTimeout,
		Interceptors:                           interceptors,
	})
	main.RegisterWorkflowWithOptions(workflows.PartnerTransition, workflow.RegisterOptions{Name: workflows.WorkflowName})
	(&activities.Store{DB: store.New(pool), Log: log, Metrics: recorder}).Register(main)

	mailer := activities.NewMailer(pool, cfg.SendGridAPIKey, cfg.SendGridAPIURL, 0, log)
	mailer.ConfirmWindow = cfg.EmailConfirmWindow
	mailer.Metrics = recorder
	mail := worker.New(c, cfg.EmailTaskQueue, worker.Options{
		// The server enforces this rate across every worker polling the queue.
		TaskQueueActivitiesPerSecond:       cfg.EmailRate,
		MaxConcurrentActivityTaskPollers:   cfg.ActivityPollers,
		MaxConcurrentActivityExecutionSize: cfg.MaxActivities,
		Interceptors:                       interceptors,
	})
	mailer.Register(mail)

	if err := main.Start(); err != nil {
		return fmt.Errorf("start worker on %s: %w", cfg.TaskQueue, err)
	}
	defer main.Stop()
	if err := mail.Start(); err != nil {
		return fmt.Errorf("start email worker on %s: %w", cfg.EmailTaskQueue, err)
	}
	defer mail.Stop()
	log.Info().Msg("worker ready")
	<-ctx.Done()
	log.Info().Msg("shutting down: finishing running tasks")
	return nil
}

// openDatabase connects to Postgres, checks it answers and brings the schema
// up to date (a no-op when it is current).
func openDatabase(ctx context.Context, cfg config.Config) (*pgxpool.Pool, error) {
	// store's one redaction: nothing of DATABASE_URL but its target is shown.
	pool, err := store.OpenPool(ctx, cfg.DatabaseURL, cfg.DBMaxConns)
	if err != nil {
		if errors.Is(err, store.ErrBadDatabaseURL) {
			return nil, fmt.Errorf("%s: %w", config.EnvDatabaseURL, err)
		}
		return nil, fmt.Errorf("%w; is it running? `make up` starts it", err)
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := pool.Acquire(pctx)
	if err != nil {
		pool.Close()
		return nil, store.ConnectError(cfg.DatabaseURL, err)
	}
	defer conn.Release()
	if _, _, err := schema.Migrate(pctx, conn.Conn()); err != nil {
		pool.Close()
		return nil, err
	}
	return pool, nil
}

// servePprof serves net/http/pprof on addr (TIERSHIFT_PPROF_ADDR) until stop
// is called, on its own mux: nothing else is exposed.
func servePprof(addr string, log zerolog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", config.EnvPprofAddr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			log.Error().Err(err).Msg("pprof server stopped")
		}
	}()
	log.Info().Str("pprof_addr", ln.Addr().String()).Msg("serving pprof at http://" + ln.Addr().String() + "/debug/pprof/")
	return func() { _ = srv.Close() }, nil
}
