// Package metrics is what a worker tells Prometheus: the Temporal SDK's own
// metrics (polls, task latencies, schedule-to-start, failures) and
// tiershift's — outcomes by program and tier, emails by kind and status,
// activity failures, and how long emails waited on their rate-limited
// queue — on one registry served at /metrics.
package metrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
	"go.temporal.io/sdk/interceptor"
)

// Metric names, for dashboards and the tests that scrape them.
const (
	OutcomesTotal         = "tiershift_outcomes_total"
	EmailsTotal           = "tiershift_emails_total"
	ActivityFailuresTotal = "tiershift_activity_failures_total"
	EmailQueueLagSeconds  = "tiershift_email_queue_lag_seconds"
	emailActivityType     = "SendEmail"
	sdkMeterName          = "temporal-sdk-go"
	outcomeLabelsHelp     = "Tier changes written, by program, tier reached and outcome (promoted, kept, demoted, qualified, exempted, withdrawn); a retry that finds the change done is not counted again."
	emailLabelsHelp       = "Emails handled, by kind (announcement, reminder, outcome, ...) and status (sent, captured, failed); a retry that finds the email done is not counted again."
	activityFailureHelp   = "Activity attempts that returned an error, by activity type (each attempt counts: a Postgres outage shows as a rising rate)."
	emailQueueLagHelp     = "Seconds an email activity waited between being scheduled and a worker starting it: the rate-limited queue's backlog."
)

// Metrics is one worker's registry and tiershift's own collectors. The zero
// value is not usable; a nil *Metrics records nothing, so code that takes
// one works without metrics too.
type Metrics struct {
	registry *prometheus.Registry
	sdk      client.MetricsHandler

	outcomes         *prometheus.CounterVec
	emails           *prometheus.CounterVec
	activityFailures *prometheus.CounterVec
	emailQueueLag    prometheus.Histogram
}

// New makes a registry with the Go runtime and process collectors,
// tiershift's collectors, and an SDK metrics handler (the SDK's
// OpenTelemetry handler exported to the same registry).
func New() (*Metrics, error) {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		registry: reg,
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: OutcomesTotal, Help: outcomeLabelsHelp},
			[]string{"program", "tier", "outcome"}),
		emails: prometheus.NewCounterVec(prometheus.CounterOpts{Name: EmailsTotal, Help: emailLabelsHelp},
			[]string{"kind", "status"}),
		activityFailures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: ActivityFailuresTotal, Help: activityFailureHelp},
			[]string{"activity"}),
		emailQueueLag: prometheus.NewHistogram(prometheus.HistogramOpts{Name: EmailQueueLagSeconds, Help: emailQueueLagHelp,
			Buckets: prometheus.ExponentialBucketsRange(0.01, 3600, 16)}),
	}
	for _, c := range []prometheus.Collector{
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.outcomes, m.emails, m.activityFailures, m.emailQueueLag,
	} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}
	exporter, err := otelprom.New(otelprom.WithRegisterer(reg), otelprom.WithoutScopeInfo(), otelprom.WithoutTargetInfo())
	if err != nil {
		return nil, fmt.Errorf("SDK metrics exporter: %w", err)
	}
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter))
	m.sdk = temporalotel.NewMetricsHandler(temporalotel.MetricsHandlerOptions{
		Meter:                provider.Meter(sdkMeterName),
		UseMonotonicCounters: true,
		// A metric the exporter cannot take must not stop a worker.
		OnError: func(error) {},
	})
	return m, nil
}

// SDKHandler is the handler to give the Temporal client
// (temporalx.WithMetrics).
func (m *Metrics) SDKHandler() client.MetricsHandler { return m.sdk }

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}

// Outcome counts one tier change written (not one found already done).
func (m *Metrics) Outcome(program, tier, outcome string) {
	if m == nil {
		return
	}
	m.outcomes.WithLabelValues(program, tier, outcome).Inc()
}

// Email counts one email handled for the first time, by kind and status.
func (m *Metrics) Email(kind, status string) {
	if m == nil {
		return
	}
	m.emails.WithLabelValues(kind, status).Inc()
}

// Serve serves /metrics on addr until stop is called, on its own mux:
// nothing else is exposed. The address it listens on is returned (addr may
// end in :0).
func (m *Metrics) Serve(addr string, log zerolog.Logger) (listening string, stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", m.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			log.Error().Err(err).Msg("metrics server stopped")
		}
	}()
	return ln.Addr().String(), func() { _ = srv.Close() }, nil
}

// Interceptor counts failed activity attempts by type and observes each
// email's wait on its queue. Register it in the worker's options
// (worker.Options.Interceptors).
func (m *Metrics) Interceptor() interceptor.WorkerInterceptor {
	return &workerInterceptor{m: m}
}

type workerInterceptor struct {
	interceptor.WorkerInterceptorBase
	m *Metrics
}

func (w *workerInterceptor) InterceptActivity(ctx context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	a := &activityInbound{m: w.m}
	a.Next = next
	return a
}

type activityInbound struct {
	interceptor.ActivityInboundInterceptorBase
	m *Metrics
}

func (a *activityInbound) ExecuteActivity(ctx context.Context, in *interceptor.ExecuteActivityInput) (any, error) {
	info := activity.GetInfo(ctx)
	if info.ActivityType.Name == emailActivityType && !info.IsLocalActivity && !info.ScheduledTime.IsZero() {
		a.m.emailQueueLag.Observe(info.StartedTime.Sub(info.ScheduledTime).Seconds())
	}
	res, err := a.Next.ExecuteActivity(ctx, in)
	if err != nil {
		a.m.activityFailures.WithLabelValues(info.ActivityType.Name).Inc()
	}
	return res, err
}
