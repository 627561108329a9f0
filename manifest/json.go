package manifest

import (
	"encoding/json"
	"fmt"
)

// The icons of the app package (Package), which the manifest names: 192 and
// 32 pixels square, as the unified manifest asks.
const (
	packageColorIcon   = "color.png"
	packageOutlineIcon = "outline.png"
)

// SchemaVersion is the unified manifest schema the JSON manifest follows.
const SchemaVersion = "1.25"

// The unified manifest, as far as an Outlook add-in uses it. Field order
// is the order of the output.
type unified struct {
	Schema             string             `json:"$schema"`
	ManifestVersion    string             `json:"manifestVersion"`
	ID                 string             `json:"id"`
	Version            string             `json:"version"`
	Name               name               `json:"name"`
	Description        name               `json:"description"`
	Developer          developer          `json:"developer"`
	Icons              icons              `json:"icons"`
	AccentColor        string             `json:"accentColor"`
	LocalizationInfo   localizationInfo   `json:"localizationInfo"`
	ValidDomains       []string           `json:"validDomains"`
	WebApplicationInfo webApplicationInfo `json:"webApplicationInfo"`
	Authorization      authorization      `json:"authorization"`
	Extensions         []extension        `json:"extensions"`
}

type name struct {
	Short string `json:"short"`
	Full  string `json:"full"`
}

type developer struct {
	Name          string `json:"name"`
	WebsiteURL    string `json:"websiteUrl"`
	PrivacyURL    string `json:"privacyUrl"`
	TermsOfUseURL string `json:"termsOfUseUrl"`
}

type icons struct {
	Outline string `json:"outline"`
	Color   string `json:"color"`
}

type localizationInfo struct {
	DefaultLanguageTag string `json:"defaultLanguageTag"`
}

type webApplicationInfo struct {
	ID       string `json:"id"`
	Resource string `json:"resource"`
}

type authorization struct {
	Permissions struct {
		ResourceSpecific []permission `json:"resourceSpecific"`
	} `json:"permissions"`
}

type permission struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

type extension struct {
	Requirements  requirements   `json:"requirements"`
	Runtimes      []runtime      `json:"runtimes"`
	Ribbons       []ribbon       `json:"ribbons"`
	AutoRunEvents []autoRunEvent `json:"autoRunEvents"`
	Alternates    []alternate    `json:"alternates"`
}

// alternate carries the icons of the XML manifest that the admin center
// generates from the app package for Outlook clients without the unified
// manifest (Mac, older Windows builds).
type alternate struct {
	AlternateIcons struct {
		Icon               icon `json:"icon"`
		HighResolutionIcon icon `json:"highResolutionIcon"`
	} `json:"alternateIcons"`
}

type requirements struct {
	Capabilities []capability `json:"capabilities,omitempty"`
	Scopes       []string     `json:"scopes,omitempty"`
	FormFactors  []string     `json:"formFactors,omitempty"`
}

type capability struct {
	Name       string `json:"name"`
	MinVersion string `json:"minVersion"`
}

type runtime struct {
	ID       string      `json:"id"`
	Type     string      `json:"type"`
	Code     runtimeCode `json:"code"`
	Lifetime string      `json:"lifetime"`
	Actions  []action    `json:"actions"`
}

type runtimeCode struct {
	Page   string `json:"page"`
	Script string `json:"script,omitempty"`
}

type action struct {
	ID   string `json:"id"`
	Type string `json:"type"`
}

type ribbon struct {
	Requirements requirements `json:"requirements"`
	Contexts     []string     `json:"contexts"`
	Tabs         []tab        `json:"tabs"`
}

type tab struct {
	BuiltInTabID            string        `json:"builtInTabId,omitempty"`
	Groups                  []group       `json:"groups,omitempty"`
	CustomMobileRibbonGroup []mobileGroup `json:"customMobileRibbonGroups,omitempty"`
}

type group struct {
	ID       string    `json:"id"`
	Label    string    `json:"label"`
	Icons    []icon    `json:"icons"`
	Controls []control `json:"controls"`
}

type control struct {
	ID       string   `json:"id"`
	Type     string   `json:"type"`
	Label    string   `json:"label"`
	Icons    []icon   `json:"icons"`
	Supertip supertip `json:"supertip"`
	ActionID string   `json:"actionId"`
}

type icon struct {
	Size  int    `json:"size"`
	Scale int    `json:"scale,omitempty"`
	URL   string `json:"url"`
}

type supertip struct {
	Title       string `json:"title"`
	Description string `json:"description"`
}

type mobileGroup struct {
	ID       string          `json:"id"`
	Label    string          `json:"label"`
	Controls []mobileControl `json:"controls"`
}

type mobileControl struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Label    string `json:"label"`
	Icons    []icon `json:"icons"`
	ActionID string `json:"actionId"`
}

type autoRunEvent struct {
	Requirements requirements `json:"requirements"`
	Events       []event      `json:"events"`
}

type event struct {
	Type     string `json:"type"`
	ActionID string `json:"actionId"`
}

// openTaskpane is the unified manifest's action that opens the pane.
const openTaskpane = "openTaskpane"

// JSON returns the unified manifest for Microsoft 365 for the deployment c
// describes. Its icons (color.png, outline.png) are package files: they
// go into the app package beside it, from addin/assets.
func JSON(c Config) ([]byte, error) {
	d, err := c.check()
	if err != nil {
		return nil, err
	}
	iconSet := func(sizes ...int) []icon {
		var out []icon
		for _, s := range sizes {
			out = append(out, icon{Size: s, URL: d.URL(fmt.Sprintf("assets/icon-%d.png", s))})
		}
		return out
	}
	// The XML manifest's IconUrl and HighResolutionIconUrl: 64 and 128 px.
	// The schema knows no size above 80, so the 128 px icon is declared 64
	// as in Microsoft's own samples.
	var alt alternate
	alt.AlternateIcons.Icon = icon{Size: 64, URL: d.URL("assets/icon-64.png")}
	alt.AlternateIcons.HighResolutionIcon = icon{Size: 64, URL: d.URL("assets/icon-128.png")}
	// Outlook mobile wants 25, 32 and 48 px at 1x, 2x and 3x; the nearest
	// larger PNG stands in for each.
	var mobileIcons []icon
	for _, size := range []int{25, 32, 48} {
		for scale := 1; scale <= 3; scale++ {
			px := 16
			for _, s := range iconSizes {
				if px = s; s >= size*scale {
					break
				}
			}
			mobileIcons = append(mobileIcons, icon{Size: size, Scale: scale, URL: d.URL(fmt.Sprintf("assets/icon-%d.png", px))})
		}
	}

	actions := []action{{CommandFunction, "executeFunction"}}
	var events []event
	for _, e := range LaunchEvents {
		actions = append(actions, action{e.Handler, "executeFunction"})
		events = append(events, event{e.Unified, e.Handler})
	}
	m := unified{
		Schema:          "https://developer.microsoft.com/json-schemas/teams/v" + SchemaVersion + "/MicrosoftTeams.schema.json",
		ManifestVersion: SchemaVersion,
		ID:              d.AddinID,
		Version:         d.Version,
		Name:            name{Short: textName.Default, Full: textName.Default + " for Outlook"},
		Description:     name{Short: "Online meetings in Outlook invitations", Full: textDesc.Default},
		Developer:       developer{Name: "Web Scheduler", WebsiteURL: d.Base + "/", PrivacyURL: d.Base + "/", TermsOfUseURL: d.Base + "/"},
		Icons:           icons{Outline: packageOutlineIcon, Color: packageColorIcon},
		AccentColor:     "#0F6CBD",
		LocalizationInfo: localizationInfo{
			DefaultLanguageTag: "en-us",
		},
		ValidDomains:       []string{d.Host},
		WebApplicationInfo: webApplicationInfo{ID: d.ClientID, Resource: d.Resource()},
		Extensions: []extension{{
			Requirements: requirements{Scopes: []string{"mail"}, Capabilities: []capability{{"Mailbox", "1.5"}}},
			Runtimes: []runtime{
				{ID: "CommandsRuntime", Type: "general", Code: runtimeCode{Page: d.URL("commands.html"), Script: d.URL("launchevent.classic.js")}, Lifetime: "short", Actions: actions},
				{ID: "TaskpaneRuntime", Type: "general", Code: runtimeCode{Page: d.URL("taskpane.html")}, Lifetime: "short", Actions: []action{{openTaskpane, "openPage"}}},
			},
			Ribbons: []ribbon{
				{
					Requirements: requirements{FormFactors: []string{"desktop"}},
					Contexts:     []string{"meetingDetailsOrganizer"},
					Tabs: []tab{{BuiltInTabID: "TabDefault", Groups: []group{{
						ID: "WebScheduler.Group", Label: textName.Default, Icons: iconSet(16, 32, 80),
						Controls: []control{
							{ID: "WebScheduler.Add", Type: "button", Label: textAdd.Default, Icons: iconSet(16, 32, 80), Supertip: supertip{textAdd.Default, textAddTip.Default}, ActionID: CommandFunction},
							{ID: "WebScheduler.Options", Type: "button", Label: textPane.Default, Icons: iconSet(16, 32, 80), Supertip: supertip{textPane.Default, textPaneTip.Default}, ActionID: openTaskpane},
						},
					}}}},
				},
				{
					Requirements: requirements{FormFactors: []string{"mobile"}},
					Contexts:     []string{"onlineMeetingDetailsOrganizer"},
					Tabs: []tab{{CustomMobileRibbonGroup: []mobileGroup{{
						ID: "WebScheduler.MobileGroup", Label: textName.Default,
						Controls: []mobileControl{{ID: "WebScheduler.MobileAdd", Type: "mobileButton", Label: textAdd.Default, Icons: mobileIcons, ActionID: CommandFunction}},
					}}}},
				},
			},
			AutoRunEvents: []autoRunEvent{{
				Requirements: requirements{Capabilities: []capability{{"Mailbox", "1.11"}}},
				Events:       events,
			}},
			Alternates: []alternate{alt},
		}},
	}
	m.Authorization.Permissions.ResourceSpecific = []permission{{"MailboxItem.ReadWrite.User", "Delegated"}}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
