// A small controller loop: reads observations as JSON lines ({"workload": "web", "input":
// {...DecisionInput...}}) from a file or stdin, decides with one shared scaler and one state per
// workload, and prints each decision.
//
//	go run . -spec spec.json -input observations.jsonl
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"os"

	"github.com/replicast/replicast/ffi/go/replicast"
)

type observation struct {
	Workload string                  `json:"workload"`
	Input    replicast.DecisionInput `json:"input"`
}

func main() {
	specPath := flag.String("spec", "", "scaler spec (JSON: replicast's format or a Kubernetes HPA manifest)")
	inputPath := flag.String("input", "-", "observations, one JSON object per line (- for stdin)")
	flag.Parse()
	if err := run(*specPath, *inputPath, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

func run(specPath, inputPath string, out io.Writer) error {
	spec, err := os.ReadFile(specPath)
	if err != nil {
		return err
	}
	scaler, err := replicast.NewScaler(spec)
	if err != nil {
		return err
	}
	defer scaler.Close()

	in := os.Stdin
	if inputPath != "-" {
		if in, err = os.Open(inputPath); err != nil {
			return err
		}
		defer in.Close()
	}
	states := map[string]*replicast.State{}
	defer func() {
		for _, st := range states {
			st.Close()
		}
	}()
	lines := bufio.NewScanner(in)
	for n := 1; lines.Scan(); n++ {
		if len(lines.Bytes()) == 0 {
			continue
		}
		var obs observation
		if err := json.Unmarshal(lines.Bytes(), &obs); err != nil {
			return fmt.Errorf("line %d: %w", n, err)
		}
		st, ok := states[obs.Workload]
		if !ok {
			st = replicast.NewState()
			states[obs.Workload] = st
		}
		d, err := scaler.Decide(st, obs.Input)
		if err != nil {
			// A bad observation is reported and skipped; the workload's state is unchanged.
			fmt.Fprintf(out, "%s @%d: error: %v\n", obs.Workload, obs.Input.NowMs, err)
			continue
		}
		verdict := fmt.Sprintf("hold at %d", d.Replicas)
		if d.Rescale {
			verdict = fmt.Sprintf("scale %d -> %d", d.CurrentReplicas, d.Replicas)
		}
		why := "no change"
		if len(d.Steps) > 0 {
			last := d.Steps[len(d.Steps)-1]
			why = fmt.Sprintf("%s: %s", last.Stage, last.Reason)
		}
		fmt.Fprintf(out, "%s @%d: %s (%s)\n", obs.Workload, obs.Input.NowMs, verdict, why)
	}
	return lines.Err()
}
