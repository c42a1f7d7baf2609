package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tiershift/tiershift/schema"
	"github.com/tiershift/tiershift/store"
)

func init() { commands = append(commands, newMigrateCmd) }

func newMigrateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Bring the database schema (DATABASE_URL) to this version of tiershift",
		Long: `Migrate applies every schema migration the database lacks. It is safe to run
again (a no-op when the schema is current) and from several processes at once.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			conn, err := openConn(ctx, cfg)
			if err != nil {
				return err
			}
			defer conn.Close(ctx)
			from, to, err := schema.Migrate(ctx, conn)
			if err != nil {
				return err
			}
			log := cmdLogger(cmd, cfg)
			log.Info().Int32("from", from).Int32("to", to).Str("database", store.DatabaseTarget(cfg.DatabaseURL)).Msg("schema migrated")
			if from == to {
				fmt.Fprintf(cmd.OutOrStdout(), "schema is current (version %d)\n", to)
			} else {
				fmt.Fprintf(cmd.OutOrStdout(), "schema migrated from version %d to %d\n", from, to)
			}
			return nil
		},
	}
}
