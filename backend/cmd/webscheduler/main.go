// Command webscheduler runs the Web Scheduler service.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "webscheduler:", err)
		var ce configError
		if errors.As(err, &ce) || errors.Is(err, errUsage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

const usage = `usage: webscheduler [command]

commands:
  serve     run the service (default)
  manifest  print the add-in manifest for this deployment
            (-json for the unified manifest, -zip for it packaged with
            its icons; uses WEBSCHEDULER_PUBLIC_URL and
            WEBSCHEDULER_CLIENT_ID)
  refresh   bring the join information of future meetings up to date
            (--dry-run, --csv FILE, --mailboxes, --resume JOB; -h for more)
  version   print the version

Configuration comes from WEBSCHEDULER_* environment variables; see README.md.`

// run dispatches a subcommand; main only maps its error to an exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	cmd := "serve"
	if len(args) > 0 {
		cmd = args[0]
	}
	switch cmd {
	case "serve":
		cfg, err := loadConfig(getenv)
		if err != nil {
			return err
		}
		return serve(ctx, cfg, stdout)
	case "manifest":
		kind := "xml"
		if len(args) > 1 {
			switch args[1] {
			case "-json", "--json":
				kind = "json"
			case "-zip", "--zip":
				kind = "zip"
			}
		}
		publicURL := getenv("WEBSCHEDULER_PUBLIC_URL")
		clientID := getenv("WEBSCHEDULER_CLIENT_ID")
		if publicURL == "" || clientID == "" {
			return fmt.Errorf("%w: set WEBSCHEDULER_PUBLIC_URL and WEBSCHEDULER_CLIENT_ID", errUsage)
		}
		body, err := generateManifest(kind, publicURL, clientID)
		if err != nil {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
		_, err = stdout.Write(body)
		return err
	case "refresh":
		return runRefresh(ctx, args[1:], getenv, stdout)
	case "version":
		_, err := fmt.Fprintln(stdout, "webscheduler", version)
		return err
	case "help", "-h", "--help":
		_, err := fmt.Fprintln(stdout, usage)
		return err
	}
	return fmt.Errorf("%w: unknown command %q\n%s", errUsage, cmd, usage)
}
