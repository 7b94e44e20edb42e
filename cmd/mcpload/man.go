package main

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

func newManCmd(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:    "man DIR",
		Short:  "Write the man pages, one per command, into DIR",
		Hidden: true, // for packagers: `make man`
		Args:   args(1, 1, "exactly one DIR"),
		RunE: func(cmd *cobra.Command, a []string) error {
			if err := os.MkdirAll(a[0], 0o755); err != nil {
				return err
			}
			hdr := &doc.GenManHeader{Title: "MCPLOAD", Section: "1", Source: "mcpload " + version()}
			if err := doc.GenManTree(cmd.Root(), hdr, a[0]); err != nil {
				return fmt.Errorf("man pages: %w", err)
			}
			fmt.Fprintf(stdout, "man pages written to %s\n", a[0])
			return nil
		},
	}
}
