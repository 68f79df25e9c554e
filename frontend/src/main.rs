//! The Certus web app: the certifier portal (sign in, dashboard, credential types, issue one
//! or a batch, credentials with their status history and anchor, chain explorer, audit log,
//! users and API keys), the open verifier console (paste a credential, or ask a wallet for
//! one), and the holder's web wallet at `/wallet`. Talks to the backend's JSON API on
//! the same origin; the wire types come from `certus-schemas`.

mod api;
mod charts;
mod pages;
mod schema_form;
mod wallet;
mod widgets;

use certus_schemas::portal::{Role, SessionInfo};
use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::hooks::{use_location, use_navigate};
use leptos_router::path;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(App);
}

/// Who is signed in; shared by every page.
#[derive(Debug, Clone, Copy)]
pub struct Auth {
    /// The session, once known.
    pub session: RwSignal<Option<SessionInfo>>,
    /// True once the first `GET /session` answered.
    pub checked: RwSignal<bool>,
}

impl Auth {
    /// Remembers a new session (or its end) and its CSRF token.
    pub fn set(&self, session: Option<SessionInfo>) {
        api::set_csrf(session.as_ref().map(|s| s.csrf_token.clone()));
        self.session.set(session);
        self.checked.set(true);
    }

    /// The signed-in person's role.
    pub fn role(&self) -> Option<Role> {
        self.session.with(|s| s.as_ref().map(|s| s.user.role))
    }

    /// True when the signed-in person may issue and change status.
    pub fn can_write(&self) -> bool {
        matches!(self.role(), Some(Role::Admin | Role::Certifier))
    }
}

/// The [`Auth`] of the app.
pub fn use_auth() -> Auth {
    expect_context::<Auth>()
}

#[component]
fn App() -> impl IntoView {
    let auth = Auth {
        session: RwSignal::new(None),
        checked: RwSignal::new(false),
    };
    provide_context(auth);
    leptos::task::spawn_local(async move { auth.set(api::session().await.ok().flatten()) });
    view! {
        <Router>
            <a class="skip" href="#content">"Skip to content"</a>
            <Header/>
            <main id="content" tabindex="-1">
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=|| view! { <Protected><pages::dashboard::Dashboard/></Protected> }/>
                    <Route path=path!("/sign-in") view=pages::sign_in::SignIn/>
                    <Route path=path!("/verify") view=pages::verify::Verify/>
                    <Route path=path!("/wallet") view=wallet::Wallet/>
                    <Route path=path!("/portal/types") view=|| view! { <Protected><pages::types::Types/></Protected> }/>
                    <Route path=path!("/portal/issue") view=|| view! { <Protected><pages::issue::Issue/></Protected> }/>
                    <Route path=path!("/portal/batch") view=|| view! { <Protected><pages::batch::Batch/></Protected> }/>
                    <Route path=path!("/portal/credentials") view=|| view! { <Protected><pages::credentials::Credentials/></Protected> }/>
                    <Route path=path!("/portal/credentials/:id") view=|| view! { <Protected><pages::credentials::CredentialDetail/></Protected> }/>
                    <Route path=path!("/portal/chain") view=|| view! { <Protected><pages::chain::Chain/></Protected> }/>
                    <Route path=path!("/portal/audit") view=|| view! { <Protected><pages::audit::Audit/></Protected> }/>
                    <Route path=path!("/portal/kyc") view=|| view! { <Protected><pages::kyc::Kyc/></Protected> }/>
                    <Route path=path!("/portal/privacy") view=|| view! { <Protected><pages::privacy::Privacy/></Protected> }/>
                    <Route path=path!("/portal/admin") view=|| view! { <Protected><pages::admin::Admin/></Protected> }/>
                </Routes>
            </main>
        </Router>
    }
}

#[component]
fn Header() -> impl IntoView {
    let auth = use_auth();
    let navigate = use_navigate();
    let sign_out = Action::new_local(move |_: &()| async move { api::sign_out().await });
    Effect::new(move |_| {
        if sign_out.value().get().is_some() {
            auth.set(None);
            navigate("/sign-in", Default::default());
        }
    });
    // Under 768 px the signed-in menu folds behind a "Menu" button; following one of its
    // links folds it again.
    let open = RwSignal::new(false);
    view! {
        <header class="top" class:open=move || open.get()>
            <A href="/" attr:class="brand">"Certus"</A>
            <Show when=move || auth.session.with(|s| s.is_some())
                fallback=|| view! { <nav aria-label="Main"><A href="/verify">"Verify"</A> <A href="/wallet">"Wallet"</A> <A href="/sign-in">"Sign in"</A></nav> }>
                <button class="menu-toggle" data-testid="menu-toggle" aria-controls="main-menu"
                    aria-expanded=move || open.get().to_string()
                    on:click=move |_| open.update(|o| *o = !*o)>
                    {move || if open.get() { "Close menu" } else { "Menu" }}
                </button>
                <div class="menu" id="main-menu">
                <nav aria-label="Main" on:click=move |_| open.set(false)>
                    <A href="/" exact=true>"Dashboard"</A>
                    <Show when=move || auth.can_write()>
                        <A href="/portal/issue">"Issue"</A>
                        <A href="/portal/batch">"Batch issue"</A>
                    </Show>
                    <A href="/portal/credentials">"Credentials"</A>
                    <A href="/portal/types">"Types"</A>
                    <A href="/portal/chain">"Chain"</A>
                    <A href="/portal/audit">"Audit log"</A>
                    <A href="/portal/kyc">"KYC reuse"</A>
                    <Show when=move || auth.role() == Some(Role::Admin)>
                        <A href="/portal/privacy">"Privacy"</A>
                        <A href="/portal/admin">"Users & keys"</A>
                    </Show>
                    <A href="/verify">"Verify"</A>
                    <A href="/wallet">"Wallet"</A>
                </nav>
                <div class="who">
                    <span data-testid="signed-in-as">
                        {move || auth.session.with(|s| s.as_ref().map(|s| format!("{} · {} · {}", s.user.email, s.user.role.as_str(), s.tenant.name)))}
                    </span>
                    <button data-testid="sign-out" on:click=move |_| { sign_out.dispatch(()); }>"Sign out"</button>
                </div>
                </div>
            </Show>
        </header>
    }
}

/// Shows `children` to a signed-in person; sends others to the sign-in page, and asks a
/// person with a one-time password for a new one first.
#[component]
fn Protected(children: ChildrenFn) -> impl IntoView {
    let auth = use_auth();
    let navigate = use_navigate();
    let location = use_location();
    Effect::new(move |_| {
        if auth.checked.get() && auth.session.with(|s| s.is_none()) {
            let next = location.pathname.get_untracked();
            navigate(
                &format!("/sign-in?next={}", js_sys::encode_uri_component(&next)),
                Default::default(),
            );
        }
    });
    view! {
        {move || {
            if !auth.checked.get() {
                view! { <p class="loading" role="status">"Loading…"</p> }.into_any()
            } else if auth.session.with(|s| s.as_ref().is_some_and(|s| s.user.must_change_password)) {
                view! { <pages::sign_in::ChangePassword/> }.into_any()
            } else if auth.session.with(|s| s.is_some()) {
                children().into_any()
            } else {
                ().into_any()
            }
        }}
    }
}

/// An address the app has no page for.
#[component]
fn NotFound() -> impl IntoView {
    view! {
        <section class="not-found" data-testid="not-found">
            <h1>"There is no such page"</h1>
            <p>"The address may be mistyped, or the page may have moved."</p>
            <p><A href="/">"Go to the start page"</A> " · " <A href="/verify">"Verify a credential"</A></p>
        </section>
    }
}
