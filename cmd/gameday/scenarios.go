package main

import (
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
			return validateFiles(cmd, files, func(f string) (string, error) {
				s, err := scenarios.Load(f)
				return fmt.Sprintf("%s, %d fault(s), %d guard(s)", s.Metadata.Name, len(s.Spec.Faults), len(s.Spec.Guards)), err
			})
		},
	})
	return cmd
}

// validateFiles loads each file, printing "ok" with a summary or the
// loader's FILE:LINE: FIELD errors; exit 1 when any is invalid.
func validateFiles(cmd *cobra.Command, files []string, load func(string) (string, error)) error {
	bad := 0
	for _, f := range files {
		summary, err := load(f)
		if err != nil {
			bad++
			fmt.Fprintln(cmd.ErrOrStderr(), err)
			continue
		}
		fmt.Fprintf(cmd.OutOrStdout(), "%s: ok (%s)\n", f, summary)
	}
	if bad > 0 {
		return &exitErr{code: exitError, err: fmt.Errorf("%d of %d file(s) invalid", bad, len(files))}
	}
	return nil
}
