package httpapi

import "golang.org/x/text/language"

// webLocales are the Web Scheduler page's languages, the add-in's four.
var webLocales = []language.Tag{language.AmericanEnglish, language.German, language.French, language.Japanese}

var webMatcher = language.NewMatcher(webLocales)

// webLocale picks the page's language from the user's preferredLanguage,
// then the browser's Accept-Language.
func webLocale(preferred, acceptLanguage string) string {
	tag, _ := language.MatchStrings(webMatcher, preferred, acceptLanguage)
	base, _ := tag.Base()
	if _, ok := webStrings[base.String()]; ok {
		return base.String()
	}
	return "en"
}

// webStrings are the page's texts by locale; English fills any gap.
// Printf verbs mark the values a text takes.
var webStrings = map[string]map[string]string{
	"en": {
		"people": "Attendees", "myMeetings": "My meetings", "newMeeting": "New meeting", "editMeeting": "Edit meeting", "cancelMeeting": "Cancel meeting",
		"meeting": "Meeting", "nav": "Web Scheduler", "signOut": "Sign out", "signedInAs": "Signed in as %s",
		"from": "From", "to": "To", "show": "Show", "period": "Period",
		"calendarOf": "Someone else's calendar (optional)", "calendarHint": "Leave empty for your own calendar. As a delegate, give the address of the person whose calendar you manage.",
		"subject": "Subject", "when": "When", "conferenceId": "Conference ID", "joinLink": "Join link", "join": "Join",
		"noMeetings": "No meetings with Web Scheduler join information in this period.", "page": "Page %d of %d",
		"previous": "Previous page", "next": "Next page", "noSubject": "(no subject)", "details": "Details",
		"start": "Start", "end": "End", "timeZone": "Time zone", "timesIn": "Times are in %s.",
		"attendees": "Attendees (one address per line)", "findPeople": "Find people",
		"findPeopleHint": "Type a name, then choose a person to add them to the attendees.",
		"onBehalfOf":     "On behalf of (optional)", "onBehalfOfHint": "As a delegate, the address of the person whose calendar the meeting goes into: they are the organizer.",
		"options": "Meeting options", "lobby": "Who can bypass the lobby?", "lobby.organizer": "Only me", "lobby.invited": "People I invite",
		"lobby.company": "People in my organization", "lobby.everyone": "Everyone", "phoneBypass": "Callers can bypass the lobby",
		"presenters": "Who can present?", "presenters.organizer": "Only me", "presenters.company": "People in my organization",
		"presenters.everyone": "Everyone", "presenters.named": "Specific people",
		"presenterList": "Presenters (one address per line)", "presenterListHint": "Used when “Specific people” can present.",
		"dialInRegion": "Dial-in region", "allRegions": "All regions", "create": "Create meeting", "save": "Save changes",
		"edit": "Edit", "export": "Export to iCalendar (.ics)", "copy": "Copy", "copied": "Copied.", "copyFailed": "Could not copy; select the text instead.",
		"copyWhat": "Copy %s", "added": "%s added to the attendees.",
		"organizer": "Organizer", "passcode": "Passcode", "dialIn": "Dial-in numbers", "tollFree": "toll-free",
		"findLocal": "Find a local number", "yes": "Yes", "no": "No",
		"readOnlyInCalendar": "Change the subject and attendees in your calendar.", "itemGone": "The calendar item no longer exists.",
		"cancelMessage": "Message to attendees", "cancelIntro": "The meeting is cancelled in the calendar, the attendees get a cancellation with your message, and the conference is freed.",
		"back": "Back", "done.created": "The meeting was created and the invitations sent.", "done.updated": "The meeting was updated.",
		"done.deleted": "The meeting was cancelled.", "error": "Something went wrong", "errorCode": "Error code: %s",
		"signIn": "Sign in", "signedOut": "You have signed out of Web Scheduler.", "signInAgain": "Sign in again", "sessionEnded": "Your session has ended. Sign in again to continue.",
		"formExpired":  "This form expired or came from another site. Go back, reload the page and try again.",
		"signInFailed": "Microsoft Entra ID did not sign you in.", "signInStale": "The sign-in took too long or came from another window; try again.",
		"badTime": "Give the start and the end as a date and a time.", "skipped": "%s does not exist in %s: the clocks skip that hour.",
		"badZone": "Choose a time zone from the list.", "badDate": "Give the period as two dates.", "badPage": "There is no such page.",
	},
	"de": {
		"people": "Teilnehmer", "myMeetings": "Meine Besprechungen", "newMeeting": "Neue Besprechung", "editMeeting": "Besprechung bearbeiten", "cancelMeeting": "Besprechung absagen",
		"meeting": "Besprechung", "signOut": "Abmelden", "signedInAs": "Angemeldet als %s",
		"from": "Von", "to": "Bis", "show": "Anzeigen", "period": "Zeitraum",
		"calendarOf": "Kalender einer anderen Person (optional)", "calendarHint": "Für Ihren eigenen Kalender leer lassen. Als Stellvertretung die Adresse der Person angeben, deren Kalender Sie verwalten.",
		"subject": "Betreff", "when": "Wann", "conferenceId": "Konferenz-ID", "joinLink": "Teilnahmelink", "join": "Teilnehmen",
		"noMeetings": "Keine Besprechungen mit Web Scheduler-Teilnahmeinformationen in diesem Zeitraum.", "page": "Seite %d von %d",
		"previous": "Vorherige Seite", "next": "Nächste Seite", "noSubject": "(kein Betreff)", "details": "Details",
		"start": "Beginn", "end": "Ende", "timeZone": "Zeitzone", "timesIn": "Zeiten in %s.",
		"attendees": "Teilnehmer (eine Adresse pro Zeile)", "findPeople": "Personen suchen",
		"findPeopleHint": "Geben Sie einen Namen ein, und wählen Sie eine Person aus, um sie den Teilnehmern hinzuzufügen.",
		"onBehalfOf":     "Im Auftrag von (optional)", "onBehalfOfHint": "Als Stellvertretung die Adresse der Person, in deren Kalender die Besprechung kommt: Sie ist die Organisatorin bzw. der Organisator.",
		"options": "Besprechungsoptionen", "lobby": "Wer kann den Wartebereich umgehen?", "lobby.organizer": "Nur ich", "lobby.invited": "Von mir eingeladene Personen",
		"lobby.company": "Personen in meiner Organisation", "lobby.everyone": "Alle", "phoneBypass": "Anrufer können den Wartebereich umgehen",
		"presenters": "Wer kann präsentieren?", "presenters.organizer": "Nur ich", "presenters.company": "Personen in meiner Organisation",
		"presenters.everyone": "Alle", "presenters.named": "Bestimmte Personen",
		"presenterList": "Referenten (eine Adresse pro Zeile)", "presenterListHint": "Gilt, wenn „Bestimmte Personen“ präsentieren können.",
		"dialInRegion": "Einwahlregion", "allRegions": "Alle Regionen", "create": "Besprechung erstellen", "save": "Änderungen speichern",
		"edit": "Bearbeiten", "export": "Als iCalendar exportieren (.ics)", "copy": "Kopieren", "copied": "Kopiert.", "copyFailed": "Kopieren nicht möglich; markieren Sie den Text.",
		"copyWhat": "%s kopieren", "added": "%s zu den Teilnehmern hinzugefügt.",
		"organizer": "Organisator", "passcode": "Kenncode", "dialIn": "Einwahlnummern", "tollFree": "gebührenfrei",
		"findLocal": "Lokale Nummer suchen", "yes": "Ja", "no": "Nein",
		"readOnlyInCalendar": "Betreff und Teilnehmer ändern Sie in Ihrem Kalender.", "itemGone": "Der Kalendereintrag existiert nicht mehr.",
		"cancelMessage": "Nachricht an die Teilnehmer", "cancelIntro": "Die Besprechung wird im Kalender abgesagt, die Teilnehmer erhalten eine Absage mit Ihrer Nachricht, und die Konferenz wird freigegeben.",
		"back": "Zurück", "done.created": "Die Besprechung wurde erstellt und die Einladungen gesendet.", "done.updated": "Die Besprechung wurde aktualisiert.",
		"done.deleted": "Die Besprechung wurde abgesagt.", "error": "Ein Fehler ist aufgetreten", "errorCode": "Fehlercode: %s",
		"signIn": "Anmelden", "signedOut": "Sie haben sich von Web Scheduler abgemeldet.", "signInAgain": "Erneut anmelden", "sessionEnded": "Ihre Sitzung ist abgelaufen. Melden Sie sich erneut an, um fortzufahren.",
		"formExpired":  "Dieses Formular ist abgelaufen oder stammt von einer anderen Website. Gehen Sie zurück, laden Sie die Seite neu, und versuchen Sie es erneut.",
		"signInFailed": "Microsoft Entra ID hat Sie nicht angemeldet.", "signInStale": "Die Anmeldung hat zu lange gedauert oder kam aus einem anderen Fenster; versuchen Sie es erneut.",
		"badTime": "Geben Sie Beginn und Ende als Datum und Uhrzeit an.", "skipped": "%s gibt es in %s nicht: Die Uhren überspringen diese Stunde.",
		"badZone": "Wählen Sie eine Zeitzone aus der Liste.", "badDate": "Geben Sie den Zeitraum als zwei Daten an.", "badPage": "Diese Seite gibt es nicht.",
	},
	"fr": {
		"people": "Participants", "myMeetings": "Mes réunions", "newMeeting": "Nouvelle réunion", "editMeeting": "Modifier la réunion", "cancelMeeting": "Annuler la réunion",
		"meeting": "Réunion", "signOut": "Se déconnecter", "signedInAs": "Connecté en tant que %s",
		"from": "Du", "to": "Au", "show": "Afficher", "period": "Période",
		"calendarOf": "Calendrier d’une autre personne (facultatif)", "calendarHint": "Laissez vide pour votre propre calendrier. En tant que délégué, indiquez l’adresse de la personne dont vous gérez le calendrier.",
		"subject": "Objet", "when": "Quand", "conferenceId": "ID de conférence", "joinLink": "Lien pour participer", "join": "Participer",
		"noMeetings": "Aucune réunion avec des informations de participation Web Scheduler sur cette période.", "page": "Page %d sur %d",
		"previous": "Page précédente", "next": "Page suivante", "noSubject": "(sans objet)", "details": "Détails",
		"start": "Début", "end": "Fin", "timeZone": "Fuseau horaire", "timesIn": "Heures en %s.",
		"attendees": "Participants (une adresse par ligne)", "findPeople": "Rechercher des personnes",
		"findPeopleHint": "Tapez un nom, puis choisissez une personne pour l’ajouter aux participants.",
		"onBehalfOf":     "De la part de (facultatif)", "onBehalfOfHint": "En tant que délégué, l’adresse de la personne dans le calendrier de laquelle la réunion est placée : elle en est l’organisateur.",
		"options": "Options de la réunion", "lobby": "Qui peut contourner la salle d’attente ?", "lobby.organizer": "Moi uniquement", "lobby.invited": "Les personnes que j’invite",
		"lobby.company": "Les personnes de mon organisation", "lobby.everyone": "Tout le monde", "phoneBypass": "Les appelants peuvent contourner la salle d’attente",
		"presenters": "Qui peut présenter ?", "presenters.organizer": "Moi uniquement", "presenters.company": "Les personnes de mon organisation",
		"presenters.everyone": "Tout le monde", "presenters.named": "Personnes spécifiques",
		"presenterList": "Présentateurs (une adresse par ligne)", "presenterListHint": "Utilisé quand « Personnes spécifiques » peuvent présenter.",
		"dialInRegion": "Région d’appel", "allRegions": "Toutes les régions", "create": "Créer la réunion", "save": "Enregistrer les modifications",
		"edit": "Modifier", "export": "Exporter au format iCalendar (.ics)", "copy": "Copier", "copied": "Copié.", "copyFailed": "Impossible de copier ; sélectionnez le texte.",
		"copyWhat": "Copier %s", "added": "%s ajouté aux participants.",
		"organizer": "Organisateur", "passcode": "Code secret", "dialIn": "Numéros d’accès", "tollFree": "numéro gratuit",
		"findLocal": "Trouver un numéro local", "yes": "Oui", "no": "Non",
		"readOnlyInCalendar": "Modifiez l’objet et les participants dans votre calendrier.", "itemGone": "L’élément de calendrier n’existe plus.",
		"cancelMessage": "Message aux participants", "cancelIntro": "La réunion est annulée dans le calendrier, les participants reçoivent une annulation avec votre message et la conférence est libérée.",
		"back": "Retour", "done.created": "La réunion a été créée et les invitations envoyées.", "done.updated": "La réunion a été mise à jour.",
		"done.deleted": "La réunion a été annulée.", "error": "Une erreur s’est produite", "errorCode": "Code d’erreur : %s",
		"signIn": "Se connecter", "signedOut": "Vous êtes déconnecté de Web Scheduler.", "signInAgain": "Se reconnecter", "sessionEnded": "Votre session a expiré. Reconnectez-vous pour continuer.",
		"formExpired":  "Ce formulaire a expiré ou provient d’un autre site. Revenez en arrière, rechargez la page et réessayez.",
		"signInFailed": "Microsoft Entra ID ne vous a pas connecté.", "signInStale": "La connexion a pris trop de temps ou vient d’une autre fenêtre ; réessayez.",
		"badTime": "Indiquez le début et la fin avec une date et une heure.", "skipped": "%s n’existe pas en %s : les horloges sautent cette heure.",
		"badZone": "Choisissez un fuseau horaire dans la liste.", "badDate": "Indiquez la période avec deux dates.", "badPage": "Cette page n’existe pas.",
	},
	"ja": {
		"people": "出席者", "myMeetings": "自分の会議", "newMeeting": "新しい会議", "editMeeting": "会議の編集", "cancelMeeting": "会議のキャンセル",
		"meeting": "会議", "signOut": "サインアウト", "signedInAs": "%s としてサインイン中",
		"from": "開始日", "to": "終了日", "show": "表示", "period": "期間",
		"calendarOf": "他のユーザーの予定表 (省略可)", "calendarHint": "自分の予定表の場合は空欄のままにします。代理人の場合は、管理している予定表の所有者のアドレスを入力します。",
		"subject": "件名", "when": "日時", "conferenceId": "会議 ID", "joinLink": "参加リンク", "join": "参加",
		"noMeetings": "この期間に Web Scheduler の参加情報がある会議はありません。", "page": "%d / %d ページ",
		"previous": "前のページ", "next": "次のページ", "noSubject": "(件名なし)", "details": "詳細",
		"start": "開始", "end": "終了", "timeZone": "タイム ゾーン", "timesIn": "時刻は %s で表示されています。",
		"attendees": "出席者 (1 行に 1 アドレス)", "findPeople": "ユーザーの検索",
		"findPeopleHint": "名前を入力し、ユーザーを選択すると出席者に追加されます。",
		"onBehalfOf":     "代理で予定を作成する相手 (省略可)", "onBehalfOfHint": "代理人の場合、会議を入れる予定表の所有者のアドレス。その人が開催者になります。",
		"options": "会議のオプション", "lobby": "ロビーを迂回できるユーザー", "lobby.organizer": "自分のみ", "lobby.invited": "招待したユーザー",
		"lobby.company": "組織内のユーザー", "lobby.everyone": "すべてのユーザー", "phoneBypass": "電話で参加するユーザーはロビーを迂回できる",
		"presenters": "発表できるユーザー", "presenters.organizer": "自分のみ", "presenters.company": "組織内のユーザー",
		"presenters.everyone": "すべてのユーザー", "presenters.named": "特定のユーザー",
		"presenterList": "発表者 (1 行に 1 アドレス)", "presenterListHint": "「特定のユーザー」が発表できる場合に使用します。",
		"dialInRegion": "ダイヤルイン地域", "allRegions": "すべての地域", "create": "会議を作成", "save": "変更を保存",
		"edit": "編集", "export": "iCalendar にエクスポート (.ics)", "copy": "コピー", "copied": "コピーしました。", "copyFailed": "コピーできませんでした。テキストを選択してください。",
		"copyWhat": "%s をコピー", "added": "%s を出席者に追加しました。",
		"organizer": "開催者", "passcode": "パスコード", "dialIn": "ダイヤルイン番号", "tollFree": "フリーダイヤル",
		"findLocal": "最寄りの番号を探す", "yes": "はい", "no": "いいえ",
		"readOnlyInCalendar": "件名と出席者は予定表で変更してください。", "itemGone": "予定表のアイテムはもう存在しません。",
		"cancelMessage": "出席者へのメッセージ", "cancelIntro": "予定表の会議がキャンセルされ、出席者にはメッセージ付きのキャンセル通知が届き、会議は解放されます。",
		"back": "戻る", "done.created": "会議が作成され、招待が送信されました。", "done.updated": "会議が更新されました。",
		"done.deleted": "会議がキャンセルされました。", "error": "エラーが発生しました", "errorCode": "エラー コード: %s",
		"signIn": "サインイン", "signedOut": "Web Scheduler からサインアウトしました。", "signInAgain": "もう一度サインイン", "sessionEnded": "セッションが終了しました。続行するにはもう一度サインインしてください。",
		"formExpired":  "このフォームは有効期限が切れているか、別のサイトから送信されました。戻ってページを再読み込みし、もう一度お試しください。",
		"signInFailed": "Microsoft Entra ID でサインインできませんでした。", "signInStale": "サインインに時間がかかりすぎたか、別のウィンドウから行われました。もう一度お試しください。",
		"badTime": "開始と終了を日付と時刻で指定してください。", "skipped": "%s は %s には存在しません (時計がこの 1 時間を飛ばします)。",
		"badZone": "一覧からタイム ゾーンを選択してください。", "badDate": "期間を 2 つの日付で指定してください。", "badPage": "そのページはありません。",
	},
}

// webTexts are webStrings with English filling the gaps of each locale.
var webTexts = func() map[string]map[string]string {
	out := map[string]map[string]string{}
	for locale, strs := range webStrings {
		m := map[string]string{}
		for k, v := range webStrings["en"] {
			m[k] = v
		}
		for k, v := range strs {
			m[k] = v
		}
		out[locale] = m
	}
	return out
}()

// webTimeLayouts show a meeting's time as each locale writes dates.
var webTimeLayouts = map[string]string{
	"en": "Mon 2 Jan 2006, 15:04", "de": "02.01.2006, 15:04", "fr": "02/01/2006 15:04", "ja": "2006/01/02 15:04",
}
