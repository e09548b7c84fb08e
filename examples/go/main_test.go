package main

import (
	"bytes"
	"testing"
)

func TestRunSample(t *testing.T) {
	var out bytes.Buffer
	if err := run("spec.json", "observations.jsonl", &out); err != nil {
		t.Fatal(err)
	}
	want := `web @1700000000000: scale 2 -> 4 (combine: largest proposal)
api @1700000000000: hold at 3 (no change)
web @1700000015000: hold at 4 (stabilization: ScaleDownStabilized)
web @1700000400000: scale 4 -> 2 (combine: largest proposal)
api @1699999999000: error: replicast: invalid_input: now_ms must not be before the previous decision's (1700000000000), got 1699999999000: timestamps out of order
`
	if out.String() != want {
		t.Fatalf("got:\n%s\nwant:\n%s", out.String(), want)
	}
}
