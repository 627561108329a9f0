package main

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// machineDetails describes where the numbers were measured.
func machineDetails() string {
	var parts []string
	cpu := field("/proc/cpuinfo", "model name", ":")
	parts = append(parts, fmt.Sprintf("%d vCPU (%s)", runtime.NumCPU(), orUnknown(cpu)))
	if kb, err := strconv.Atoi(strings.Fields(field("/proc/meminfo", "MemTotal", ":") + " 0")[0]); err == nil && kb > 0 {
		parts = append(parts, fmt.Sprintf("%.0f GiB RAM", float64(kb)/(1<<20)))
	}
	if os := strings.Trim(field("/etc/os-release", "PRETTY_NAME", "="), `"`); os != "" {
		parts = append(parts, os)
	}
	parts = append(parts, "Go "+strings.TrimPrefix(runtime.Version(), "go"))
	if v := command("node", "--version"); v != "" {
		parts = append(parts, "Node.js "+strings.TrimPrefix(v, "v"))
	}
	if m := regexp.MustCompile(`Chromium ([0-9.]+)`).FindStringSubmatch(command("chromium", "--version")); m != nil {
		parts = append(parts, "Chromium "+m[1]+" headless")
	}
	if m := regexp.MustCompile(`v=([0-9.]+)`).FindStringSubmatch(command("redis-server", "--version")); m != nil {
		parts = append(parts, "Redis "+m[1])
	}
	load := ""
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		load = strings.Join(strings.Fields(string(b))[:3], " ")
	}
	return fmt.Sprintf("Machine for every number below: %s. Written by `make bench` on %s; the machine is shared, "+
		"so other work competes for its cores (load average %s when the tables were written; each table gives the load average before its own run).\n",
		strings.Join(parts, ", "), time.Now().UTC().Format("2006-01-02"), orUnknown(load))
}

// field is the value of the first "name<sep>value" line of a file.
func field(path, name, sep string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, sep)
		if ok && strings.TrimSpace(k) == name {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func command(name string, args ...string) string {
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
