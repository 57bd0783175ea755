// The console's shell: sign-in, the screens of the signed-in role, the language toggle.
// Everything is kept in memory; the address stays /console and the title names only the
// screen, so nothing personal reaches the history, the address bar or the window title.
import { whenSignInNeeded } from "./api.js";
import {
  ConfigUnavailable,
  SignInError,
  cognitoSignIn,
  developmentSignIn,
  finishCognitoSignIn,
  forget,
  loadConfig,
  session,
  signOut,
  signedIn,
} from "./auth.js";
import { append, field, h, replace } from "./dom.js";
import { lang, onLanguageChange, setLanguage, t, word } from "./i18n.js";
import * as admin from "./admin.js";
import * as jsc from "./jsc.js";
import * as mandates from "./mandates.js";
import * as partner from "./partner.js";
import * as quality from "./quality.js";

const SCREENS = {
  jsc: [jsc.searchScreen],
  partner: [partner.deliveriesScreen, quality.qualityScreen, mandates.mandatesScreen],
  admin: [
    admin.heldScreen,
    partner.deliveriesScreen,
    quality.qualityScreen,
    jsc.searchScreen,
    mandates.mandatesScreen,
    admin.auditScreen,
  ],
};

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const sessionBox = document.getElementById("session");
let current = null;
let signInNotice = null;

function screensOfRole() {
  return SCREENS[session.role] || [];
}

function show(screen, { focus = true } = {}) {
  current = screen;
  document.title = `Polisregister — ${screen.title()}`;
  renderNav();
  replace(main);
  screen.render(main, { rerender: () => show(screen) });
  if (focus) (main.querySelector("[data-autofocus]") || main).focus();
}

function renderNav() {
  const screens = signedIn() ? screensOfRole() : [];
  replace(
    nav,
    screens.length > 1
      ? h(
          "ul",
          {},
          screens.map((screen) =>
            h(
              "li",
              {},
              h(
                "button",
                {
                  type: "button",
                  class: "tab",
                  "aria-current": screen === current ? "page" : false,
                  onclick: () => show(screen),
                },
                screen.title(),
              ),
            ),
          ),
        )
      : null,
  );
  const languageButton = h(
    "button",
    {
      type: "button",
      class: "link",
      lang: lang() === "nl" ? "en" : "nl",
      onclick: () => setLanguage(lang() === "nl" ? "en" : "nl"),
    },
    lang() === "nl" ? "English" : "Nederlands",
  );
  replace(
    sessionBox,
    signedIn()
      ? [
          h(
            "span",
            { class: "who" },
            word("role", session.role),
            session.partnerId ? ` · ${session.partnerId}` : "",
          ),
          languageButton,
          h(
            "button",
            {
              type: "button",
              class: "link",
              onclick: () => {
                if (!signOut()) showSignIn(t("U bent afgemeld.", "You are signed out."));
              },
            },
            t("Afmelden", "Sign out"),
          ),
        ]
      : [languageButton],
  );
}

function afterSignIn() {
  signInNotice = null;
  for (const module of [jsc, partner, admin, quality, mandates]) module.reset();
  const screens = screensOfRole();
  if (!screens.length) {
    forget();
    showSignIn(
      t(
        "Deze console is voor het servicecentrum, partners en beheerders; uw rol heeft hier geen schermen.",
        "This console is for the service centre, partners and administrators; your role has no screens here.",
      ),
    );
    return;
  }
  show(screens[0]);
}

const signInScreen = {
  title: () => t("Aanmelden", "Sign in"),
  render(container) {
    const config = session.config || {};
    const notice = signInNotice ? h("p", { class: "notice", role: "alert" }, signInNotice) : null;
    const problem = h("p", { class: "error", role: "alert" });
    if (config.sign_in === "development") {
      const role = h(
        "select",
        { name: "role", "data-autofocus": true },
        ["jsc", "partner", "admin"].map((value) => h("option", { value }, `${word("role", value)} (${value})`)),
      );
      const partnerSelect = h(
        "select",
        { name: "partner" },
        (config.partners || []).map((value) => h("option", { value }, value)),
      );
      const subject = h("input", { name: "subject", type: "text", autocomplete: "off", value: "ontwikkelaar" });
      const partnerField = field(t("Partner", "Partner"), partnerSelect);
      const syncPartner = () => {
        partnerField.hidden = role.value !== "partner";
      };
      role.addEventListener("change", syncPartner);
      syncPartner();
      const button = h("button", { type: "submit" }, t("Aanmelden", "Sign in"));
      const form = h(
        "form",
        {
          class: "card narrow",
          onsubmit: async (event) => {
            event.preventDefault();
            button.disabled = true;
            try {
              await developmentSignIn(role.value, partnerSelect.value, subject.value.trim() || "ontwikkelaar");
              afterSignIn();
            } catch (error) {
              replace(problem, signInProblem(error));
            } finally {
              button.disabled = false;
            }
          },
        },
        h("h1", {}, t("Aanmelden (lokale ontwikkelomgeving)", "Sign in (local development)")),
        h(
          "p",
          {},
          t(
            "Kies een rol en, als partner, de partner. Alleen de lokale omgeving geeft zulke tokens uit; op de echte omgevingen meldt u zich aan via de aanmeldpagina van het register.",
            "Pick a role and, as a partner, the partner. Only the local run issues such tokens; on the real stages you sign in through the register's sign-in page.",
          ),
        ),
        notice,
        field(t("Rol", "Role"), role),
        partnerField,
        field(t("Naam in het auditlogboek", "Name in the audit log"), subject),
        button,
        problem,
      );
      append(container, form);
      return;
    }
    if (config.sign_in === "cognito") {
      const button = h(
        "button",
        { type: "button", "data-autofocus": true, onclick: () => cognitoSignIn() },
        t("Aanmelden", "Sign in"),
      );
      append(container, 
        h("div", { class: "card narrow" }, h("h1", {}, t("Aanmelden", "Sign in")), notice, button, problem),
      );
      return;
    }
    append(container, 
      h(
        "div",
        { class: "card narrow" },
        h("h1", {}, t("Aanmelden", "Sign in")),
        notice,
        h(
          "p",
          { class: "error", role: "alert" },
          t(
            "Aanmelden is op deze omgeving niet ingericht (zie docs/deploy.md, console).",
            "Sign-in is not set up on this stage (see docs/deploy.md, console).",
          ),
        ),
      ),
    );
  },
};

function signInProblem(error) {
  if (error instanceof SignInError && error.code === "unreachable") {
    return t("De API is niet bereikbaar. Probeer het opnieuw.", "The API cannot be reached. Try again.");
  }
  return t("Aanmelden is niet gelukt", "Signing in failed") + (error && error.message ? `: ${error.message}` : ".");
}

function showSignIn(message) {
  signInNotice = message || null;
  show(signInScreen);
}

whenSignInNeeded((failure) => {
  showSignIn(
    failure.code === "token_expired"
      ? t("Uw sessie is verlopen. Meld u opnieuw aan.", "Your session has expired. Please sign in again.")
      : t("U moet (opnieuw) aanmelden.", "Please sign in (again)."),
  );
});

document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape" || event.defaultPrevented || !current || !current.escape) return;
  if (current.escape()) event.preventDefault();
});

onLanguageChange(() => {
  if (current) show(current, { focus: false });
  else renderNav();
});

async function boot() {
  try {
    await loadConfig();
  } catch (error) {
    const text =
      error instanceof ConfigUnavailable && error.message === "unreachable"
        ? t("De API is niet bereikbaar. Laad de pagina opnieuw als de verbinding terug is.",
            "The API cannot be reached. Reload the page when the connection is back.")
        : t("De console kan zijn instellingen niet laden. Probeer het later opnieuw.",
            "The console cannot load its settings. Try again later.");
    replace(main, h("p", { class: "error", role: "alert" }, text));
    renderNav();
    return;
  }
  if (session.config.sign_in === "cognito") {
    try {
      if (await finishCognitoSignIn()) {
        afterSignIn();
        return;
      }
    } catch (error) {
      showSignIn(signInProblem(error));
      return;
    }
  }
  showSignIn();
}

boot();
