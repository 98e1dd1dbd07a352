package main

import (
	"errors"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/gameday/gameday/scenarios"
)

func newScenariosCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "scenarios",
		Short: "List and validate scenarios",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "List the scenarios built into this binary",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			all, err := scenarios.Catalog()
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tSERVICE\tBACKEND\tFAULTS\tHOLD\tSIGN-OFF")
			for _, s := range all {
				roles := "-"
				if len(s.Spec.Signoff.Roles) > 0 {
					roles = fmt.Sprint(s.Spec.Signoff.Roles)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", s.Metadata.Name, s.Metadata.Service, s.Spec.Target.Backend, len(s.Spec.Faults), s.HoldDuration(), roles)
			}
			return tw.Flush()
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "validate FILE...",
		Short: "Validate scenario files; errors name the file, line and field",
		Args:  args(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, files []string) error {
			bad := 0
			for _, f := range files {
				s, err := scenarios.Load(f)
				if err != nil {
					bad++
					fmt.Fprintln(cmd.ErrOrStderr(), err)
					continue
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: ok (%s, %d fault(s), %d guard(s))\n", f, s.Metadata.Name, len(s.Spec.Faults), len(s.Spec.Guards))
			}
			if bad > 0 {
				return &exitErr{code: exitError, err: errors.New(fmt.Sprintf("%d of %d file(s) invalid", bad, len(files)))}
			}
			return nil
		},
	})
	return cmd
}
