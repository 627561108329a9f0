// Package addin is the Outlook add-in: the task pane, the ribbon command
// and the event handlers, as plain ES modules with CSS, HTML, strings and
// icons. The service serves Files under /addin/.
//
// launchevent.classic.js is generated from the modules by
// `go test ./addin -run TestClassicRuntime -update`: classic Outlook on
// Windows runs event handlers in a JavaScript-only runtime that loads one
// classic script and no modules.
package addin

import "embed"

// Files holds the add-in's static files. test/ (the browser tests and
// their node_modules) is not part of it.
//
//go:embed *.html *.js *.css i18n assets
var Files embed.FS
