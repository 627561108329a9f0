// Outlook, as the add-in sees it through Office.js: an appointment in
// compose mode, built on office-addin-mock's OfficeMockObject. The test
// harness serves this file, after office-addin-mock's own modules, in place
// of https://appsforoffice.microsoft.com/lib/1/hosted/office.js, so it runs
// before the add-in's scripts exactly as Office.js would.
//
// window.__officeMockConfig (set by the test before the page loads) picks
// the body type, language, theme and failures; window.__officeMock lets
// the test read and change the item and run event handlers.
/* global OfficeMockObject */
(function () {
  const cfg = Object.assign(
    {
      user: "adele.vance@contoso.example",
      displayName: "Adele Vance",
      displayLanguage: "en-US",
      theme: undefined, // {bodyBackgroundColor, bodyForegroundColor, ...}
      bodyType: "html",
      body: '<html><head><meta charset="utf-8"></head><body><div><p>Agenda: the <b>roadmap</b>.</p></div></body></html>',
      location: "",
      subject: "Roadmap review",
      start: "2031-03-04T09:00:00Z",
      end: "2031-03-04T10:00:00Z",
      required: ["alex.wilber@contoso.example"],
      optional: [],
      ssoError: 0, // an Office error code getAccessToken fails with
      dialogError: 0, // an Office error code displayDialogAsync fails with
    },
    window.__officeMockConfig || {},
  );

  const inDialog = Boolean(window.opener && window.opener.__officeDialogMessage);
  const ok = (value) => ({ status: "succeeded", value });
  const failed = (code, name, message) => ({ status: "failed", error: { code, name, message } });
  // Office calls back asynchronously, never inside the call.
  const later = (cb, result) => setTimeout(() => cb && cb(result), 0);

  const state = {
    body: cfg.body,
    bodyType: cfg.bodyType,
    location: cfg.location,
    subject: cfg.subject,
    start: new Date(cfg.start),
    end: new Date(cfg.end),
    required: cfg.required,
    optional: cfg.optional,
    props: {},
    notifications: {},
    setBodyCalls: 0,
    dialogs: 0,
    tokenRequests: 0,
  };
  const actions = {};

  const field = (get, set) => ({
    getAsync(options, cb) {
      later(typeof options === "function" ? options : cb, ok(get()));
    },
    setAsync(value, options, cb) {
      set(value);
      later(typeof options === "function" ? options : cb, ok(undefined));
    },
  });
  const recipients = (key) => ({
    getAsync(options, cb) {
      const list = state[key].map((a) => ({ emailAddress: a, displayName: a, recipientType: "user" }));
      later(typeof options === "function" ? options : cb, ok(list));
    },
  });

  const item = {
    itemType: "appointment",
    subject: field(() => state.subject, (v) => (state.subject = v)),
    location: field(() => state.location, (v) => (state.location = v)),
    start: field(() => state.start, (v) => (state.start = v)),
    end: field(() => state.end, (v) => (state.end = v)),
    requiredAttendees: recipients("required"),
    optionalAttendees: recipients("optional"),
    body: {
      getTypeAsync(options, cb) {
        later(typeof options === "function" ? options : cb, ok(state.bodyType));
      },
      getAsync(coercionType, options, cb) {
        const callback = typeof options === "function" ? options : cb;
        // Outlook converts on read; these tests read the body's own type.
        if (coercionType !== state.bodyType) return later(callback, failed(9000, "InvalidFormatError", "coercion"));
        later(callback, ok(state.body));
      },
      setAsync(data, options, cb) {
        const callback = typeof options === "function" ? options : cb;
        if (options.coercionType !== state.bodyType) return later(callback, failed(9000, "InvalidFormatError", "coercion"));
        state.body = data;
        state.setBodyCalls++;
        later(callback, ok(undefined));
      },
    },
    loadCustomPropertiesAsync(cb) {
      // Each load is a snapshot; saveAsync writes it back, as in Outlook.
      const local = Object.assign({}, state.props);
      const props = {
        get: (k) => local[k],
        set: (k, v) => (local[k] = v),
        remove: (k) => delete local[k],
        getAll: () => Object.assign({}, local),
        saveAsync(cb2) {
          state.props = Object.assign({}, local);
          later(cb2, ok(undefined));
        },
      };
      later(cb, ok(props));
    },
    notificationMessages: {
      replaceAsync(key, details, cb) {
        state.notifications[key] = details;
        later(cb, ok(undefined));
      },
    },
  };

  const dialogOpen = (url, options, cb) => {
    state.dialogs++;
    if (cfg.dialogError) return later(cb, failed(cfg.dialogError, "DialogError", "The dialog was blocked."));
    const win = window.open(url, "webscheduler-dialog", "popup,width=480,height=640");
    if (!win) return later(cb, failed(12009, "DialogError", "The dialog was blocked."));
    const handlers = {};
    let closedByAddin = false;
    window.__officeDialogMessage = (message) => {
      const h = handlers.dialogMessageReceived;
      if (h) h({ type: "dialogMessageReceived", message, origin: location.origin });
    };
    const poll = setInterval(() => {
      if (!win.closed) return;
      clearInterval(poll);
      const h = handlers.dialogEventReceived;
      if (h && !closedByAddin) h({ type: "dialogEventReceived", error: 12006 });
    }, 100);
    later(cb, ok({
      addEventHandler(type, handler) {
        handlers[type] = handler;
      },
      close() {
        closedByAddin = true;
        win.close();
      },
      messageChild() {},
    }));
  };

  const data = {
    context: {
      displayLanguage: cfg.displayLanguage,
      requirements: { isSetSupported: () => true },
      mailbox: {
        userProfile: { emailAddress: cfg.user, displayName: cfg.displayName, timeZone: "W. Europe Standard Time" },
        item,
      },
      ui: {
        displayDialogAsync: dialogOpen,
        messageParent(message) {
          if (inDialog) window.opener.__officeDialogMessage(message);
        },
      },
    },
    auth: {
      // Office hands over an SSO token for the add-in's API; the sandbox
      // issues exactly such a token.
      async getAccessToken() {
        state.tokenRequests++;
        if (cfg.ssoError) {
          const err = new Error("Single sign-on failed.");
          err.code = cfg.ssoError;
          throw err;
        }
        const res = await fetch("/sandbox/token", { method: "POST", body: new URLSearchParams({ user: cfg.user }) });
        if (!res.ok) throw Object.assign(new Error("sandbox token"), { code: 13003 });
        return (await res.json()).access_token;
      },
    },
    actions: {
      associate(name, fn) {
        actions[name] = fn;
      },
    },
    onReady(cb) {
      const info = { host: "Outlook", platform: "OfficeOnline" };
      return new Promise((resolve) => setTimeout(() => resolve(info), 0)).then((r) => (cb && cb(r), r));
    },
    AsyncResultStatus: { Succeeded: "succeeded", Failed: "failed" },
    CoercionType: { Html: "html", Text: "text" },
    EventType: { DialogMessageReceived: "dialogMessageReceived", DialogEventReceived: "dialogEventReceived" },
    MailboxEnums: {
      ItemType: { Appointment: "appointment", Message: "message" },
      ItemNotificationMessageType: { ProgressIndicator: "progressIndicator", InformationalMessage: "informationalMessage", ErrorMessage: "errorMessage" },
    },
  };
  if (cfg.theme) data.context.officeTheme = cfg.theme;

  window.Office = new OfficeMockObject(data, "outlook");
  window.__officeMock = {
    state,
    actions,
    // Runs an event handler as Outlook would and resolves when it calls
    // event.completed.
    fire(name, event = {}) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${name} did not call event.completed`)), 60000);
        actions[name](Object.assign({}, event, { completed: (opts) => (clearTimeout(timer), resolve(opts || null)) }));
      });
    },
  };
})();
