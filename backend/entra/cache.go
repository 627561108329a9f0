package entra

import (
	"sync"
	"time"
)

// maxMemo bounds each in-process cache: entries are about 1-2 KB.
const maxMemo = 10000

// memo is a small in-process cache of values that expire, for what is
// asked on every request and stays true until a known time: validated SSO
// tokens and Graph tokens. It is safe for concurrent use.
type memo[K comparable, V any] struct {
	mu      sync.RWMutex
	entries map[K]memoEntry[V]
}

type memoEntry[V any] struct {
	v   V
	exp time.Time
}

// get returns the value under k, if it has not expired at now.
func (m *memo[K, V]) get(k K, now time.Time) (V, bool) {
	m.mu.RLock()
	e, ok := m.entries[k]
	m.mu.RUnlock()
	if !ok || !now.Before(e.exp) {
		var zero V
		return zero, false
	}
	return e.v, true
}

func (m *memo[K, V]) put(k K, v V, exp, now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.entries == nil {
		m.entries = make(map[K]memoEntry[V])
	}
	if len(m.entries) >= maxMemo {
		for k, e := range m.entries {
			if !now.Before(e.exp) {
				delete(m.entries, k)
			}
		}
		if len(m.entries) >= maxMemo {
			clear(m.entries) // all live: start over rather than track use
		}
	}
	m.entries[k] = memoEntry[V]{v: v, exp: exp}
}

func (m *memo[K, V]) reset() {
	m.mu.Lock()
	clear(m.entries)
	m.mu.Unlock()
}
