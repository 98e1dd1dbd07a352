package slackbot

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"testing"
	"time"
)

// BenchmarkSlashCommandAck measures how long Slack waits for the answer to
// `/gameday run` through a real HTTP server, with an engine whose Start
// takes 500 ms: the acknowledgement must not wait for it (Slack gives up
// after 3 s). Reports the median and p99 acknowledgement latency in ms.
func BenchmarkSlashCommandAck(b *testing.B) {
	h := newHarness(b)
	h.eng.startDelay = 500 * time.Millisecond
	srv := httptest.NewServer(h.bot)
	defer srv.Close()
	client := srv.Client()
	var lat []time.Duration
	for b.Loop() {
		body := commandBody(dana, testChannel, "run demo-inventory-latency duration=30s")
		now := time.Now()
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/slack/commands", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Slack-Request-Timestamp", strconv.FormatInt(now.Unix(), 10))
		req.Header.Set("X-Slack-Signature", signature(testSecret, now.Unix(), body))
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		lat = append(lat, time.Since(start))
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	median, p99 := lat[len(lat)/2], lat[min(len(lat)-1, len(lat)*99/100)]
	b.ReportMetric(ms(median), "median-ms")
	b.ReportMetric(ms(p99), "p99-ms")
	if p99 >= 500*time.Millisecond {
		b.Fatalf("p99 acknowledgement %v: the ack waited for engine.Start", p99)
	}
}
