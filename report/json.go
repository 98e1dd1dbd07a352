package report

import (
	"encoding/json"
	"math"
	"time"

	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/gameday"
	"github.com/gameday/gameday/resilience"
	"github.com/gameday/gameday/sli"
)

// The JSON form: the run's result plus every guard's samples. Values go
// through sli.Float, so NaN and ±Inf are the strings "NaN", "+Inf", "-Inf"
// and a statistic with no finite sample is null: the file is always valid
// JSON.
type jsonReport struct {
	Result    experiment.Result   `json:"result"`
	Score     resilience.RunScore `json:"score"`
	Window    Window              `json:"window"`
	Links     Links               `json:"links"`
	Generated time.Time           `json:"generated"`
	Guards    []jsonGuard         `json:"guards"`
	Regions   []Region            `json:"regions"`
	Timeline  []Event             `json:"timeline"`
}

type jsonGuard struct {
	Name      string      `json:"name"`
	Query     string      `json:"query"`
	Op        string      `json:"op"`
	Threshold float64     `json:"threshold"`
	Unit      string      `json:"unit"`
	Healthy   string      `json:"healthy_when"`
	Error     string      `json:"error,omitempty"`
	NoData    bool        `json:"no_data,omitempty"`
	Bad       int         `json:"bad"`
	NonFinite int         `json:"non_finite,omitempty"`
	Min       *float64    `json:"min"`
	Max       *float64    `json:"max"`
	Last      *float64    `json:"last"`
	Display   jsonDisplay `json:"display"`
	Breach    *sli.Breach `json:"breach,omitempty"`
	Samples   []jsonPoint `json:"samples"`
}

type jsonDisplay struct {
	Min  string `json:"min,omitempty"`
	Max  string `json:"max,omitempty"`
	Last string `json:"last,omitempty"`
}

type jsonPoint struct {
	At    time.Time `json:"t"`
	Value sli.Float `json:"v"`
	Bad   bool      `json:"bad,omitempty"`
}

func finite(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// JSON renders the report as indented JSON.
func JSON(rep *Report) ([]byte, error) {
	return json.MarshalIndent(jsonOf(rep), "", "  ")
}

// JSONGameDay renders a game day's reports: {"game_day": id, "result": the
// game day's own result when known, "runs": [...]}.
func JSONGameDay(day GameDay, reps []*Report) ([]byte, error) {
	out := struct {
		GameDay string          `json:"game_day"`
		Result  *gameday.Result `json:"result,omitempty"`
		Runs    []jsonReport    `json:"runs"`
	}{GameDay: day.Name(), Result: day.Result, Runs: []jsonReport{}}
	for _, rep := range reps {
		out.Runs = append(out.Runs, jsonOf(rep))
	}
	return json.MarshalIndent(out, "", "  ")
}

func jsonOf(rep *Report) jsonReport {
	out := jsonReport{Result: rep.Result, Score: rep.Score, Window: rep.Window, Links: rep.Links, Generated: rep.Generated, Regions: rep.Regions, Timeline: rep.Timeline}
	for _, g := range rep.Guards {
		jg := jsonGuard{
			Name: g.Guard.Name, Query: g.Guard.Source(), Op: string(g.Guard.Op), Threshold: g.Guard.Threshold, Unit: g.Unit,
			Healthy: FormatThreshold(g.Guard), Error: g.Err, NoData: g.NoData(), Bad: g.Bad, NonFinite: g.NonFinite,
			Min: finite(g.Min), Max: finite(g.Max), Last: finite(g.Last), Breach: g.Breach, Samples: []jsonPoint{},
		}
		if jg.Min != nil {
			jg.Display = jsonDisplay{Min: Format(g.Unit, g.Min), Max: Format(g.Unit, g.Max), Last: Format(g.Unit, g.Last)}
		}
		for _, p := range g.Points {
			jg.Samples = append(jg.Samples, jsonPoint{At: p.At.UTC(), Value: sli.Float(p.Value), Bad: !g.Healthy(p.Value)})
		}
		out.Guards = append(out.Guards, jg)
	}
	if out.Guards == nil {
		out.Guards = []jsonGuard{}
	}
	return out
}
