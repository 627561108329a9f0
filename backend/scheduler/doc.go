// Package scheduler holds Web Scheduler's domain: the people, meetings and
// conferences it works with, the interfaces its adapters implement, and the
// stable error codes every adapter reports through. It imports nothing of ours.
package scheduler
