package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/tiershift/tiershift/delivery"
)

// Environment of the webhook command.
const (
	envWebhookAddr = "TIERSHIFT_WEBHOOK_ADDR"
	envWebhookKey  = "SENDGRID_WEBHOOK_PUBLIC_KEY"
	// defaultWebhookAddr is loopback: the public side is a TLS reverse
	// proxy (see docs/operators.md), never this process.
	defaultWebhookAddr = "127.0.0.1:8089"
)

func newWebhookCmd() *cobra.Command {
	addr := os.Getenv(envWebhookAddr)
	if addr == "" {
		addr = defaultWebhookAddr
	}
	cmd := &cobra.Command{
		Use:   "webhook [--addr host:port]",
		Short: "Receive SendGrid's Event Webhook: delivery states, and bounces told to the transitions",
		Long: `webhook serves POST ` + delivery.Path + ` for SendGrid's signed Event Webhook. It
verifies every request with the verification key in ` + envWebhookKey + `
(SendGrid: Settings > Mail Settings > Event Webhook > Signature Verification),
answers 401 to a missing or bad signature, stores each event once by its
sg_event_id, keeps each email's latest delivery state, and signals the
partner's transition when its announcement, extension or outcome email bounced
or was dropped. It runs until SIGTERM or Ctrl-C.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runWebhook(ctx, cmd.ErrOrStderr(), addr, nil)
		},
	}
	cmd.Flags().StringVar(&addr, "addr", addr, "listen address (env "+envWebhookAddr+")")
	return cmd
}

// runWebhook serves until ctx ends. ready, when set, receives the address
// actually listened on (tests listen on :0).
func runWebhook(ctx context.Context, errOut io.Writer, addr string, ready chan<- string) error {
	rawKey := os.Getenv(envWebhookKey)
	if rawKey == "" {
		return badInputf("%s is not set: copy the verification key SendGrid shows once signed event webhooks are enabled", envWebhookKey)
	}
	key, err := delivery.ParsePublicKey(rawKey)
	if err != nil {
		return badInputf("%s: %v", envWebhookKey, err)
	}
	env, err := openOps(ctx, errOut, true)
	if err != nil {
		return err
	}
	defer env.Close()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return badInputf("--addr %s: %v", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle(delivery.Path, delivery.NewHandler(env.pool, key, env.tc, env.log))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute}
	env.tell.say(errOut, env.log, "event webhook listening", func(e *zerolog.Event) *zerolog.Event {
		return e.Str("addr", ln.Addr().String()).Str("path", delivery.Path)
	}, "event webhook listening on http://%s%s\n", ln.Addr(), delivery.Path)
	if ready != nil {
		ready <- ln.Addr().String()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("event webhook: %w", err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("event webhook: shut down: %w", err)
	}
	return nil
}
