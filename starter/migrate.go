package main

import (
	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/tiershift/tiershift/schema"
	"github.com/tiershift/tiershift/store"
)

func newMigrateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Bring the database schema (DATABASE_URL) to this version of tiershift",
		Long: `Migrate applies every schema migration the database lacks. It is safe to run
again (a no-op when the schema is current) and from several processes at once.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			cfg, err := loadConfig(ctx)
			if err != nil {
				return err
			}
			conn, err := openConn(ctx, cfg)
			if err != nil {
				return err
			}
			defer conn.Close(ctx)
			from, to, err := schema.Migrate(ctx, conn)
			if err != nil {
				return err
			}
			log, tell := newLogger(cmd.ErrOrStderr(), cfg)
			fields := func(e *zerolog.Event) *zerolog.Event {
				return e.Int32("from", from).Int32("to", to).Str("database", store.DatabaseTarget(cfg.DatabaseURL))
			}
			if from == to {
				tell.say(cmd.OutOrStdout(), log, "schema is current", fields, "schema is current (version %d)\n", to)
			} else {
				tell.say(cmd.OutOrStdout(), log, "schema migrated", fields, "schema migrated from version %d to %d\n", from, to)
			}
			return nil
		},
	}
}
