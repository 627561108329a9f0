package conferencing

// SetIDPrefix fixes the first digits of t's conference IDs, shrinking the
// ID space so that tests can make conflicts common.
func SetIDPrefix(t *Template, prefix string) { t.idPrefix = prefix }
