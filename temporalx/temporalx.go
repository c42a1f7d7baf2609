// Package temporalx connects tiershift's processes to Temporal: one place for
// dialing with a clear error, and for registering the search attributes the
// workflows need, so a new cluster works without a manual step.
package temporalx

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/contrib/envconfig"

	"github.com/tiershift/tiershift/codec"
	"github.com/tiershift/tiershift/config"
	"github.com/tiershift/tiershift/logging"
	"github.com/tiershift/tiershift/workflows"
)

// Option adds to the client options every process dials with (a metrics
// handler, say), so there stays one place that dials.
type Option func(*client.Options)

// WithMetrics reports the SDK's metrics (polls, task latencies, failures)
// to h, e.g. the worker's Prometheus registry.
func WithMetrics(h client.MetricsHandler) Option {
	return func(o *client.Options) { o.MetricsHandler = h }
}

// ClientOptions is how every tiershift process connects: the envconfig
// profile of cfg (API key, TLS, gRPC headers) at cfg's address and
// namespace, with tiershift's logger and payload codec, then opts. Every
// payload the client sends is encrypted with the configured keys (package
// codec): the worker and every starter command dial here, so none writes
// personal data in clear.
func ClientOptions(cfg config.Config, log zerolog.Logger, opts ...Option) (client.Options, error) {
	o, err := cfg.Temporal.ToClientOptions(envconfig.ToClientOptionsRequest{})
	if err != nil {
		return o, fmt.Errorf("the Temporal connection to %s: %w", cfg.TemporalAddress, err)
	}
	o.HostPort, o.Namespace = cfg.TemporalAddress, cfg.TemporalNamespace
	o.Logger = logging.NewTemporalLogger(log.Level(maxLevel(log.GetLevel(), zerolog.WarnLevel)))
	if err := codec.Apply(cfg, &o); errors.Is(err, codec.ErrNoKeys) {
		log.Warn().Msgf("payloads go to Temporal in clear, partners' names and email addresses included: set %s (or %s) to encrypt them", config.EnvCodecKeyFile, config.EnvCodecKeys)
	} else if err != nil {
		return o, err
	}
	for _, opt := range opts {
		opt(&o)
	}
	return o, nil
}

// Dial connects to Temporal and checks that it answers, naming the address
// in the error so an operator knows what to start or which setting to fix.
func Dial(ctx context.Context, cfg config.Config, log zerolog.Logger, opts ...Option) (client.Client, error) {
	o, err := ClientOptions(cfg, log, opts...)
	if err != nil {
		return nil, err
	}
	c, err := client.DialContext(ctx, o)
	if err != nil {
		return nil, fmt.Errorf("connect to Temporal at %s (namespace %s): %w; %s", cfg.TemporalAddress, cfg.TemporalNamespace, err, hint(cfg, err))
	}
	hctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := c.CheckHealth(hctx, &client.CheckHealthRequest{}); err != nil {
		c.Close()
		return nil, fmt.Errorf("health check of Temporal at %s: %w", cfg.TemporalAddress, err)
	}
	return c, nil
}

// hint says what most likely went wrong: a certificate the other side does
// not trust, TLS on one side only, or no server at all. gRPC reports a TLS
// failure as text, so the text is what is matched.
func hint(cfg config.Config, err error) string {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "x509:") || strings.Contains(msg, "certificate"):
		return fmt.Sprintf("the TLS handshake failed: check that %s is the CA that signed the server's certificate, "+
			"%s matches a name in it, and %s/%s is a client certificate the server's CA signed",
			config.EnvTemporalTLSCA, config.EnvTemporalTLSName, config.EnvTemporalTLSCert, config.EnvTemporalTLSKey)
	case cfg.TemporalTLS() && (strings.Contains(msg, "first record does not look like a TLS handshake") || strings.Contains(msg, "tls:")):
		return "the TLS handshake failed: does the server at that address serve TLS?"
	case !cfg.TemporalTLS() && (strings.Contains(msg, "connection reset") || strings.Contains(msg, "EOF") || strings.Contains(msg, "http2")):
		return fmt.Sprintf("the server may require TLS: set %s and, for mTLS, %s and %s (or %s for an API key)",
			config.EnvTemporalTLSCA, config.EnvTemporalTLSCert, config.EnvTemporalTLSKey, config.EnvTemporalAPIKey)
	default:
		return "is the server running? `make up` starts the dev server, `make cluster` a cluster"
	}
}

func maxLevel(a, b zerolog.Level) zerolog.Level {
	if a > b {
		return a
	}
	return b
}

// EnsureSearchAttributes registers the workflows' custom search attributes
// that the namespace lacks, and fails if one exists with another type.
func EnsureSearchAttributes(ctx context.Context, c client.Client, namespace string) (added []string, err error) {
	want := workflows.SearchAttributes()
	resp, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return nil, fmt.Errorf("list search attributes of namespace %s: %w", namespace, err)
	}
	missing := map[string]enums.IndexedValueType{}
	for name, typ := range want {
		have, ok := resp.GetCustomAttributes()[name]
		if !ok {
			missing[name] = typ
			continue
		}
		if have != typ {
			return nil, fmt.Errorf("search attribute %s has type %s in namespace %s, tiershift needs %s", name, have, namespace, typ)
		}
	}
	if len(missing) == 0 {
		return nil, nil
	}
	if _, err := c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
		Namespace: namespace, SearchAttributes: missing,
	}); err != nil {
		return nil, fmt.Errorf("add search attributes to namespace %s: %w", namespace, err)
	}
	for name := range missing {
		added = append(added, name)
	}
	sort.Strings(added)
	return added, nil
}
