// Writes next.json: for each schedule, what github.com/robfig/cron/v3 (the parser
// kube-controller-manager and the API server use) answers - its parse error, or its next
// three activations after each start time. tests/sim/test_cron.py checks sim/cron.py
// against every row. Regenerate with: cd tests/data/robfig_cron && TZ=UTC go run . > next.json
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/robfig/cron/v3"
)

type row struct {
	Spec  string    `json:"spec"`
	From  float64   `json:"from"`
	Next  []float64 `json:"next"`
	Error string    `json:"error,omitempty"`
}

func main() {
	specs := []string{
		"* * * * *", "*/5 * * * *", "0 * * * *", "30 2 * * *", "0 0 * * 0", "0 0 1 * *", "15 3 * * 1-5",
		"0 9-17/2 * * mon-fri", "5,35 */6 * * *", "0 0 29 2 *", "0 0 31 * *", "0 12 13 * 5", "0 12 */2 * 5",
		"0 0 30 2 *", "@hourly", "@daily", "@midnight", "@weekly", "@monthly", "@yearly", "@annually",
		"@every 90s", "@every 1h30m", "@every 500ms", "@every 2.5m", "7/15 * * * *", "0 0 ? * SUN", "0 0 1 jan,JUL *",
		"30 6-16/4 * * 1-5", "59 23 31 12 *", "0 2 * * *", "30 2 * * *", "0 1 * * *", "30 1 * * *", "0 3 * * *",
		"TZ=America/New_York 30 2 * * *", "TZ=America/New_York 0 1 * * *", "CRON_TZ=Europe/Berlin 30 2 * * *",
		"TZ=Australia/Sydney 0 2 * * *", "TZ=Asia/Kolkata 0 0 * * *", "TZ=America/New_York 15 1 * * *",
		"TZ=America/New_York 0 */1 * * *", "TZ=Europe/Berlin 0 0 * * *",
		// invalid ones: the message is the contract
		"", "* * * *", "* * * * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *", "* * * * 7",
		"5-1 * * * *", "*/0 * * * *", "a * * * *", "1-2-3 * * * *", "1/2/3 * * * *", "-1 * * * *",
		"@often", "@every 5x", "@every ", "TZ=Mars/Olympus 0 0 * * *",
	}
	froms := []string{
		"2026-01-01T00:00:00Z", "2026-01-01T00:00:00.5Z", "2026-02-27T23:59:59Z", "2028-02-28T12:00:00Z",
		"2026-03-08T06:00:00Z", "2026-03-08T06:59:59Z", "2026-03-29T00:30:00Z", "2026-11-01T05:00:00Z",
		"2026-11-01T05:59:30Z", "2026-10-25T00:00:00Z", "2026-04-05T15:00:00Z", "2026-10-04T15:00:00Z",
		"2026-12-31T23:59:00Z", "2026-06-15T10:17:42Z",
	}
	var rows []row
	for _, spec := range specs {
		sched, err := cron.ParseStandard(spec)
		if err != nil {
			rows = append(rows, row{Spec: spec, Error: err.Error()})
			continue
		}
		for _, f := range froms {
			t, _ := time.Parse(time.RFC3339Nano, f)
			r := row{Spec: spec, From: float64(t.UnixNano()) / 1e9}
			cur := t
			for i := 0; i < 3; i++ {
				cur = sched.Next(cur)
				if cur.IsZero() {
					r.Next = append(r.Next, -1)
					break
				}
				r.Next = append(r.Next, float64(cur.Unix()))
			}
			rows = append(rows, r)
		}
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "")
	if err := enc.Encode(rows); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
