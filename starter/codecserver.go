package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/tiershift/tiershift/codec"
	"github.com/tiershift/tiershift/config"
)

func newCodecServerCmd() *cobra.Command {
	var listen string
	var origins []string
	cmd := &cobra.Command{
		Use:   "codec-server",
		Short: "Serve Temporal's remote codec protocol so operators see decrypted payloads in the Web UI and CLI",
		Long: `codec-server decrypts (POST /decode) and encrypts (POST /encode) payloads for
the Temporal Web UI and CLI with the keys of ` + config.EnvCodecKeyFile + ` or ` + config.EnvCodecKeys + `,
so an operator sees partners' inputs, results and state while the Temporal
server only stores ciphertext.

Every request needs the operator token of ` + config.EnvCodecToken + ` (or the file
` + config.EnvCodecTokenFile + `), at least 16 characters: as "Authorization: Bearer TOKEN"
(temporal workflow show --codec-endpoint http://ADDR --codec-auth "Bearer TOKEN")
or as the first path segment, which is how the Web UI is pointed at it:
temporal server start-dev --ui-codec-endpoint http://ADDR/TOKEN, or the Web UI's
"Codec Server" setting. Whoever can open that Web UI can then read the
payloads: keep it behind the operators' login.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd.Context())
			if err != nil {
				return err
			}
			token, err := operatorToken(os.Getenv(config.EnvCodecToken), os.Getenv(config.EnvCodecTokenFile))
			if err != nil {
				return badInput(err)
			}
			cdc, err := codec.FromConfig(cfg)
			if err != nil {
				return badInput(err)
			}
			for _, o := range origins {
				if o != strings.TrimRight(o, "/") || !strings.Contains(o, "://") {
					return badInputf("--ui-origin %q: want scheme://host[:port] with no path or trailing slash, as the browser sends it", o)
				}
			}
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return fmt.Errorf("codec server: listen on %s: %w", listen, err)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			srv := &http.Server{Handler: codec.Handler(cdc, token, origins), ReadHeaderTimeout: 10 * time.Second}
			fmt.Fprintf(cmd.OutOrStdout(), "codec server listening on http://%s (Web UI codec endpoint: http://%s/$%s; CORS for %v)\n",
				ln.Addr(), ln.Addr(), config.EnvCodecToken, origins)
			errc := make(chan error, 1)
			go func() { errc <- srv.Serve(ln) }()
			select {
			case err := <-errc:
				return fmt.Errorf("codec server: %w", err)
			case <-ctx.Done():
			}
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("codec server: shut down: %w", err)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:8081", "address to serve on (host:port; port 0 picks a free one)")
	cmd.Flags().StringSliceVar(&origins, "ui-origin", []string{"http://localhost:8233", "http://127.0.0.1:8233"}, "Web UI origins allowed by CORS (repeatable)")
	return cmd
}

// operatorToken reads the codec server's token from the environment value
// or the file it names (never a flag), and refuses a short one.
func operatorToken(env, file string) (string, error) {
	token := env
	switch {
	case env != "" && file != "":
		return "", fmt.Errorf("both %s and %s are set: keep the token in one place", config.EnvCodecToken, config.EnvCodecTokenFile)
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("read the codec server's token (%s): %w", config.EnvCodecTokenFile, err)
		}
		token = string(b)
	}
	token = strings.TrimSpace(token)
	if len(token) < codec.MinTokenLength || strings.ContainsAny(token, "/ \t\n") {
		return "", fmt.Errorf("the codec server needs an operator token of at least %d characters without '/' or spaces in %s or %s", codec.MinTokenLength, config.EnvCodecToken, config.EnvCodecTokenFile)
	}
	return token, nil
}
