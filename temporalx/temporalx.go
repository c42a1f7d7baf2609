// Package temporalx connects tiershift's processes to Temporal: one place for
// dialing with a clear error, and for registering the search attributes the
// workflows need, so a new cluster works without a manual step.
package temporalx

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/rs/zerolog"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/tiershift/tiershift/codec"
	"github.com/tiershift/tiershift/config"
	"github.com/tiershift/tiershift/logging"
	"github.com/tiershift/tiershift/workflows"
)

// Dial connects to Temporal and checks that it answers, naming the address
// in the error so an operator knows what to start. Every payload the client
// sends is encrypted with the configured keys (package codec): the worker and
// every starter command dial here, so none writes personal data in clear.
func Dial(ctx context.Context, cfg config.Config, log zerolog.Logger) (client.Client, error) {
	opts := client.Options{
		HostPort:  cfg.TemporalAddress,
		Namespace: cfg.TemporalNamespace,
		Logger:    logging.NewTemporalLogger(log.Level(maxLevel(log.GetLevel(), zerolog.WarnLevel))),
	}
	if err := codec.Apply(cfg, &opts); errors.Is(err, codec.ErrNoKeys) {
		log.Warn().Msgf("payloads go to Temporal in clear, partners' names and email addresses included: set %s (or %s) to encrypt them", config.EnvCodecKeyFile, config.EnvCodecKeys)
	} else if err != nil {
		return nil, err
	}
	c, err := client.DialContext(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("connect to Temporal at %s (namespace %s): %w; is the server running? `make up` starts the dev server", cfg.TemporalAddress, cfg.TemporalNamespace, err)
	}
	hctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := c.CheckHealth(hctx, &client.CheckHealthRequest{}); err != nil {
		c.Close()
		return nil, fmt.Errorf("health check of Temporal at %s: %w", cfg.TemporalAddress, err)
	}
	return c, nil
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
