package slackbot

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/sli"
)

// Action ids of the run message's buttons. The sign-off id carries the
// role because action ids must be unique within a message.
const (
	actionSignoffPrefix = "gameday_signoff:"
	actionAbort         = "gameday_abort"
)

// phaseOrder is the order phases are shown in, run or not, so everyone in
// the channel sees where the run is and what is still to come.
var phaseOrder = []string{
	experiment.PhaseDefine, experiment.PhaseSignoff, experiment.PhaseInject, experiment.PhaseObserve,
	experiment.PhaseRecover, experiment.PhaseVerify, experiment.PhaseReport,
}

// esc escapes the three characters Slack's mrkdwn treats as markup, for
// text that comes from users, scenarios or errors.
func esc(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func mrkdwn(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
}
func plain(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, s, false, false)
}

// render builds the run message: a fallback text (notifications, screen
// readers) and the blocks. It is a pure function of the result — no clock
// — so the watcher can compare renders and skip chat.update when nothing
// visible changed.
func render(r experiment.Result) (string, []slack.Block) { return renderWith(r, "") }

// renderWith is render with the kill switch's line (frozenLine) under the
// header while the run is not over; "" shows none.
func renderWith(r experiment.Result, switchLine string) (string, []slack.Block) {
	title := r.Scenario
	if title == "" {
		title = r.WorkflowID
	}
	blocks := []slack.Block{
		slack.NewHeaderBlock(plain(truncate("Game day: "+title, 150))),
		slack.NewSectionBlock(nil, []*slack.TextBlockObject{
			mrkdwn("*Service*\n" + orDash(esc(r.Service))),
			mrkdwn("*Run*\n`" + esc(r.WorkflowID) + "`"),
			mrkdwn("*Phase*\n" + orDash(esc(r.Phase))),
			mrkdwn("*Outcome*\n" + outcomeText(r)),
		}, nil),
		slack.NewSectionBlock(mrkdwn(phasesText(r)), nil, nil),
	}
	if switchLine != "" && !r.Final() {
		blocks = slices.Insert(blocks, 1, slack.Block(slack.NewSectionBlock(mrkdwn(switchLine), nil, nil)))
	}
	if len(r.Overrides) > 0 {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(truncate(overridesText(r), 3000)), nil, nil))
	}
	if len(r.RequiredRoles) > 0 {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(signoffText(r)), nil, nil))
	}
	if g := guardsText(r); g != "" {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(truncate(g, 3000)), nil, nil))
	}
	if p := pausesText(r); p != "" {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(truncate(p, 3000)), nil, nil))
	}
	if r.Finished() {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(truncate(resultText(r), 3000)), nil, nil))
	}
	if r.Gate != nil {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(truncate(gateText(r), 3000)), nil, nil))
	}
	if buttons := actionButtons(r); len(buttons) > 0 {
		blocks = append(blocks, slack.NewActionBlock("gameday_actions", buttons...))
	}
	if r.UIURL != "" {
		blocks = append(blocks, slack.NewContextBlock("gameday_links", mrkdwn("<"+r.UIURL+"|Open in the Temporal UI>")))
	}
	return esc(summary(r)), blocks
}

// summary is the one-line text form of a run, also used by /gameday status.
func summary(r experiment.Result) string {
	name := r.Scenario
	if name == "" {
		name = r.WorkflowID
	}
	switch {
	case r.Final():
		s := fmt.Sprintf("Game day %s: %s", name, r.Outcome)
		if why := reasonOf(r); why != "" {
			s += " — " + why
		}
		return s
	case r.Finished():
		return fmt.Sprintf("Game day %s: %s, cleaning up (%s)", name, r.Outcome, r.Phase)
	case r.Phase == "":
		return fmt.Sprintf("Game day %s: starting", name)
	default:
		return fmt.Sprintf("Game day %s: %s", name, r.Phase)
	}
}

func reasonOf(r experiment.Result) string {
	if r.AbortReason != "" {
		return r.AbortReason
	}
	return r.Error
}

func outcomeText(r experiment.Result) string {
	icon := map[experiment.Outcome]string{
		experiment.Passed: ":white_check_mark:", experiment.Aborted: ":octagonal_sign:",
		experiment.Failed: ":x:", experiment.Cancelled: ":no_entry_sign:", experiment.Expired: ":hourglass:",
		experiment.DryRun: ":test_tube:",
	}[r.Outcome]
	if !r.Finished() {
		return ":large_blue_circle: running"
	}
	s := icon + " " + string(r.Outcome)
	if !r.Final() {
		s += " (recovering…)"
	}
	return s
}

func phaseIcon(status string) string {
	switch status {
	case experiment.StatusRunning:
		return ":hourglass_flowing_sand:"
	case experiment.StatusDone:
		return ":white_check_mark:"
	case experiment.StatusFailed:
		return ":x:"
	case experiment.StatusSkipped:
		return ":fast_forward:"
	case experiment.StatusCancelled:
		return ":no_entry_sign:"
	case experiment.StatusPaused:
		return ":double_vertical_bar:"
	}
	return ":white_circle:"
}

func phasesText(r experiment.Result) string {
	var b strings.Builder
	for _, name := range phaseList(r) {
		var p *experiment.Phase
		for i := range r.Phases {
			if r.Phases[i].Name == name {
				p = &r.Phases[i]
			}
		}
		switch {
		case p != nil:
			fmt.Fprintf(&b, "%s *%s* %s", phaseIcon(p.Status), name, p.Status)
			if p.Detail != "" {
				b.WriteString(" — " + esc(truncate(p.Detail, 200)))
			}
		case r.Final():
			fmt.Fprintf(&b, ":heavy_minus_sign: *%s* not run", name)
		default:
			fmt.Fprintf(&b, ":white_circle: *%s*", name)
		}
		b.WriteByte('\n')
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// overridesText lists the values this run changed from the scenario.
func overridesText(r experiment.Result) string {
	parts := make([]string, 0, len(r.Overrides))
	for _, o := range r.Overrides {
		parts = append(parts, "`"+esc(o.String())+"`")
	}
	return "*Changed from the scenario* " + strings.Join(parts, " · ")
}

func signoffText(r experiment.Result) string {
	parts := make([]string, 0, len(r.RequiredRoles))
	for _, role := range r.RequiredRoles {
		s, signed := r.SignoffFor(role)
		switch {
		case !signed && r.Signers != nil:
			parts = append(parts, role+" :hourglass: pending ("+esc(orNobody(r.MaySign(role)))+" may sign)")
		case !signed:
			parts = append(parts, role+" :hourglass: pending")
		case s.Approved:
			parts = append(parts, role+" :white_check_mark: "+esc(s.User))
		default:
			parts = append(parts, role+" :no_entry: rejected by "+esc(s.User)+": "+esc(s.Reason))
		}
	}
	return "*Sign-off* " + strings.Join(parts, " · ")
}

func num(v float64) string { return fmt.Sprintf("%.4g", v) }

// breachCondition is the healthy condition with the threshold to 4
// significant digits (a probe's says its latency limit).
func breachCondition(br *sli.Breach) string {
	if br.SourceLabel() == "probe" {
		return br.Condition()
	}
	return br.Op + " " + num(br.Threshold)
}

func guardsText(r experiment.Result) string {
	var lines []string
	// The latest values: verify's after recovery, else define's baseline.
	vals, label := r.Baseline, "baseline"
	if len(r.Verify) > 0 {
		vals, label = r.Verify, "verify"
	}
	for _, g := range vals {
		state := "healthy"
		switch {
		case g.Error != "":
			state = "error: " + esc(truncate(g.Error, 120))
		case !g.Healthy:
			state = "unhealthy"
		}
		lines = append(lines, fmt.Sprintf("• `%s` %s (%s, %s)", esc(g.Guard), esc(sli.DescribeReading(g.Kind, g.Value, g.NoData, g.Reason)), label, state))
	}
	lines = append(lines, driftLines(r)...)
	if br := r.Breach; br != nil {
		lines = append(lines, ":rotating_light: "+esc(br.String()))
	}
	if r.Unguarded {
		lines = append([]string{":warning: *UNGUARDED*: no guard watches this run; nothing aborts it on an outage"}, lines...)
	}
	for _, m := range r.RecoverAlarms {
		lines = append(lines, ":warning: "+esc(truncate(m, 300)))
	}
	if len(lines) == 0 {
		return ""
	}
	return "*Guards*\n" + strings.Join(lines, "\n")
}

func resultText(r experiment.Result) string {
	s := "*Outcome* " + outcomeText(r)
	if why := reasonOf(r); why != "" {
		s += " — " + esc(why)
	}
	return s
}

func gateText(r experiment.Result) string {
	g := r.Gate
	verdict := ":no_entry: Release gate *failed*"
	switch {
	case g.Passed:
		verdict = ":white_check_mark: Release gate *passed*"
	case len(g.Pending) > 0:
		verdict = ":hourglass: Release gate *provisional*"
	}
	s := fmt.Sprintf("%s (%s): score %s%% (threshold %s%%)", verdict, esc(g.Checklist), num(g.Score), num(g.Threshold))
	if len(g.BlockingFailed) > 0 {
		s += "\nstrong-blocking failed: " + esc(strings.Join(g.BlockingFailed, ", "))
	}
	if len(g.Unsigned) > 0 {
		s += "\nunsigned: " + esc(strings.Join(g.Unsigned, ", "))
	}
	if g.Reason != "" {
		s += "\n" + esc(g.Reason)
	}
	for _, it := range g.Items {
		for _, c := range it.Checks {
			s += "\nevidence " + esc(it.ID) + ": " + esc(c.String())
		}
	}
	return s
}

// actionButtons: one sign-off button per role still to sign while the
// gate is open, Pause or Resume (control.go), and Abort while aborting
// still changes something.
func actionButtons(r experiment.Result) []slack.BlockElement {
	var out []slack.BlockElement
	if r.AwaitingSignoff() {
		for _, role := range r.PendingRoles() {
			out = append(out, slack.NewButtonBlockElement(actionSignoffPrefix+role, r.WorkflowID, plain("Sign off as "+role)).WithStyle(slack.StylePrimary))
		}
	}
	out = append(out, controlButtons(r)...) // Pause, Resume / Continue
	if r.AbortOpen() {
		confirm := slack.NewConfirmationBlockObject(plain("Abort this run?"),
			mrkdwn("Abort *"+esc(r.Scenario)+"*? Whatever was injected is removed and the run ends aborted."),
			plain("Abort"), plain("Keep running"))
		confirm.WithStyle(slack.StyleDanger)
		out = append(out, slack.NewButtonBlockElement(actionAbort, r.WorkflowID, plain("Abort")).WithStyle(slack.StyleDanger).WithConfirm(confirm))
	}
	return out
}

// fingerprint identifies a render, to skip updates that change nothing.
func fingerprint(text string, blocks []slack.Block) string {
	b, err := json.Marshal(slack.Blocks{BlockSet: blocks})
	if err != nil {
		return text // cannot happen for blocks we build; fall back to text
	}
	return text + "\x00" + string(b)
}

// threadItem is one detail posted once into the run message's thread.
type threadItem struct{ key, text string }

// threadItems are the details worth keeping but too long for the message,
// in the order they become known. Keys make each post happen once.
func threadItems(r experiment.Result) []threadItem {
	var out []threadItem
	if r.UIURL != "" {
		out = append(out, threadItem{"ui", ":link: Temporal UI: <" + r.UIURL + "|" + esc(r.WorkflowID) + ">"})
	}
	if r.TraceID != "" {
		out = append(out, threadItem{"trace", ":mag: Trace: `" + esc(r.TraceID) + "`"})
	}
	if defineDone(r) {
		t := "*Targets* (define)"
		if len(r.Targets) == 0 {
			t += ": none"
		}
		for _, tg := range r.Targets {
			t += "\n• `" + esc(tg) + "`"
		}
		out = append(out, threadItem{"targets", truncate(t, 3500)})
	}
	for _, s := range r.Signoffs {
		t := fmt.Sprintf(":white_check_mark: %s signed off as %s", esc(s.User), s.Role)
		if !s.Approved {
			t = fmt.Sprintf(":no_entry: %s rejected as %s: %s", esc(s.User), s.Role, esc(s.Reason))
		}
		out = append(out, threadItem{"signoff:" + s.Role, t})
	}
	if br := r.Breach; br != nil {
		what := br.SourceLabel() // "query", or "probe" for a direct probe guard
		t := fmt.Sprintf(":rotating_light: *Guard breach* `%s`\n• %s: `%s`\n", esc(br.Guard), what, esc(br.Query))
		if br.QueryError != "" {
			t += "• " + what + " error: " + esc(br.QueryError) + "\n"
		} else {
			t += fmt.Sprintf("• value: %s (healthy when %s)\n", esc(br.Reading()), esc(breachCondition(br)))
		}
		t += "• at: " + br.At.UTC().Format(time.RFC3339)
		out = append(out, threadItem{"breach", truncate(t, 3500)})
	}
	out = append(out, controlThreadItems(r)...) // pauses and notes
	for _, f := range r.RecoverLog {
		if f.Detail != "" { // e.g. how long the owner of killed pods took to be Ready
			out = append(out, threadItem{"recovered:" + f.FaultID, ":adhesive_bandage: Recovered `" + esc(f.FaultID) + "`: " + esc(f.Detail)})
		}
	}
	if r.Postmortem != "" {
		out = append(out, threadItem{"postmortem", ":memo: Postmortem: " + esc(r.Postmortem)})
	}
	if rl := r.Report; rl != nil && rl.HTML != "" {
		// A URL when the worker serves its reports (GAMEDAY_REPORT_URL),
		// else where the file is on the worker.
		t := ":bar_chart: Report with a chart of every guard: " + fileLink(rl.HTML, "open")
		if rl.JUnit != "" {
			t += " · JUnit " + fileLink(rl.JUnit, "XML")
		}
		out = append(out, threadItem{"report", t})
	}
	if r.ReleaseTicket != "" && r.Final() {
		out = append(out, threadItem{"ticket", ":ticket: Release ticket " + esc(r.ReleaseTicket) + " has this run's evidence"})
	}
	return out
}

// fileLink is a Slack link to a URL, or a file path as code.
func fileLink(ref, text string) string {
	if strings.HasPrefix(ref, "https://") || strings.HasPrefix(ref, "http://") {
		return "<" + ref + "|" + esc(text) + ">"
	}
	return "`" + esc(ref) + "`"
}

func defineDone(r experiment.Result) bool {
	return slices.ContainsFunc(r.Phases, func(p experiment.Phase) bool {
		return p.Name == experiment.PhaseDefine && p.Status == experiment.StatusDone
	})
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// truncate keeps Slack's per-field limits (3000 characters in a section)
// from turning a long error into a failed update.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
