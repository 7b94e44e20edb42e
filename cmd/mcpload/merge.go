package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/mcpload/mcpload/record/merge"
	"github.com/mcpload/mcpload/report/text"
)

func newMergeCmd(stdout, stderr io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "merge OUT [SHARD_DIR...]",
		Short: "Merge the shards of a sharded run into one run folder, report it, and judge its thresholds",
		Long: `Merge the run folders of the shards of one sharded run (run --shard,
--shards) into the run folder OUT, then report it and judge its thresholds
as run does. With no SHARD_DIR, it merges every folder in OUT/shards/.

Histograms are added exactly; counters are summed; results.bin and
attempts are merged in time order, renumbered from 0; rates come from each
shard's own window. It refuses (exit 2) a missing or duplicate shard, and
shards of different scenarios, seeds or histogram settings.
See docs/sharding.md.`,
		Example: `  mcpload merge results/big            # merges results/big/shards/*
  mcpload merge merged/ a/shards/0 b/shards/1`,
		Args:              args(1, -1, "OUT and, optionally, the shard folders"),
		ValidArgsFunction: completeDirs,
		RunE: func(_ *cobra.Command, a []string) error {
			return mergeAndReport(a[0], a[1:], stdout, stderr)
		},
	}
}

// mergeAndReport merges the shard folders dirs (none: those in
// OUT/shards) into out, renders it, prints its summary and returns run's
// verdict on it.
func mergeAndReport(out string, dirs []string, stdout, stderr io.Writer) error {
	var err error
	if len(dirs) == 0 {
		if dirs, err = merge.ShardDirs(out); err != nil {
			return mergeError(err)
		}
	}
	lock, err := lockRun(out)
	if err != nil {
		return err
	}
	defer lock.Close()
	res, err := merge.Merge(out, dirs)
	if err != nil {
		return mergeError(err)
	}
	s, err := render(out)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	text.PrintHarnessWarnings(stderr, s)
	if err := text.Print(stdout, s); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nMerged        %d shards\n", res.Merged.Shards)
	printPaths(stdout, out)
	return verdict(res, s, out)
}

// mergeError makes a refusal invalid input (exit 2).
func mergeError(err error) error {
	if _, ok := errors.AsType[*merge.RefusedError](err); ok {
		return invalid(err)
	}
	return err
}
