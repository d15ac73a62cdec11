package main

import (
	"context"
	"flag"
)

func init() {
	register("noop", "does nothing: checks that the harness builds and runs", func(_ context.Context, args []string, out report) error {
		fs := flag.NewFlagSet("noop", flag.ContinueOnError)
		say := fs.String("say", "ready", "what to report")
		if err := fs.Parse(args); err != nil {
			return err
		}
		out["said"] = *say
		return nil
	})
}
