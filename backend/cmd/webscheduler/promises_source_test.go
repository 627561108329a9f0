package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// noHookFallbacks are the outbound clients built without the service's
// transport, each only as a default for a caller that passes none: serve
// always passes the hooked one, and TestPromises sees every request.
var noHookFallbacks = map[string]string{
	"backend/entra/validator.go": "NewValidator's default client",
	"backend/entra/websignin.go": "NewWebSignIn's default client",
	"backend/qoe/graph.go":       "NewGraphClient's default client",
}

// wiring builds the one transport of each entry point from net/http's
// default: serve (the hook wraps it) and the refresh CLI (the same authority
// and Graph, from the same configuration).
var wiring = map[string]bool{
	"backend/cmd/webscheduler/serve.go":   true,
	"backend/cmd/webscheduler/refresh.go": true,
}

// TestNoOutboundClientBypassesTheHook is promise 1 for the code the flows
// do not run: no package of the service reaches the network on its own,
// through net/http's package-level client and functions or a raw dial.
// Everything outbound goes through the one transport serve builds (and
// TestPromises wraps). The emulators under backend/sandbox are exempt:
// they are the tenant in sandbox mode, not the service.
func TestNoOutboundClientBypassesTheHook(t *testing.T) {
	t.Parallel()
	root := filepath.Join("..", "..", "..")
	banned := map[string]bool{
		"http.Get": true, "http.Head": true, "http.Post": true, "http.PostForm": true, "http.DefaultClient": true,
		"net.Dial": true, "net.DialTimeout": true, "net.DialTCP": true, "net.DialUDP": true, "tls.Dial": true, "tls.DialWithDialer": true,
	}
	files := 0
	err := filepath.WalkDir(filepath.Join(root, "backend"), func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel == "backend/sandbox" || d.Name() == "testdata" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		files++
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.SelectorExpr:
				if id, ok := n.X.(*ast.Ident); ok {
					name := id.Name + "." + n.Sel.Name
					if banned[name] || (name == "http.DefaultTransport" && !wiring[rel]) {
						t.Errorf("%s: %s reaches the network without the service's transport", fset.Position(n.Pos()), name)
					}
				}
			case *ast.CompositeLit:
				if sel, ok := n.Type.(*ast.SelectorExpr); ok && sel.Sel.Name == "Client" {
					if id, ok := sel.X.(*ast.Ident); ok && id.Name == "http" && !hasField(n, "Transport") && noHookFallbacks[rel] == "" {
						t.Errorf("%s: an http.Client without a Transport uses net/http's default", fset.Position(n.Pos()))
					}
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 50 {
		t.Fatalf("only %d source files scanned from %s", files, root)
	}
}

func hasField(lit *ast.CompositeLit, name string) bool {
	for _, e := range lit.Elts {
		if kv, ok := e.(*ast.KeyValueExpr); ok {
			if id, ok := kv.Key.(*ast.Ident); ok && id.Name == name {
				return true
			}
		}
	}
	return false
}
