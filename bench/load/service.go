package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// service is a running webscheduler binary in sandbox mode.
type service struct {
	cmd       *exec.Cmd
	base      string // http://127.0.0.1:port
	pprofBase string // http://127.0.0.1:port when built with -tags pprof
	http      *http.Client
	exited    chan error
}

// moduleRoot is the directory of the go.mod above the working directory.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("not inside the webscheduler module")
	}
	return filepath.Dir(mod), nil
}

// build compiles the service into dir, once, with the given build tags.
func build(ctx context.Context, dir string, tags string, log io.Writer) (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "webscheduler")
	args := []string{"build", "-o", bin}
	if tags != "" {
		args = append(args, "-tags", tags)
	}
	args = append(args, "./backend/cmd/webscheduler")
	fmt.Fprintf(log, "load: go %s\n", strings.Join(args, " "))
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = root, log, log
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build: %w", err)
	}
	return bin, nil
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// startService runs bin in sandbox mode against redisURL and waits until
// it is ready. Its log (every request at info level, as in production)
// goes nowhere.
func startService(ctx context.Context, bin, redisURL string, pprof bool, log io.Writer) (*service, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	env := append(os.Environ(),
		"WEBSCHEDULER_ADDR="+addr,
		"WEBSCHEDULER_PUBLIC_URL=http://"+addr,
		"WEBSCHEDULER_SANDBOX=1",
		"WEBSCHEDULER_LOG_LEVEL=info",
		"WEBSCHEDULER_REDIS_URL="+redisURL,
		"WEBSCHEDULER_ENCRYPTION_KEY="+base64.StdEncoding.EncodeToString(key),
		// Two users drive all the load: per-user and per-address limits
		// high enough never to refuse, still counted as in production.
		"WEBSCHEDULER_RATE_LIMIT_USER=1000000000",
		"WEBSCHEDULER_RATE_LIMIT_IP=1000000000",
	)
	s := &service{base: "http://" + addr, exited: make(chan error, 1)}
	if pprof {
		paddr, err := freeAddr()
		if err != nil {
			return nil, err
		}
		env = append(env, "WEBSCHEDULER_PPROF_ADDR="+paddr)
		s.pprofBase = "http://" + paddr
	}
	if err := dropPageCache(bin); err != nil {
		return nil, fmt.Errorf("dropping %s from the page cache: %w", bin, err)
	}
	s.cmd = exec.Command(bin)
	s.cmd.Env = env
	s.cmd.Stdout = io.Discard
	stderr := &lockedBuffer{}
	s.cmd.Stderr = stderr
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { s.exited <- s.cmd.Wait() }()
	s.http = &http.Client{Timeout: 30 * time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := s.http.Get(s.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				fmt.Fprintf(log, "load: service pid %d ready on %s\n", s.cmd.Process.Pid, addr)
				return s, nil
			}
		}
		select {
		case err := <-s.exited:
			return nil, fmt.Errorf("service exited: %v: %s", err, stderr.String())
		case <-ctx.Done():
			s.stop()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("service not ready after 60s: %s", stderr.String())
		}
	}
}

// lockedBuffer collects the service's stderr while it runs.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// stop ends the service gracefully (SIGTERM), or kills it after 30 s.
func (s *service) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

func (s *service) pid() int { return s.cmd.Process.Pid }

// postForm sends a sandbox control request.
func (s *service) postForm(path string, form url.Values, out any) error {
	resp, err := s.http.PostForm(s.base+path, form)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return fmt.Errorf("POST %s: %d %s", path, resp.StatusCode, body)
	}
	if out != nil {
		return json.Unmarshal(body, out)
	}
	return nil
}

// setLatency makes every emulated Graph route answer after d.
func (s *service) setLatency(d time.Duration) error {
	if err := s.postForm("/sandbox/faults", url.Values{"reset": {"1"}}, nil); err != nil {
		return err
	}
	return s.postForm("/sandbox/faults", url.Values{"delay": {d.String()}}, nil)
}

// token is an SSO token for upn, as Office would hand it to the add-in.
func (s *service) token(upn string) (string, error) {
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if err := s.postForm("/sandbox/token", url.Values{"user": {upn}}, &out); err != nil {
		return "", err
	}
	return out.AccessToken, nil
}

// hits sums the emulator's request counters over routes.
func (s *service) hits(service string, routes []string) (int, error) {
	q := url.Values{"service": {service}, "route": routes}
	resp, err := s.http.Get(s.base + "/sandbox/hits?" + q.Encode())
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var out struct {
		Hits map[string]int `json:"hits"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return 0, fmt.Errorf("GET /sandbox/hits: %d: %w", resp.StatusCode, err)
	}
	n := 0
	for _, h := range out.Hits {
		n += h
	}
	return n, nil
}

// metrics reads counters from /metrics: every sample whose name (with
// labels) starts with one of names, summed per name.
func (s *service) metrics(names ...string) (map[string]float64, error) {
	resp, err := s.http.Get(s.base + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("GET /metrics: %w", err)
	}
	out := map[string]float64{}
	for _, line := range strings.Split(string(raw), "\n") {
		for _, n := range names {
			if rest, ok := strings.CutPrefix(line, n); ok && rest != "" && (rest[0] == ' ' || rest[0] == '{') {
				f := strings.Fields(line)
				if v, err := strconv.ParseFloat(f[len(f)-1], 64); err == nil {
					out[n] += v
				}
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("GET /metrics: %d, none of %v: %.300s", resp.StatusCode, names, raw)
	}
	return out, nil
}

// procStatus reads a field of /proc/<pid>/status in kB (VmRSS, VmHWM).
func procStatus(pid int, field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				return strconv.ParseInt(f[0], 10, 64)
			}
		}
	}
	return 0, fmt.Errorf("%s not in /proc/%d/status", field, pid)
}

// cpuTime is the user+system CPU time the process used so far.
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command name (which may hold spaces) in parentheses.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 13 {
		return 0, fmt.Errorf("short /proc/%d/stat", pid)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("bad /proc/%d/stat", pid)
	}
	const ticks = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / ticks, nil
}

// profile saves pprof's named profile from the service into path; for
// "profile" (CPU) it takes seconds to answer.
func (s *service) profile(name string, seconds int, path string) error {
	u := s.pprofBase + "/debug/pprof/" + name
	if seconds > 0 {
		u += "?seconds=" + strconv.Itoa(seconds)
	}
	c := &http.Client{Timeout: time.Duration(seconds+30) * time.Second}
	resp, err := c.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %d", u, resp.StatusCode)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
