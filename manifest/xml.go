package manifest

import (
	"bytes"
	_ "embed"
	"encoding/xml"
	"strings"
	"text/template"
)

//go:embed manifest.xml.tmpl
var xmlTemplate string

var xmlTmpl = parseXMLTemplate()

func parseXMLTemplate() *template.Template {
	var t *template.Template
	t = template.Must(template.New("manifest.xml").Funcs(template.FuncMap{
		"x":    escapeXML,
		"list": func(v ...any) []any { return v },
		// include and indent let one block (the ribbon, the resources)
		// appear at two depths: in VersionOverrides 1.0 and in the nested 1.1.
		"include": func(name string, data any) (string, error) {
			var b strings.Builder
			err := t.ExecuteTemplate(&b, name, data)
			return b.String(), err
		},
		"indent": func(n int, s string) string {
			pad := strings.Repeat(" ", n)
			return pad + strings.ReplaceAll(s, "\n", "\n"+pad)
		},
	}).Parse(xmlTemplate))
	return t
}

// escapeXML escapes text for element content and double-quoted attributes.
func escapeXML(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s)) // a strings.Builder never fails
	return b.String()
}

// XML returns the add-in-only manifest (MailApp, VersionOverrides 1.0 with
// a nested 1.1) for the deployment c describes.
func XML(c Config) ([]byte, error) {
	d, err := c.check()
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	err = xmlTmpl.Execute(&b, struct {
		D                                      deployment
		Name, Desc, Add, AddTip, Pane, PaneTip text
		Events                                 []LaunchEvent
		Command                                string
		Icons                                  []int
	}{d, textName, textDesc, textAdd, textAddTip, textPane, textPaneTip, LaunchEvents, CommandFunction, iconSizes})
	if err != nil {
		return nil, err
	}
	// The named templates after the document leave blank lines.
	return append(bytes.TrimRight(b.Bytes(), "\n"), '\n'), nil
}

// iconSizes are the PNGs in addin/assets/icon-<size>.png.
var iconSizes = []int{16, 32, 64, 80, 128}
