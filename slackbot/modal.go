package slackbot

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/slack-go/slack"

	"github.com/gameday/gameday/checklist"
	"github.com/gameday/gameday/experiment"
)

// The sign-off modal's ids. Errors returned with response_action "errors"
// must name input blocks, which is why the decision is an input block.
const (
	signoffCallback = "gameday_signoff"
	blockDecision   = "decision"
	blockReason     = "reason"
	decisionApprove = "approve"
	decisionReject  = "reject"
	verdictPass     = "pass"
	verdictFail     = "fail"
)

func itemVerdictBlock(id string) string  { return "item:" + id + ":verdict" }
func itemEvidenceBlock(id string) string { return "item:" + id + ":evidence" }

// modalMeta travels in the view's private_metadata: the submission carries
// no channel or run otherwise.
type modalMeta struct {
	Run     string   `json:"run"`
	Role    string   `json:"role"`
	Channel string   `json:"channel"`
	Items   []string `json:"items,omitempty"` // the role's checklist item ids, in order
}

// approvalText is what the approvers approve besides the scenario as
// written: the targets define resolved and the overrides of this run.
func approvalText(r experiment.Result) string {
	var b strings.Builder
	if len(r.Overrides) > 0 {
		b.WriteString("*Changed from the scenario*\n")
		for _, o := range r.Overrides {
			b.WriteString("• `" + esc(o.String()) + "`\n")
		}
	}
	if len(r.Targets) > 0 {
		b.WriteString("*Targets*\n")
		for _, t := range r.Targets {
			b.WriteString("• " + esc(t) + "\n")
		}
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// signoffModal lists the role's own checklist items (a role signs all of
// them at once, pass or fail with an evidence link), then an overall
// approve/reject with a reason. Without a checklist only the latter shows.
func signoffModal(meta modalMeta, cl *checklist.Checklist, r experiment.Result) slack.ModalViewRequest {
	var blocks []slack.Block
	meta.Items = nil
	if t := approvalText(r); t != "" {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(truncate(t, 3000)), nil, nil), slack.NewDividerBlock())
	}
	if cl != nil {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(fmt.Sprintf("Checklist *%s*: the %s items. Every item needs a verdict.", esc(cl.Metadata.Name), meta.Role)), nil, nil))
		for _, it := range checklist.ItemsFor(*cl, meta.Role) { // evidence items are nobody's to sign
			meta.Items = append(meta.Items, it.ID)
			blocks = append(blocks, itemBlocks(it)...)
		}
		if len(meta.Items) == 0 {
			blocks = append(blocks, slack.NewSectionBlock(mrkdwn("_The checklist has no items owned by "+meta.Role+"._"), nil, nil))
		}
	} else {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn("This run has no checklist: approve or reject the experiment as *"+meta.Role+"*."), nil, nil))
	}
	approve := slack.NewOptionBlockObject(decisionApprove, plain("Approve: go ahead with the experiment"), nil)
	reject := slack.NewOptionBlockObject(decisionReject, plain("Reject: stop the run, nothing is injected"), nil)
	decision := slack.NewRadioButtonsBlockElement(blockDecision, approve, reject)
	decision.InitialOption = approve
	reason := slack.NewPlainTextInputBlockElement(plain("Why (required to reject)"), blockReason)
	reason.Multiline = true
	reasonBlock := slack.NewInputBlock(blockReason, plain("Reason"), nil, reason)
	reasonBlock.Optional = true
	blocks = append(blocks,
		slack.NewDividerBlock(),
		slack.NewInputBlock(blockDecision, plain("Decision as "+meta.Role), nil, decision),
		reasonBlock,
	)
	md, _ := json.Marshal(meta) // plain strings: cannot fail
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		Title:           plain(truncate("Sign off as "+meta.Role, 24)),
		Submit:          plain("Sign off"),
		Close:           plain("Cancel"),
		CallbackID:      signoffCallback,
		PrivateMetadata: string(md),
		Blocks:          slack.Blocks{BlockSet: blocks},
	}
}

func itemBlocks(it checklist.Item) []slack.Block {
	desc := fmt.Sprintf("*%s* (`%s`)\n_How:_ %s\n_Passes when:_ %s\nweight %s", esc(it.Title), esc(it.ID), esc(it.Verification), esc(it.Criterion), num(it.Weight))
	if it.StrongBlocking {
		desc += " · *strong-blocking*"
	}
	verdict := slack.NewRadioButtonsBlockElement("verdict",
		slack.NewOptionBlockObject(verdictPass, plain("Pass"), nil),
		slack.NewOptionBlockObject(verdictFail, plain("Fail"), nil))
	evidence := slack.NewURLTextInputBlockElement(plain("https://grafana.example/d/…"), "evidence")
	evBlock := slack.NewInputBlock(itemEvidenceBlock(it.ID), plain("Evidence link"), plain("Dashboard, test run or ticket that shows it"), evidence)
	evBlock.Optional = true
	return []slack.Block{
		slack.NewDividerBlock(),
		slack.NewSectionBlock(mrkdwn(truncate(desc, 3000)), nil, nil),
		slack.NewInputBlock(itemVerdictBlock(it.ID), plain("Verdict"), nil, verdict),
		evBlock,
	}
}

// submission is a parsed sign-off modal.
type submission struct {
	meta    modalMeta
	items   []ItemVerdict
	reject  bool
	reason  string
	invalid map[string]string // block id → problem, for response_action errors
}

// parseSubmission reads the modal's state. Problems the user can fix in
// the modal (a missing verdict, a reject without reason, a link that is
// not http(s)) come back in invalid rather than as a round trip to Temporal.
func parseSubmission(v slack.View) (submission, error) {
	var s submission
	if err := json.Unmarshal([]byte(v.PrivateMetadata), &s.meta); err != nil || s.meta.Run == "" || s.meta.Role == "" {
		return s, fmt.Errorf("sign-off modal has no run or role in its metadata")
	}
	s.invalid = map[string]string{}
	get := func(block, action string) slack.BlockAction {
		if v.State == nil {
			return slack.BlockAction{}
		}
		return v.State.Values[block][action]
	}
	for _, id := range s.meta.Items {
		iv := ItemVerdict{ID: id}
		switch get(itemVerdictBlock(id), "verdict").SelectedOption.Value {
		case verdictPass:
			iv.Pass = true
		case verdictFail:
		default:
			s.invalid[itemVerdictBlock(id)] = "Choose pass or fail"
		}
		iv.Evidence = strings.TrimSpace(get(itemEvidenceBlock(id), "evidence").Value)
		if iv.Evidence != "" {
			if u, err := url.Parse(iv.Evidence); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				s.invalid[itemEvidenceBlock(id)] = "Evidence must be an http(s) link"
			}
		}
		s.items = append(s.items, iv)
	}
	s.reject = get(blockDecision, blockDecision).SelectedOption.Value == decisionReject
	s.reason = strings.TrimSpace(get(blockReason, blockReason).Value)
	if s.reject && s.reason == "" {
		s.invalid[blockReason] = "A rejection needs a reason"
	}
	return s, nil
}
