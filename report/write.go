package report

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// The files of a report, in its directory.
const (
	HTMLFile     = "report.html"
	MarkdownFile = "report.md"
	JUnitFile    = "report.junit.xml"
	JSONFile     = "report.json"
	// ChartFile (markdown.go) is the charts' PNG.
)

// Written is what Write put in a report's directory: the file paths (empty
// for a file it could not write) and the chart's PNG bytes, for a ticket
// attachment.
type Written struct {
	Dir                         string
	HTML, Markdown, JUnit, JSON string
	Chart                       string
	PNG                         []byte
}

// SiblingLinks are the links the HTML and Markdown show to the other files
// of the same directory (relative, so the directory can be moved or served
// as it is).
func SiblingLinks() map[string]string {
	return map[string]string{"Markdown": MarkdownFile, "JUnit XML": JUnitFile, "JSON": JSONFile, "chart (PNG)": ChartFile}
}

// Write renders rep in every format into dir (created if needed). Each file
// is written to a temporary name and renamed, so a reader never sees half
// a report and writing twice (a retried activity) just replaces it. It
// writes what it can and returns the errors of what it could not.
func Write(dir string, rep *Report) (Written, error) {
	w := Written{Dir: dir}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return w, fmt.Errorf("report dir %s: %w", dir, err)
	}
	var errs []error
	put := func(name string, data []byte, err error) string {
		if err == nil && data == nil {
			return ""
		}
		p := filepath.Join(dir, name)
		if err == nil {
			err = writeFile(p, data)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", p, err))
			return ""
		}
		return p
	}
	png, err := PNG(rep)
	w.Chart = put(ChartFile, png, err)
	if w.Chart != "" {
		w.PNG = png
	}
	h, err := HTML(rep)
	w.HTML = put(HTMLFile, h, err)
	w.Markdown = put(MarkdownFile, Markdown(rep, w.Chart != ""), nil)
	w.JUnit = put(JUnitFile, JUnit(rep.Result.Scenario, rep), nil)
	j, err := JSON(rep)
	w.JSON = put(JSONFile, j, err)
	return w, errors.Join(errs...)
}

func writeFile(p string, data []byte) error {
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, p)
}

// WriteGameDay writes a game day's report into dir: one HTML page with a
// section per experiment, Markdown, a JUnit suite (a case per experiment)
// and JSON; no PNG (each experiment's own report has its chart). What it
// could not write is in the error, the rest is written.
func WriteGameDay(dir string, day GameDay, reps []*Report, generated time.Time) (Written, error) {
	w := Written{Dir: dir}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return w, fmt.Errorf("report dir %s: %w", dir, err)
	}
	var errs []error
	put := func(file string, data []byte, err error) string {
		p := filepath.Join(dir, file)
		if err == nil {
			err = writeFile(p, data)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", p, err))
			return ""
		}
		return p
	}
	h, err := HTMLGameDay(day, reps, generated)
	w.HTML = put(HTMLFile, h, err)
	w.Markdown = put(MarkdownFile, MarkdownGameDay(day, reps), nil)
	w.JUnit = put(JUnitFile, JUnit(day.Name(), reps...), nil)
	j, err := JSONGameDay(day, reps)
	w.JSON = put(JSONFile, j, err)
	return w, errors.Join(errs...)
}
