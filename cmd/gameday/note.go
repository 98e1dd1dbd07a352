package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	"github.com/gameday/gameday/control"
	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/workflows"
)

func newNoteCmd(a *app) *cobra.Command {
	var req workflows.NoteRequest
	var action bool
	cmd := &cobra.Command{
		Use:   `note RUN|GAMEDAY "text" [--action] [--by NAME]`,
		Short: "Record an observation or action item on a run or a game day",
		Long: `Record a note on a running experiment or game day (a Temporal Update,
validated by the workflow): what somebody saw, or with --action something
somebody must do afterwards. It is kept with its author and time and shown by
status.`,
		Args: args(cobra.ExactArgs(2)),
		RunE: func(cmd *cobra.Command, pos []string) error {
			req.Text = pos[1]
			if strings.TrimSpace(req.Text) == "" {
				return usageErr("the note's text is empty")
			}
			if !cmd.Flags().Changed("by") {
				req.By = a.cfg.User
			}
			req.Kind = experiment.NoteObservation
			if action {
				req.Kind = experiment.NoteAction
			}
			return a.withClient(cmd.Context(), func(c client.Client) error {
				what, err := control.Note(cmd.Context(), c, pos[0], req)
				if err != nil {
					return fmt.Errorf("note refused: %w", err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s noted on %s %s\n", req.Kind, what, pos[0])
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&action, "action", false, "an action item rather than an observation")
	cmd.Flags().StringVar(&req.By, "by", "", "who notes it (default $USER)")
	return cmd
}
