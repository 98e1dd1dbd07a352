package slackbot

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/slack-go/slack"

	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/internal/yamlx"
	"github.com/gameday/gameday/scenarios"
)

// reply is the immediate answer to a slash command. Everything the bot
// says to one person is ephemeral: a refusal or a typo is nobody else's
// business, and the run message is what the channel shares.
type reply struct {
	ResponseType string `json:"response_type"`
	Text         string `json:"text"`
}

func ephemeral(format string, args ...any) *reply {
	return &reply{ResponseType: slack.ResponseTypeEphemeral, Text: fmt.Sprintf(format, args...)}
}

func usage(cmd string) string {
	if cmd == "" {
		cmd = "/gameday"
	}
	lines := []string{
		"*Game days from Slack*",
		"• `CMD run <scenario> [key=value ...]` start an experiment from the catalog; overrides such as `duration=30s`, `latency=200ms`, `inventory-latency.jitter=10ms`",
		"• `CMD dry-run <scenario> [key=value ...]` define only: targets and guard baselines, nothing injected",
		"• `CMD status [run]` one run, or the runs followed in this channel",
		"• `CMD abort <run> <reason...>` abort now; whatever was injected is removed",
		"• `CMD pause <run> [reason...]` remove the faults and hold, guards still watching; `CMD resume <run>` (or `continue`, after a drift pause) re-injects what was left",
		"• `CMD note <run> [--action] <text...>` record an observation or action item (status, thread, postmortem, ticket)",
		"• `CMD abort all <reason...>` abort every running experiment and game day (kill switch)",
		"• `CMD freeze on|off <reason...>` while on, every new run is refused, scheduled ones too (kill switch); `CMD freeze` shows it",
		"• `CMD list` the scenario catalog",
		"• `CMD help` this text",
		"Sign-off, pause, resume and abort are also buttons on the run message.",
	}
	// Slack reads <…> as a link or mention, even in code, so the
	// placeholders are escaped.
	return strings.NewReplacer("CMD", cmd, "<", "&lt;", ">", "&gt;").Replace(strings.Join(lines, "\n"))
}

// slackUnescape undoes the escaping Slack applies to command text.
var slackUnescape = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&")

// command answers a slash command within Slack's 3 seconds: checks and
// parsing happen here, anything that waits on Temporal runs in the
// background or within the ack budget. Shared by HTTP and Socket Mode.
// key identifies the request (requestKey): a run it starts gets the
// workflow id derived from it, so a replay cannot start a second run. Nil
// lets the engine pick the id.
func (b *Bot) command(cmd slack.SlashCommand, key []byte) *reply {
	text := strings.TrimSpace(slackUnescape.Replace(cmd.Text))
	fields := strings.Fields(text)
	sub := "help"
	if len(fields) > 0 {
		sub = strings.ToLower(fields[0])
	}
	// Log what was asked, never the text itself (reasons and overrides
	// are user input, and the raw request body stays out of logs).
	logged := sub
	if !knownSub[sub] {
		logged = "unknown"
	}
	b.logger.Info("slack: command", "sub", logged, "user", cmd.UserID, "channel", cmd.ChannelID)
	if !b.cfg.ChannelAllowed(cmd.ChannelID) {
		return ephemeral("Game days are run from %s only, so everyone involved sees them.", channelList(b.cfg.Channels))
	}
	switch sub {
	case "help", "-h", "--help":
		return ephemeral("%s", usage(cmd.Command))
	case "list":
		return b.cmdList(cmd)
	case "run", "dry-run":
		return b.cmdRun(cmd, sub == "dry-run", fields[1:], key)
	case "status":
		return b.cmdStatus(cmd, fields[1:])
	case "abort":
		if f := strings.Fields(text); len(f) > 1 && strings.EqualFold(f[1], "all") {
			return b.cmdAbortAll(cmd, text)
		}
		return b.cmdAbort(cmd, text)
	case "pause":
		return b.cmdPause(cmd, text)
	case "resume", "continue":
		return b.cmdResume(cmd, sub, fields[1:])
	case "note":
		return b.cmdNote(cmd, text)
	case "freeze":
		return b.cmdFreeze(cmd, text)
	}
	return ephemeral("Unknown subcommand `%s`.\n%s", esc(sub), usage(cmd.Command))
}

var knownSub = map[string]bool{"help": true, "-h": true, "--help": true, "list": true, "run": true, "dry-run": true, "status": true, "abort": true,
	"pause": true, "resume": true, "continue": true, "note": true, "freeze": true}

func channelList(ids []string) string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = "<#" + id + ">"
	}
	return strings.Join(out, ", ")
}

func (b *Bot) catalog() ([]scenarios.Scenario, error) {
	scs, err := b.eng.Scenarios()
	if err != nil {
		return nil, fmt.Errorf("could not read the scenario catalog: %w", err)
	}
	sort.Slice(scs, func(i, j int) bool { return scs[i].Metadata.Name < scs[j].Metadata.Name })
	return scs, nil
}

func (b *Bot) cmdList(cmd slack.SlashCommand) *reply {
	if err := b.cfg.Access.Can(cmd.UserID, ActionList, ""); err != nil {
		return ephemeral(":no_entry: %s", esc(err.Error()))
	}
	scs, err := b.catalog()
	if err != nil {
		return ephemeral(":warning: %s", esc(err.Error()))
	}
	var sb strings.Builder
	sb.WriteString("*Scenarios* (:arrow_forward: = you may run it)\n")
	for _, sc := range scs {
		mark := ":white_small_square:"
		if b.cfg.Access.CanRunScenario(cmd.UserID, ActionRun, sc) == nil {
			mark = ":arrow_forward:"
		}
		desc, _, _ := strings.Cut(strings.TrimSpace(sc.Spec.Description), "\n")
		fmt.Fprintf(&sb, "%s `%s` — %s — %s", mark, esc(sc.Metadata.Name), esc(sc.Metadata.Service), esc(truncate(desc, 120)))
		if roles := sc.Spec.Signoff.Roles; len(roles) > 0 {
			fmt.Fprintf(&sb, " (sign-off: %s)", strings.Join(roles, ", "))
		}
		sb.WriteByte('\n')
	}
	return ephemeral("%s", truncate(sb.String(), 3900))
}

// parseParams reads key=value overrides; the engine validates them against
// the scenario, so only the shape is checked here.
func parseParams(args []string) (map[string]string, error) {
	params := map[string]string{}
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("`%s` is not key=value", esc(a))
		}
		if _, dup := params[k]; dup {
			return nil, fmt.Errorf("`%s` is given twice", esc(k))
		}
		params[k] = v
	}
	return params, nil
}

func (b *Bot) cmdRun(cmd slack.SlashCommand, dry bool, args []string, key []byte) *reply {
	action := ActionRun
	if dry {
		action = ActionDryRun
	}
	if _, err := b.cfg.Access.user(cmd.UserID); err != nil {
		return ephemeral(":no_entry: %s", esc(err.Error()))
	}
	if len(args) == 0 {
		return ephemeral("Which scenario? `%s %s &lt;scenario&gt; [key=value ...]` (see `%s list`)", cmd.Command, action, cmd.Command)
	}
	name := args[0]
	params, err := parseParams(args[1:])
	if err != nil {
		return ephemeral(":warning: %s", err.Error())
	}
	// The one lookup of the scenario: the value checked below is the value
	// started, never looked up again by name (a file of that name in the
	// bot's directory, say).
	scs, err := b.catalog()
	if err != nil {
		return ephemeral(":warning: %s", esc(err.Error()))
	}
	var sc *scenarios.Scenario
	names := make([]string, 0, len(scs))
	for i := range scs {
		names = append(names, scs[i].Metadata.Name)
		if scs[i].Metadata.Name == name {
			sc = &scs[i]
		}
	}
	if sc == nil {
		msg := fmt.Sprintf(":grey_question: No scenario `%s`.", esc(name))
		if near := yamlx.Suggest(name, names); len(near) > 0 {
			msg += " Did you mean `" + strings.Join(near, "`, `") + "`?"
		} else {
			msg += fmt.Sprintf(" See `%s list`.", cmd.Command)
		}
		return ephemeral("%s", msg)
	}
	if err := b.cfg.Access.CanRunScenario(cmd.UserID, action, *sc); err != nil {
		return ephemeral(":no_entry: %s", esc(err.Error()))
	}
	if err := b.cfg.Access.CanOverride(cmd.UserID, slices.Collect(maps.Keys(params))); err != nil {
		return ephemeral(":no_entry: %s", esc(err.Error()))
	}
	by := b.displayName(cmd.UserID, cmd.UserName)
	req := StartRequest{
		Scenario: *sc, Params: params, DryRun: dry, By: by, ByID: cmd.UserID, Channel: cmd.ChannelID,
		WorkflowID: runWorkflowID(name, key),
	}
	seed := experiment.Result{Scenario: name, Service: sc.Metadata.Service, Outcome: experiment.Running}
	b.logger.Info("slack: starting run", "scenario", name, "dry_run", dry, "by", by, "user", cmd.UserID, "workflow_id", req.WorkflowID)
	if !b.spawn(workTimeout, func(ctx context.Context) { b.startRun(ctx, cmd, req, seed) }) {
		return ephemeral(":warning: The bot is shutting down; try again in a moment.")
	}
	what := "Starting"
	if dry {
		what = "Dry-running"
	}
	return ephemeral(":hourglass_flowing_sand: %s `%s`%s… the run message will appear in this channel.", what, esc(name), paramsText(params))
}

func paramsText(p map[string]string) string {
	if len(p) == 0 {
		return ""
	}
	kv := make([]string, 0, len(p))
	for _, k := range slices.Sorted(maps.Keys(p)) {
		kv = append(kv, k+"="+p[k])
	}
	return " with " + esc(strings.Join(kv, " "))
}

// startRun is the slow half of run: start the workflow, then post and
// follow its message. Failures go to the user who asked. A request that
// already started its run (a replay, on this replica or another) gets a
// link to that run and nothing else: its message is the first start's.
func (b *Bot) startRun(ctx context.Context, cmd slack.SlashCommand, req StartRequest, seed experiment.Result) {
	name := req.Scenario.Metadata.Name
	id, err := b.eng.Start(ctx, req)
	if dup, ok := errors.AsType[*AlreadyStartedError](err); ok {
		b.logger.Warn("slack: duplicate start refused", "scenario", name, "user", cmd.UserID, "workflow_id", dup.WorkflowID)
		b.ephemeral(cmd.ChannelID, cmd.UserID, fmt.Sprintf(":information_source: `%s` already started: %s", esc(name), runLink(dup.WorkflowID, dup.URL)))
		return
	}
	if err != nil {
		b.logger.Warn("slack: start failed", "scenario", name, "user", cmd.UserID, "error", err)
		b.ephemeral(cmd.ChannelID, cmd.UserID, fmt.Sprintf(":x: Could not start `%s`: %s", esc(name), esc(err.Error())))
		return
	}
	seed.WorkflowID = id
	if err := b.watch(b.ctx, cmd.ChannelID, seed, false); err != nil {
		b.logger.Warn("slack: run message failed", "workflow_id", id, "error", err)
		b.ephemeral(cmd.ChannelID, cmd.UserID, fmt.Sprintf(":warning: Started `%s` but could not post its message (%s); follow it with `%s status %s`.",
			esc(id), esc(err.Error()), cmd.Command, esc(id)))
	}
}

// runLink is a run as a Slack link to its Temporal UI page, or its id
// when there is no page.
func runLink(id, url string) string {
	if url == "" {
		return "`" + esc(id) + "`"
	}
	return "<" + url + "|" + esc(id) + ">"
}

func (b *Bot) cmdStatus(cmd slack.SlashCommand, args []string) *reply {
	if err := b.cfg.Access.Can(cmd.UserID, ActionStatus, ""); err != nil {
		return ephemeral(":no_entry: %s", esc(err.Error()))
	}
	if len(args) == 0 {
		runs := b.followed(cmd.ChannelID)
		if len(runs) == 0 {
			return ephemeral("No runs are being followed in this channel. `%s status &lt;run&gt;` looks one up.", cmd.Command)
		}
		sort.Slice(runs, func(i, j int) bool { return runs[i].WorkflowID < runs[j].WorkflowID })
		lines := make([]string, len(runs))
		for i, r := range runs {
			lines[i] = "• `" + esc(r.WorkflowID) + "` " + esc(summary(r))
		}
		return ephemeral("*Runs followed here*\n%s", strings.Join(lines, "\n"))
	}
	id := args[0]
	work := func(ctx context.Context) *reply {
		r, err := b.eng.Status(ctx, id)
		if err != nil {
			return ephemeral(":warning: No status for `%s`: %s", esc(id), esc(err.Error()))
		}
		return ephemeral("%s", statusText(r))
	}
	return soon(b, work, ephemeral(":hourglass_flowing_sand: Looking up `%s`…", esc(id)), func(r *reply) {
		b.ephemeral(cmd.ChannelID, cmd.UserID, r.Text)
	})
}

// statusText is the status answer: the summary plus what to do next.
func statusText(r experiment.Result) string {
	s := fmt.Sprintf("*%s*\n`%s` · phase %s · outcome %s", esc(summary(r)), esc(r.WorkflowID), orDash(r.Phase), r.Outcome)
	if p := r.PendingRoles(); len(p) > 0 && r.AwaitingSignoff() {
		s += "\nwaiting for sign-off: " + strings.Join(p, ", ")
	}
	if r.Breach != nil {
		s += "\n:rotating_light: " + esc(r.Breach.String())
	}
	s += pauseStatus(r)
	if n := len(r.Notes); n > 0 {
		s += fmt.Sprintf("\n:memo: %d note(s)", n)
	}
	if r.Postmortem != "" {
		s += "\npostmortem: " + esc(r.Postmortem)
	}
	if r.UIURL != "" {
		s += "\n<" + r.UIURL + "|Temporal UI>"
	}
	return s
}

func (b *Bot) cmdAbort(cmd slack.SlashCommand, text string) *reply {
	if err := b.cfg.Access.Can(cmd.UserID, ActionAbort, ""); err != nil {
		return ephemeral(":no_entry: %s", esc(err.Error()))
	}
	// text is "abort <run> <reason...>": keep the reason's own spacing.
	id, reason := runAndRest(text)
	if reason == "" {
		return ephemeral("An abort needs the run and a reason: `%s abort &lt;run&gt; &lt;reason...&gt;`", cmd.Command)
	}
	by := b.displayName(cmd.UserID, cmd.UserName)
	b.logger.Info("slack: abort requested", "workflow_id", id, "by", by, "user", cmd.UserID)
	work := func(ctx context.Context) *reply {
		if err := b.eng.Abort(ctx, id, reason, by); err != nil {
			return ephemeral(":no_entry: Abort of `%s` refused: %s", esc(id), esc(err.Error()))
		}
		b.nudgeWatcher(id)
		return ephemeral(":octagonal_sign: Abort of `%s` requested; whatever was injected is being removed.", esc(id))
	}
	return soon(b, work, ephemeral(":hourglass_flowing_sand: Aborting `%s`…", esc(id)), func(r *reply) {
		b.ephemeral(cmd.ChannelID, cmd.UserID, r.Text)
	})
}
