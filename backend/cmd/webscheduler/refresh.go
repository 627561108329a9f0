package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/webscheduler/webscheduler/backend/entra"
	"github.com/webscheduler/webscheduler/backend/inmem"
	"github.com/webscheduler/webscheduler/backend/redisstore"
	"github.com/webscheduler/webscheduler/backend/refresh"
	"github.com/webscheduler/webscheduler/backend/sandbox"
	"github.com/webscheduler/webscheduler/backend/scheduler"
	"github.com/webscheduler/webscheduler/backend/secret"
	"github.com/webscheduler/webscheduler/backend/settings"
)

const refreshUsage = `usage: webscheduler refresh [flags]

Brings the join information of future meetings up to date with the current
settings and templates, across every mailbox (or those named), with the
app's application permissions (Calendars.ReadWrite, User.Read.All).

  webscheduler refresh --dry-run --csv plan.csv     what would change
  webscheduler refresh --after <dry run ID>         apply what the dry run showed
  webscheduler refresh --resume <job ID>            finish a job that was stopped

The job lives in Redis (WEBSCHEDULER_REDIS_URL): stopping this command at
any point and resuming finishes it with no meeting written twice, and
running service replicas help work it.

flags:`

// refreshFlags are the refresh subcommand's options.
type refreshFlags struct {
	dryRun    bool
	csvPath   string
	mailboxes string
	resume    string
	after     string
	days      int
	stale     bool
	prefix    string
}

func parseRefreshFlags(args []string, out io.Writer) (refreshFlags, error) {
	var f refreshFlags
	fs := flag.NewFlagSet("refresh", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() { fmt.Fprintln(out, refreshUsage); fs.PrintDefaults() }
	fs.BoolVar(&f.dryRun, "dry-run", false, "change nothing; report what would change")
	fs.StringVar(&f.csvPath, "csv", "", "write the report (one line per mailbox and meeting) to this CSV file")
	fs.StringVar(&f.mailboxes, "mailboxes", "", "comma-separated user principal names or IDs (default: every mailbox)")
	fs.StringVar(&f.resume, "resume", "", "resume the job with this ID")
	fs.StringVar(&f.after, "after", "", "apply after this dry run (checks it used the same settings and mailboxes)")
	fs.IntVar(&f.days, "days", 366, "look at meetings starting in the next `n` days")
	fs.BoolVar(&f.stale, "stale", false, "with --csv, only the meetings whose join information is out of date")
	fs.StringVar(&f.prefix, "redis-prefix", redisstore.DefaultPrefix, "Redis key prefix the service uses")
	if err := fs.Parse(args); err != nil {
		return f, fmt.Errorf("%w: %v", errUsage, err)
	}
	switch {
	case fs.NArg() > 0:
		return f, fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	case f.resume != "" && (f.dryRun || f.after != "" || f.mailboxes != ""):
		return f, fmt.Errorf("%w: --resume takes the job as it was created; drop the other flags", errUsage)
	case f.dryRun && f.after != "":
		return f, fmt.Errorf("%w: --after is for applying; a dry run follows nothing", errUsage)
	case f.days < 1 || f.days > 5*366:
		return f, fmt.Errorf("%w: --days must be between 1 and %d", errUsage, 5*366)
	}
	return f, nil
}

// runRefresh is `webscheduler refresh`.
func runRefresh(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	return runRefreshWith(ctx, args, getenv, stdout, nil)
}

// runRefreshWith runs it against sb in sandbox mode when sb is set (tests
// share the service's sandbox), else against its own or the tenant.
func runRefreshWith(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer, sb *sandbox.Sandbox) error {
	f, err := parseRefreshFlags(args, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	// Warnings go to stderr, apart from the progress on stdout.
	log := newLogger(os.Stderr, max(cfg.LogLevel, slog.LevelWarn))
	eng, closeAll, err := refreshEngine(ctx, cfg, f.prefix, log, sb)
	if err != nil {
		return err
	}
	defer closeAll()

	id := f.resume
	if id == "" {
		var mbs []string
		for _, m := range strings.Split(f.mailboxes, ",") {
			if m = strings.TrimSpace(m); m != "" {
				mbs = append(mbs, m)
			}
		}
		now := time.Now().UTC()
		job, err := eng.engine.Create(ctx, refresh.Request{
			DryRun: f.dryRun, After: f.after, Mailboxes: mbs, Start: now, End: now.AddDate(0, 0, f.days), Creator: "cli",
		}, eng.settings.Current())
		if err != nil {
			return err
		}
		id = job.ID
		detail := "dry run " + id
		if !f.dryRun {
			detail = "apply " + id
		}
		if err := eng.settings.Audit(ctx, scheduler.AuditEntry{Actor: "cli", Action: "refresh.create", Version: eng.settings.Current().Version, Detail: detail}); err != nil {
			return err
		}
		kind := "Applying"
		if f.dryRun {
			kind = "Dry run"
		}
		fmt.Fprintf(stdout, "%s: job %s (resume with: webscheduler refresh --resume %s)\n", kind, id, id)
	}

	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- eng.engine.Run(runCtx, id) }()
	show := newProgressView(stdout)
	tick := time.NewTicker(show.every())
	defer tick.Stop()
	var runErr error
loop:
	for {
		select {
		case runErr = <-done:
			break loop
		case <-tick.C:
			if p, err := eng.engine.Progress(ctx, id); err == nil {
				show.update(p)
			}
		}
	}
	stop()
	p, err := eng.engine.Progress(context.WithoutCancel(ctx), id)
	if err != nil {
		return errors.Join(runErr, err)
	}
	show.update(p)
	show.finish()
	if runErr != nil {
		fmt.Fprintf(stdout, "Stopped. Resume with: webscheduler refresh --resume %s\n", id)
		return runErr
	}
	printSummary(stdout, p)
	if f.csvPath != "" {
		if err := writeReport(context.WithoutCancel(ctx), eng.engine, f.csvPath, id, f.stale); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Report: %s\n", f.csvPath)
	}
	return nil
}

func writeReport(ctx context.Context, eng *refresh.Engine, path, id string, stale bool) error {
	out, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600) // it names people
	if err != nil {
		return err
	}
	if err := eng.WriteCSV(ctx, out, id, stale); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// printSummary is the final report: counts, and the reasons of what was
// skipped or failed (the CSV lists each meeting).
func printSummary(w io.Writer, p refresh.Progress) {
	c := p.Counts
	verb := "updated"
	if p.Job.DryRun {
		verb = "to update"
	}
	fmt.Fprintf(w, "Done: %d mailboxes, %d meetings: %d %s, %d already current, %d skipped, %d failed.\n",
		p.MailboxesTotal, p.Meetings, c[refresh.ActionUpdate], verb, c[refresh.ActionCurrent], c[refresh.ActionSkip], c[refresh.ActionFailed])
	var reasons []string
	for k, n := range c {
		if strings.Contains(k, ":") {
			reasons = append(reasons, fmt.Sprintf("  %-40s %d", k, n))
		}
	}
	slices.Sort(reasons)
	for _, r := range reasons {
		fmt.Fprintln(w, r)
	}
}

// progressView draws a bar on a terminal and plain lines elsewhere (logs,
// CI), where a carriage return would only make noise.
type progressView struct {
	w    io.Writer
	tty  bool
	last string
}

func newProgressView(w io.Writer) *progressView {
	f, ok := w.(*os.File)
	tty := false
	if ok {
		if fi, err := f.Stat(); err == nil {
			tty = fi.Mode()&os.ModeCharDevice != 0
		}
	}
	return &progressView{w: w, tty: tty}
}

func (v *progressView) every() time.Duration {
	if v.tty {
		return 200 * time.Millisecond
	}
	return 5 * time.Second
}

func (v *progressView) update(p refresh.Progress) {
	line := progressLine(p, v.tty)
	if line == v.last {
		return
	}
	v.last = line
	if v.tty {
		fmt.Fprint(v.w, "\r\x1b[K"+line)
	} else {
		fmt.Fprintln(v.w, line)
	}
}

func (v *progressView) finish() {
	if v.tty && v.last != "" {
		fmt.Fprintln(v.w)
	}
}

// progressLine shows mailboxes done of all, and the meetings so far.
func progressLine(p refresh.Progress, bar bool) string {
	if !p.Listed {
		return fmt.Sprintf("listing mailboxes… %d so far", p.MailboxesTotal)
	}
	frac := 0.0
	if p.MailboxesTotal > 0 {
		frac = float64(p.MailboxesDone) / float64(p.MailboxesTotal)
	}
	c := p.Counts
	text := fmt.Sprintf("%3.0f%% %d/%d mailboxes · %d meetings (%d update, %d current, %d skipped, %d failed)",
		100*frac, p.MailboxesDone, p.MailboxesTotal, p.Meetings, c[refresh.ActionUpdate], c[refresh.ActionCurrent], c[refresh.ActionSkip], c[refresh.ActionFailed])
	if !bar {
		return text
	}
	const width = 30
	n := int(frac * width)
	return "[" + strings.Repeat("#", n) + strings.Repeat("-", width-n) + "] " + text
}

// refreshParts is what the subcommand works with.
type refreshParts struct {
	engine   *refresh.Engine
	settings *settings.Service
}

// refreshEngine wires the engine as the service does: the same stores,
// settings (file plus the admins' changes) and app-only Graph client.
func refreshEngine(ctx context.Context, cfg config, prefix string, log *slog.Logger, sb *sandbox.Sandbox) (refreshParts, func(), error) {
	var closers []func() error
	closeAll := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			_ = closers[i]()
		}
	}
	key := cfg.EncryptionKey
	if key == nil {
		key = secret.RandomKey() // sandbox only: loadConfig refuses otherwise
	}
	box, err := secret.New(key)
	if err != nil {
		return refreshParts{}, closeAll, err
	}
	var conf scheduler.ConferenceStore
	var admin adminStores
	if cfg.RedisURL != "" {
		client, err := redisstore.ParseURL(cfg.RedisURL)
		if err != nil {
			return refreshParts{}, closeAll, configError{fmt.Sprintf("WEBSCHEDULER_REDIS_URL: %v", err)}
		}
		closers = append(closers, client.Close)
		st := redisstore.New(client, redisstore.Options{Prefix: prefix})
		conf, admin = st, st
	} else {
		conf, admin = inmem.New(), inmem.NewAdmin()
	}
	base, providerName, err := loadSettings(cfg)
	if err != nil {
		return refreshParts{}, closeAll, err
	}
	w := adminWiring{base: base, provider: providerName, box: box, stores: conf, admin: admin,
		graphURL: cfg.GraphURL, authority: cfg.AuthorityHost, tenant: cfg.TenantID,
		creds: entra.Credentials{ClientID: cfg.ClientID, Secret: cfg.ClientSecret}}
	var transport http.RoundTripper = http.DefaultTransport.(*http.Transport).Clone()
	if cfg.ClientCert != "" {
		if w.creds.Certs, w.creds.Key, err = loadClientCert(cfg.ClientCert); err != nil {
			return refreshParts{}, closeAll, configError{fmt.Sprintf("WEBSCHEDULER_CLIENT_CERT: %v", err)}
		}
	}
	if cfg.Sandbox && cfg.TenantID == "" {
		if sb == nil {
			if sb, err = sandbox.Start(sandbox.Options{PublicURL: cfg.PublicURL}); err != nil {
				return refreshParts{}, closeAll, err
			}
			closers = append(closers, sb.Close)
		}
		w.graphURL, w.authority, w.tenant = sb.GraphURL, sb.AuthorityHost, sandbox.TenantID
		w.creds = entra.Credentials{ClientID: sandbox.ClientID, Secret: sb.ClientSecret}
		transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: sb.TLS.Roots, MinVersion: tls.VersionTLS12}}
	}
	w.transport = transport
	svc, err := settings.New(ctx, settings.Options{Base: base, Store: admin, Log: log})
	if err != nil {
		return refreshParts{}, closeAll, err
	}
	tenant, err := w.tenantCalendars()
	if err != nil {
		return refreshParts{}, closeAll, err
	}
	eng := &refresh.Engine{Graph: tenant, Store: admin, Box: box, Render: w.renderer(), Log: log}
	return refreshParts{engine: eng, settings: svc}, closeAll, nil
}
