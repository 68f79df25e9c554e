//! The web wallet's screens: create, unlock or restore; receive; the credentials with
//! their status and anchor; the consent screen; backup.

use std::cell::RefCell;
use std::collections::BTreeSet;

use certus_schemas::holder::{HeldCredential, HolderError, SubjectClaim};
use certus_schemas::wire::{CredentialTypeInfo, Outcome, VerificationResult};
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::Value;

use super::protocol::{self, Access, Choice, Offer, Returned, VerifierRequest};
use super::vault::{self, Sealed, Vault, MIN_PASSPHRASE};
use super::{scan, WebWallet};
use crate::api;
use crate::pages::offer::poll_while;
use crate::schema_form::Labels;
use crate::widgets::{local_time, Download};

thread_local! {
    /// The key of the open wallet; gone when the page is locked or closed.
    static VAULT: RefCell<Option<Vault>> = const { RefCell::new(None) };
}

/// The open wallet, shared by the wallet's screens.
#[derive(Debug, Clone, Copy)]
struct Open {
    wallet: RwSignal<Option<WebWallet>>,
    /// The sealed copy last stored, for the backup link.
    sealed: RwSignal<Option<Sealed>>,
}

impl Open {
    /// Applies `change` to the wallet, seals and stores it; the change's result.
    async fn change<T>(
        self,
        change: impl FnOnce(&mut WebWallet) -> Result<T, HolderError>,
    ) -> Result<T, HolderError> {
        let mut wallet = self
            .wallet
            .get_untracked()
            .ok_or_else(|| HolderError("the wallet is locked".into()))?;
        let out = change(&mut wallet)?;
        self.save(wallet).await?;
        Ok(out)
    }

    async fn save(self, wallet: WebWallet) -> Result<(), HolderError> {
        let vault = VAULT
            .with(|v| v.borrow().clone())
            .ok_or_else(|| HolderError("the wallet is locked".into()))?;
        let sealed = vault.seal(&wallet).await?;
        vault::store(&sealed)?;
        self.sealed.set(Some(sealed));
        self.wallet.set(Some(wallet));
        Ok(())
    }

    fn lock(self) {
        VAULT.with(|v| *v.borrow_mut() = None);
        self.wallet.set(None);
    }
}

/// A holder error as an alert.
#[component]
fn Problem(error: HolderError, #[prop(into)] testid: String) -> impl IntoView {
    view! { <p class="error" role="alert" data-testid=testid>{error.0}</p> }
}

/// The page's own link when it carries an offer or a request (`/wallet?credential_offer_uri=…`,
/// `/wallet?request_uri=…`), as the wallet link an issuer or verifier hands out.
fn link_in_page() -> Option<String> {
    let href = window().location().href().ok()?;
    let query = href.split_once('?')?.1;
    ["credential_offer_uri=", "credential_offer=", "request_uri="]
        .iter()
        .any(|p| query.split('&').any(|pair| pair.starts_with(p)))
        .then_some(href)
}

/// The issuer's page's answer, when it sent the browser back here (`/wallet?code=…&state=…`
/// or `?error=…&state=…`).
fn returned_to_page() -> Option<Returned> {
    let href = window().location().href().ok()?;
    let param = |name: &str| certus_schemas::holder::link_parameter(&href, name);
    let returned = Returned {
        code: param("code"),
        error: param("error"),
        error_description: param("error_description"),
        state: param("state"),
        iss: param("iss"),
    };
    (returned.state.is_some() && (returned.code.is_some() || returned.error.is_some()))
        .then_some(returned)
}

/// The page's address without its query: a reload must not take a one-time link again.
fn forget_query() {
    if let Ok(history) = window().history() {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some("/wallet"));
    }
}

/// An offer authorized at the issuer's page, waiting for the wallet to be open to be
/// received: its access token, or why there is none.
type Authorized = RwSignal<Option<Result<(Offer, Access), HolderError>>>;

fn is_request(link: &str) -> bool {
    certus_schemas::holder::link_parameter(link, "request_uri").is_some()
}

#[component]
pub fn Wallet() -> impl IntoView {
    let open = Open {
        wallet: RwSignal::new(None),
        sealed: RwSignal::new(vault::stored()),
    };
    let incoming = RwSignal::new(link_in_page());
    // Back from an issuer's page: the code is exchanged at once (it lives a minute), the
    // credential received once the wallet is open.
    let authorized: Authorized = RwSignal::new(None);
    if let Some(returned) = returned_to_page() {
        forget_query();
        spawn_local(async move {
            authorized.set(Some(protocol::finish_authorization(returned).await));
        });
    }
    // Memos: the screen changes when the wallet opens or closes, not on each change to it.
    let is_open = Memo::new(move |_| open.wallet.with(Option::is_some));
    let exists = Memo::new(move |_| open.sealed.with(Option::is_some));
    view! {
        <h1>"Wallet"</h1>
        <p class="hint">"Your keys and credentials stay in this browser, sealed under your passphrase. Nothing is sent anywhere until you accept an offer or agree to share."</p>
        {move || (!is_open.get()).then(|| authorized.with(|a| match a {
            Some(Ok((offer, _))) => Some(view! {
                <p class="ok" role="status" data-testid="wallet-authorized">{format!("The issuer let you receive “{}”: open your wallet to take it.", offer.credential_name())}</p>
            }),
            _ => None,
        }))}
        {move || if is_open.get() {
            view! { <OpenWallet open incoming authorized/> }.into_any()
        } else if exists.get() {
            view! { <Unlock open/> }.into_any()
        } else {
            view! { <Setup open/> }.into_any()
        }}
    }
}

/// Create a new wallet, or restore one from a backup file.
#[component]
fn Setup(open: Open) -> impl IntoView {
    let passphrase = RwSignal::new(String::new());
    let repeat = RwSignal::new(String::new());
    let create = Action::new_local(move |_: &()| {
        let (passphrase, repeat) = (passphrase.get_untracked(), repeat.get_untracked());
        async move {
            if passphrase != repeat {
                return Err(HolderError("the two passphrases differ".into()));
            }
            let vault = Vault::create(&passphrase).await?;
            VAULT.with(|v| *v.borrow_mut() = Some(vault));
            open.save(WebWallet::default()).await
        }
    });
    let pending = create.pending();
    view! {
        <section aria-labelledby="create-title">
            <h2 id="create-title">"Create a wallet"</h2>
            <form on:submit=move |ev| { ev.prevent_default(); create.dispatch(()); }>
                <div class="field">
                    <label for="new-passphrase">{format!("Passphrase (at least {MIN_PASSPHRASE} characters)")}</label>
                    <input id="new-passphrase" data-testid="wallet-new-passphrase" type="password" autocomplete="new-password"
                        on:input=move |ev| passphrase.set(event_target_value(&ev))/>
                </div>
                <div class="field">
                    <label for="repeat-passphrase">"The same passphrase again"</label>
                    <input id="repeat-passphrase" data-testid="wallet-repeat-passphrase" type="password" autocomplete="new-password"
                        on:input=move |ev| repeat.set(event_target_value(&ev))/>
                </div>
                <button type="submit" data-testid="wallet-create" disabled=move || pending.get()>"Create the wallet"</button>
                <p class="hint">"There is no way to recover a forgotten passphrase. Keep a backup."</p>
            </form>
            {move || create.value().get().and_then(Result::err).map(|error| view! { <Problem error testid="wallet-error"/> })}
        </section>
        <Restore open/>
    }
}

/// Restore from a backup file (sealed; its passphrase opens it).
#[component]
fn Restore(open: Open) -> impl IntoView {
    let file_text = RwSignal::new(None::<String>);
    let passphrase = RwSignal::new(String::new());
    let restore = Action::new_local(move |_: &()| {
        let (text, passphrase) = (file_text.get_untracked(), passphrase.get_untracked());
        async move {
            let sealed = vault::parse_backup(&text.unwrap_or_default())?;
            let (vault, wallet) = Vault::open(&sealed, &passphrase).await?;
            VAULT.with(|v| *v.borrow_mut() = Some(vault));
            open.save(wallet).await
        }
    });
    let on_file = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        if let Some(file) = input.files().and_then(|f| f.get(0)) {
            spawn_local(async move {
                let text = wasm_bindgen_futures::JsFuture::from(file.text()).await;
                file_text.set(text.ok().and_then(|t| t.as_string()));
            });
        }
    };
    view! {
        <section aria-labelledby="restore-title">
            <h2 id="restore-title">"Restore from a backup"</h2>
            <form on:submit=move |ev| { ev.prevent_default(); restore.dispatch(()); }>
                <div class="field">
                    <label for="backup-file">"Backup file"</label>
                    <input id="backup-file" data-testid="wallet-backup-file" type="file" accept="application/json,.json" on:change=on_file/>
                </div>
                <div class="field">
                    <label for="backup-passphrase">"Its passphrase"</label>
                    <input id="backup-passphrase" data-testid="wallet-backup-passphrase" type="password"
                        on:input=move |ev| passphrase.set(event_target_value(&ev))/>
                </div>
                <button type="submit" data-testid="wallet-restore" disabled=move || file_text.with(Option::is_none)>"Restore"</button>
            </form>
            {move || restore.value().get().and_then(Result::err).map(|error| view! { <Problem error testid="wallet-restore-error"/> })}
        </section>
    }
}

#[component]
fn Unlock(open: Open) -> impl IntoView {
    let passphrase = RwSignal::new(String::new());
    let unlock = Action::new_local(move |_: &()| {
        let passphrase = passphrase.get_untracked();
        let sealed = open.sealed.get_untracked();
        async move {
            let sealed = sealed.ok_or_else(|| HolderError("there is no wallet here".into()))?;
            let (vault, wallet) = Vault::open(&sealed, &passphrase).await?;
            VAULT.with(|v| *v.borrow_mut() = Some(vault));
            open.wallet.set(Some(wallet));
            Ok(())
        }
    });
    let pending = unlock.pending();
    let forgotten = RwSignal::new(None::<HolderError>);
    view! {
        <section aria-labelledby="unlock-title">
            <h2 id="unlock-title">"Unlock your wallet"</h2>
            <form on:submit=move |ev| { ev.prevent_default(); unlock.dispatch(()); }>
                <div class="field">
                    <label for="passphrase">"Passphrase"</label>
                    <input id="passphrase" data-testid="wallet-passphrase" type="password" autocomplete="current-password"
                        on:input=move |ev| passphrase.set(event_target_value(&ev))/>
                </div>
                <button type="submit" data-testid="wallet-unlock" disabled=move || pending.get()>
                    {move || if pending.get() { "Unlocking…" } else { "Unlock" }}
                </button>
            </form>
            {move || unlock.value().get().and_then(Result::err).map(|error| view! { <Problem error testid="wallet-error"/> })}
            <details>
                <summary>"Forgot the passphrase?"</summary>
                <p class="hint">"Nobody can open the wallet without it. You can remove it from this browser and start again, or restore a backup; the issuers can send your credentials again."</p>
                <button class="danger" data-testid="wallet-forget" on:click=move |_| {
                    let confirmed = window().confirm_with_message("Remove the wallet and every credential in it from this browser?").unwrap_or(false);
                    if confirmed {
                        forgotten.set(vault::forget().err());
                        if forgotten.with_untracked(Option::is_none) { open.sealed.set(None); }
                    }
                }>"Remove the wallet from this browser"</button>
                {move || forgotten.get().map(|error| view! { <Problem error testid="wallet-forget-error"/> })}
            </details>
        </section>
    }
}

#[component]
fn OpenWallet(
    open: Open,
    incoming: RwSignal<Option<String>>,
    authorized: Authorized,
) -> impl IntoView {
    let offer_link = RwSignal::new(String::new());
    let request_link = RwSignal::new(String::new());
    let request = RwSignal::new(None::<VerifierRequest>);
    let last_answer = RwSignal::new(None::<Result<String, HolderError>>);
    let load_request = Action::new_local(move |link: &String| {
        let link = link.clone();
        async move {
            last_answer.set(None);
            let anchors = open
                .wallet
                .with_untracked(|w| w.as_ref().map(WebWallet::anchors))
                .unwrap_or_default();
            let fetched = protocol::fetch_request(&link, &anchors).await?;
            request.set(Some(fetched));
            Ok::<_, HolderError>(())
        }
    });
    // A link the page was opened with, or one the camera read, goes where it belongs.
    let route = move |link: String| {
        if is_request(&link) {
            request_link.set(link.clone());
            load_request.dispatch(link);
        } else {
            offer_link.set(link);
        }
    };
    Effect::new(move |_| {
        if let Some(link) = incoming.get() {
            incoming.set(None);
            forget_query();
            route(link);
        }
    });
    let backup = move || {
        open.sealed.get().map(|sealed| {
            let text = serde_json::to_string_pretty(&sealed).unwrap_or_default();
            view! { <Download content=text file="certus-wallet-backup.json" mime="application/json" label="Download a backup" testid="wallet-backup"/> }
        })
    };
    view! {
        <div class="actions">
            {backup}
            <button data-testid="wallet-lock" on:click=move |_| open.lock()>"Lock"</button>
        </div>
        {move || request.get().map(|r| view! { <Consent open request=r done=Callback::new(move |answer| { request.set(None); last_answer.set(Some(answer)); })/> })}
        {move || last_answer.get().map(|answer| match answer {
            Ok(message) => view! { <p class="ok" role="status" data-testid="wallet-answer">{message}</p> }.into_any(),
            Err(error) => view! { <Problem error testid="wallet-answer-error"/> }.into_any(),
        })}
        <Receive open link=offer_link authorized/>
        <section aria-labelledby="answer-title">
            <h2 id="answer-title">"Answer a verifier"</h2>
            <form on:submit=move |ev| { ev.prevent_default(); load_request.dispatch(request_link.get_untracked()); }>
                <div class="field">
                    <label for="request-link">"Request link (openid4vp://… or haip://…)"</label>
                    <input id="request-link" data-testid="wallet-request-input" prop:value=request_link
                        on:input=move |ev| request_link.set(event_target_value(&ev))/>
                </div>
                <button type="submit" data-testid="wallet-open-request">"Open the request"</button>
            </form>
            {move || load_request.value().get().and_then(Result::err).map(|error| view! { <Problem error testid="wallet-request-error"/> })}
        </section>
        <scan::Scanner on_link=Callback::new(route)/>
        <Credentials open/>
        <TrustedVerifiers open/>
    }
}

/// The roots the holder trusts verifiers' certificates to: a request of a verifier named
/// by X.509 is answered only when its certificate chain leads to one of them.
#[component]
fn TrustedVerifiers(open: Open) -> impl IntoView {
    let pem = RwSignal::new(String::new());
    let add = Action::new_local(move |text: &String| {
        let text = text.clone();
        async move {
            open.change(move |w| w.trust(&text)).await?;
            pem.set(String::new());
            Ok::<_, HolderError>(())
        }
    });
    let remove = Action::new_local(move |anchor: &String| {
        let anchor = anchor.clone();
        async move {
            open.change(move |w| {
                w.trust_anchors.retain(|a| *a != anchor);
                Ok(())
            })
            .await
        }
    });
    let trusted = move || {
        open.wallet
            .with(|w| w.as_ref().map(|w| w.trust_anchors.clone()))
            .unwrap_or_default()
    };
    view! {
        <section aria-labelledby="trust-title">
            <h2 id="trust-title">"Trusted verifiers"</h2>
            <p>"Verifiers named by an X.509 certificate are answered only when their certificate leads to a root you trust here."</p>
            <ul class="trusted">
                <For each=trusted key=|anchor| anchor.clone() children=move |anchor| {
                    let subject = certus_schemas::x509::certificates_in(&anchor)
                        .ok()
                        .and_then(|c| c.first().map(|c| c.subject()))
                        .unwrap_or_default();
                    view! {
                        <li data-testid="wallet-trusted">{subject}" "
                            <button on:click=move |_| { remove.dispatch(anchor.clone()); }>"Remove"</button>
                        </li>
                    }
                }/>
            </ul>
            <form on:submit=move |ev| { ev.prevent_default(); add.dispatch(pem.get_untracked()); }>
                <div class="field">
                    <label for="trust-pem">"A root certificate (PEM)"</label>
                    <textarea id="trust-pem" data-testid="wallet-trust-pem" rows="4" prop:value=pem
                        on:input=move |ev| pem.set(event_target_value(&ev))></textarea>
                </div>
                <button type="submit" data-testid="wallet-trust-add">"Trust"</button>
            </form>
            {move || add.value().get().and_then(Result::err).map(|error| view! { <Problem error testid="wallet-trust-error"/> })}
        </section>
    }
}

/// How an offer is taken: redeemed here (pre-authorized), or received with the access
/// token the issuer's page led to.
#[derive(Debug, Clone)]
enum Taking {
    Redeem(Offer, String),
    Authorized(Offer, Access),
}

/// Accept an offer: paste or open its link, give the transaction code if one was sent — or
/// continue at the issuer's page, and receive the credential on coming back.
#[component]
fn Receive(open: Open, link: RwSignal<String>, authorized: Authorized) -> impl IntoView {
    let tx_code = RwSignal::new(String::new());
    let offer = LocalResource::new(move || {
        let link = link.get();
        async move { (!link.trim().is_empty()).then_some(protocol::offer(link.trim()).await) }
    });
    let accept = Action::new_local(move |taking: &Taking| {
        let taking = taking.clone();
        async move {
            let mut wallet = open
                .wallet
                .get_untracked()
                .ok_or_else(|| HolderError("the wallet is locked".into()))?;
            let (offer, (received, receipt)) = match taking {
                Taking::Redeem(offer, tx) => {
                    let received = protocol::redeem(&offer, Some(tx.trim())).await?;
                    (offer, received)
                }
                Taking::Authorized(offer, access) => {
                    let received = protocol::receive(&offer, &access).await?;
                    (offer, received)
                }
            };
            let title = offer.credential_name();
            wallet.keep(received)?;
            open.save(wallet).await?;
            // Kept: the issuer is told so. Not telling it loses nothing.
            if let Some(receipt) = receipt {
                let _ = protocol::acknowledge(&receipt).await;
            }
            link.set(String::new());
            tx_code.set(String::new());
            Ok::<_, HolderError>(title)
        }
    });
    // Back from the issuer's page with a token: received now that the wallet is open.
    Effect::new(move |_| match authorized.get() {
        Some(Ok((offer, access))) => {
            authorized.set(None);
            accept.dispatch(Taking::Authorized(offer, access));
        }
        Some(Err(error)) => {
            authorized.set(None);
            accept.value().set(Some(Err(error)));
        }
        None => {}
    });
    let continue_at_issuer = Action::new_local(move |offer: &Offer| {
        let offer = offer.clone();
        async move {
            let address = protocol::start_authorization(&offer).await?;
            window()
                .location()
                .assign(&address)
                .map_err(|_| HolderError("the browser did not open the issuer's page".into()))
        }
    });
    let pending =
        Signal::derive(move || accept.pending().get() || continue_at_issuer.pending().get());
    view! {
        <section aria-labelledby="receive-title">
            <h2 id="receive-title">"Receive a credential"</h2>
            <div class="field">
                <label for="offer-link">"Offer link (openid-credential-offer://…)"</label>
                <input id="offer-link" data-testid="wallet-offer-input" prop:value=link
                    on:input=move |ev| link.set(event_target_value(&ev))/>
            </div>
            {move || offer.get().flatten().map(|o| match o {
                Ok(o) if o.at_issuer() => view! {
                    <div class="offer" data-testid="wallet-offer">
                        <p>{o.summary()}</p>
                        <p class="hint">"The issuer asks you to confirm on its own page, with the code it sent you; you then come back here."</p>
                        <button data-testid="wallet-continue" disabled=move || pending.get()
                            on:click=move |_| { continue_at_issuer.dispatch(o.clone()); }>
                            "Continue at the issuer"
                        </button>
                    </div>
                }.into_any(),
                Ok(o) => {
                    let needs = o.needs_tx_code();
                    view! {
                        <div class="offer" data-testid="wallet-offer">
                            <p>{o.summary()}</p>
                            <Show when=move || needs>
                                <div class="field">
                                    <label for="tx-code">"Transaction code (sent to you separately)"</label>
                                    <input id="tx-code" data-testid="wallet-tx-code" inputmode="numeric" autocomplete="one-time-code"
                                        prop:value=tx_code on:input=move |ev| tx_code.set(event_target_value(&ev))/>
                                </div>
                            </Show>
                            <button data-testid="wallet-accept" disabled=move || pending.get()
                                on:click=move |_| { accept.dispatch(Taking::Redeem(o.clone(), tx_code.get_untracked())); }>
                                {move || if pending.get() { "Receiving…" } else { "Accept" }}
                            </button>
                        </div>
                    }.into_any()
                }
                Err(error) => view! { <Problem error testid="wallet-offer-error"/> }.into_any(),
            })}
            {move || continue_at_issuer.value().get().and_then(Result::err).map(|error| view! { <Problem error testid="wallet-continue-error"/> })}
            {move || accept.value().get().map(|r| match r {
                Ok(title) => view! { <p class="ok" role="status" data-testid="wallet-received">{format!("Received “{title}”: it is under Your credentials below.")}</p> }.into_any(),
                Err(error) => view! { <Problem error testid="wallet-accept-error"/> }.into_any(),
            })}
        </section>
    }
}

/// How many times a card asks again for the anchor of a credential not yet anchored:
/// [`crate::pages::offer::POLL`] apart, about two minutes, many blocks of a chain that runs.
const ANCHOR_POLLS: u32 = 80;

/// A credential's current status and anchor, as this node's verifier sees it.
fn status_of(result: &VerificationResult) -> (&'static str, String) {
    let check = result.results.iter().find(|c| c.check == "status");
    let state = match check.map(|c| (c.outcome, c.code.as_deref())) {
        Some((Outcome::Passed, _)) => "active",
        Some((_, Some("REVOKED"))) => "revoked",
        Some((_, Some("SUSPENDED"))) => "suspended",
        _ if !result.verified => "invalid",
        _ => "unknown",
    };
    let anchor = result
        .anchor
        .as_ref()
        .map(|a| {
            format!(
                "anchored in block {} of {} at {}",
                a.height,
                a.chain_id,
                local_time(&a.time)
            )
        })
        .unwrap_or_else(|| "not anchored on this node's chain (yet)".into());
    (state, anchor)
}

fn credential_text(held: &HeldCredential) -> String {
    match &held.credential {
        Value::String(token) => token.clone(),
        other => serde_json::to_string_pretty(other).unwrap_or_default(),
    }
}

#[component]
fn Credentials(open: Open) -> impl IntoView {
    let delete = Action::new_local(move |id: &String| {
        let id = id.clone();
        async move { open.change(move |w| Ok(w.delete(&id))).await }
    });
    // This node's catalog, to name the credentials it knows.
    let catalog = LocalResource::new(api::credential_types);
    let catalog = Signal::derive(move || catalog.get().and_then(Result::ok).unwrap_or_default());
    view! {
        <section aria-labelledby="held-title">
            <h2 id="held-title">"Your credentials"</h2>
            {move || delete.value().get().and_then(Result::err).map(|error| view! { <Problem error testid="wallet-delete-error"/> })}
            // Keyed by id and presentations: a card (and its status check) is made again when
            // a copy was shown, not on every save.
            <Show when=move || open.wallet.with(|w| w.as_ref().is_some_and(|w| !w.credentials.is_empty()))
                fallback=|| view! { <p class="empty" data-testid="wallet-empty">"No credentials yet."</p> }>
                <ul class="held">
                    <For each=move || open.wallet.with(|w| w.as_ref().map(|w| w.credentials.clone()).unwrap_or_default())
                        key=|held| (held.id.clone(), held.presentations)
                        children=move |held| view! { <HeldCard held delete catalog/> }/>
                </ul>
            </Show>
        </section>
    }
}

#[component]
fn HeldCard(
    held: HeldCredential,
    delete: Action<String, Result<bool, HolderError>>,
    catalog: Signal<Vec<CredentialTypeInfo>>,
) -> impl IntoView {
    let view_of = held.view();
    let named = view_of
        .as_ref()
        .ok()
        .map(|v| (v.types.clone(), v.vct.clone()));
    let format = held.format.clone();
    let title = move || match &named {
        Some((types, vct)) => Labels::of(&catalog.get(), types, vct.as_deref()).title(),
        None => format.clone(),
    };
    let issuer = view_of
        .as_ref()
        .ok()
        .and_then(|v| v.issuer.clone())
        .unwrap_or_default();
    let document = view_of.map(|v| serde_json::to_string_pretty(&v.document).unwrap_or_default());
    let text = credential_text(&held);
    let status = LocalResource::new(move || {
        let text = text.clone();
        async move { api::verify(text).await }
    });
    // A fresh credential is anchored with the next block: ask again until it is.
    let polls = std::cell::Cell::new(0);
    let unanchored = move || {
        polls.set(polls.get() + 1);
        polls.get() <= ANCHOR_POLLS
            && status
                .get_untracked()
                .is_some_and(|r| r.is_ok_and(|r| r.anchor.is_none()))
    };
    poll_while(unanchored, move || status.refetch());
    let id = held.id.clone();
    let shown = RwSignal::new(false);
    let copies = match held.copies.len() + 1 {
        1 => "One copy: verifiers it is shown to can tell it is the same credential.".to_owned(),
        n => format!(
            "{n} copies, each bound to a key of its own; {} not yet shown to a verifier.",
            held.unshown_copies()
        ),
    };
    view! {
        <li class="card" data-testid="wallet-credential" data-id=held.id.clone()>
            <h3>{title}</h3>
            <p class="hint">{format!("{} · issued by {issuer} · received {}", held.format, local_time(&held.received_at))}</p>
            <p class="hint" data-testid="wallet-copies">{copies}</p>
            <p aria-live="polite">
                {move || status.get().map(|r| match r {
                    Ok(result) => {
                        let (state, anchor) = status_of(&result);
                        view! {
                            <span class=format!("badge {state}") data-testid="wallet-status">{state}</span>
                            " " <span class="hint" data-testid="wallet-anchor">{anchor}</span>
                        }.into_any()
                    }
                    Err(error) => view! { <span class="badge unknown" data-testid="wallet-status">"unknown"</span> " " <span class="hint">{error.message}</span> }.into_any(),
                })}
            </p>
            <div class="actions">
                <button data-testid="wallet-show" on:click=move |_| shown.update(|s| *s = !*s)>
                    {move || if shown.get() { "Hide" } else { "Show" }}
                </button>
                <button class="danger" data-testid="wallet-delete" on:click=move |_| {
                    let confirmed = window().confirm_with_message("Delete this credential from the wallet? The issuer can send it again; this browser cannot bring it back.").unwrap_or(false);
                    if confirmed { delete.dispatch(id.clone()); }
                }>"Delete"</button>
            </div>
            <Show when=move || shown.get()>
                {match document.clone() {
                    Ok(document) => view! { <pre data-testid="wallet-document">{document}</pre> }.into_any(),
                    Err(error) => view! { <Problem error testid="wallet-document-error"/> }.into_any(),
                }}
            </Show>
        </li>
    }
}

/// A claim value as the holder reads it: text as is, anything else as JSON.
fn shown_value(value: &Value) -> String {
    value
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| value.to_string())
}

/// One credential the wallet would present, as the consent screen shows it.
#[derive(Debug, Clone)]
struct Row {
    query_id: String,
    credential_id: String,
    format: String,
    issuer: Option<String>,
    types: Vec<String>,
    vct: Option<String>,
    /// Every subject claim the presentation can carry.
    claims: Vec<SubjectClaim>,
    /// The claims the verifier requires.
    required: Vec<String>,
}

/// Whether `claim`, answering the query `query_id`, leaves with the `chosen` withholdable
/// claims (query id, claim name): always, unless the holder may withhold it and has.
fn leaves(query_id: &str, claim: &SubjectClaim, chosen: &BTreeSet<(String, String)>) -> bool {
    !claim.withholdable || chosen.contains(&(query_id.to_owned(), claim.name.clone()))
}

impl Row {
    fn leaves(&self, claim: &SubjectClaim, chosen: &BTreeSet<(String, String)>) -> bool {
        leaves(&self.query_id, claim, chosen)
    }

    /// The claims that leave with `chosen` withholdable ones.
    fn leaving<'r>(&'r self, chosen: &BTreeSet<(String, String)>) -> Vec<&'r str> {
        self.claims
            .iter()
            .filter(|c| self.leaves(c, chosen))
            .map(|c| c.name.as_str())
            .collect()
    }

    /// The withholdable claims the holder chose to disclose.
    fn disclosed(&self, chosen: &BTreeSet<(String, String)>) -> Vec<String> {
        self.claims
            .iter()
            .filter(|c| c.withholdable && self.leaves(c, chosen))
            .map(|c| c.name.clone())
            .collect()
    }

    /// The required claims the holder has unticked: without them the answer fails.
    fn missing<'r>(&'r self, chosen: &BTreeSet<(String, String)>) -> Vec<&'r str> {
        let leaving = self.leaving(chosen);
        self.required
            .iter()
            .map(String::as_str)
            .filter(|name| self.claims.iter().any(|c| c.name == *name) && !leaving.contains(name))
            .collect()
    }

    /// `names` of this credential's claims under their labels.
    fn labelled(&self, names: Vec<&str>, catalog: &[CredentialTypeInfo]) -> Vec<String> {
        let labels = self.labels(catalog);
        names.into_iter().map(|name| labels.claim(name)).collect()
    }

    fn labels(&self, catalog: &[CredentialTypeInfo]) -> Labels {
        Labels::of(catalog, &self.types, self.vct.as_deref())
    }
}

/// Who asks, what for, under which policy; every claim each answering credential would
/// carry — those that always leave with it, and a choice for each the holder may withhold,
/// the verifier's required ones marked. An answer without a required claim is not sent.
#[component]
fn Consent(
    open: Open,
    request: VerifierRequest,
    done: Callback<Result<String, HolderError>>,
) -> impl IntoView {
    let wallet = open.wallet.get_untracked().unwrap_or_default();
    let plan = wallet.plan(&request.query).and_then(|answers| {
        answers
            .iter()
            .map(|(query_id, held, claims)| {
                let view = held.view()?;
                Ok(Row {
                    query_id: (*query_id).to_owned(),
                    credential_id: held.id.clone(),
                    format: held.format.clone(),
                    issuer: view.issuer,
                    types: view.types,
                    vct: view.vct,
                    claims: held.subject_claims()?,
                    required: protocol::asked_names(claims),
                })
            })
            .collect::<Result<Vec<Row>, HolderError>>()
    });
    let rows = plan.clone().unwrap_or_default();
    let chosen = RwSignal::new(
        rows.iter()
            .flat_map(|r| r.required.iter().map(|n| (r.query_id.clone(), n.clone())))
            .collect::<BTreeSet<(String, String)>>(),
    );
    let catalog = LocalResource::new(api::credential_types);
    let catalog = move || catalog.get().and_then(Result::ok).unwrap_or_default();
    let missing_rows = rows.clone();
    let missing = Memo::new(move |_| {
        let catalog = catalog();
        chosen.with(|chosen| {
            missing_rows
                .iter()
                .flat_map(|row| row.labelled(row.missing(chosen), &catalog))
                .collect::<Vec<String>>()
        })
    });
    // Asked by a KYC policy; the holder opts in (unticked until they tick it).
    let asks_notifications = request.terms.asks_status_notifications();
    let notify = RwSignal::new(false);
    let answer_request = request.clone();
    let rows_for_share = rows.clone();
    let share = Action::new_local(move |_: &()| {
        let request = answer_request.clone();
        let catalog = catalog();
        let (choices, shared): (Vec<Choice>, Vec<String>) = chosen.with_untracked(|chosen| {
            let choices = rows_for_share
                .iter()
                .map(|row| Choice {
                    query_id: row.query_id.clone(),
                    credential_id: row.credential_id.clone(),
                    names: row.disclosed(chosen),
                })
                .collect();
            let shared = rows_for_share
                .iter()
                .flat_map(|row| row.labelled(row.leaving(chosen), &catalog))
                .collect();
            (choices, shared)
        });
        async move {
            let wallet = open
                .wallet
                .get_untracked()
                .ok_or_else(|| HolderError("the wallet is locked".into()))?;
            let answer =
                protocol::respond(&wallet, &request, &choices, notify.get_untracked()).await?;
            // The next presentation of each shows its next copy.
            open.change(|wallet| {
                for choice in &choices {
                    wallet.presented(&choice.credential_id);
                }
                Ok(())
            })
            .await?;
            protocol::follow(&answer);
            Ok(format!(
                "Shared with the verifier: {}.",
                if shared.is_empty() {
                    "the credential".into()
                } else {
                    shared.join(", ")
                }
            ))
        }
    });
    let decline_request = request.clone();
    let decline = Action::new_local(move |_: &()| {
        let request = decline_request.clone();
        async move {
            protocol::decline(&request).await.map(|answer| {
                protocol::follow(&answer);
                "You declined; the verifier was told.".to_owned()
            })
        }
    });
    Effect::new(move |_| {
        if let Some(result) = share.value().get().or_else(|| decline.value().get()) {
            done.run(result);
        }
    });
    let who = request
        .verifier_name
        .clone()
        .unwrap_or_else(|| "A verifier".into());
    let policy = request
        .terms
        .policy_id
        .clone()
        .or_else(|| {
            request
                .terms
                .policy
                .as_ref()
                .map(|p| serde_json::to_string(p).unwrap_or_default())
        })
        .unwrap_or_else(|| "none stated".into());
    let can_share = plan.is_ok();
    let pending = Signal::derive(move || share.pending().get() || decline.pending().get());
    view! {
        <section class="consent" aria-labelledby="consent-title" data-testid="wallet-consent">
            <h2 id="consent-title">"A verifier asks for your credentials"</h2>
            <dl>
                <dt>"Who asks"</dt><dd data-testid="consent-verifier">{who}</dd>
                <dt>"Identified as"</dt><dd><code class="wrap" data-testid="consent-did">{request.identified_as.clone()}</code>" (its signature on the request was checked)"</dd>
                <dt>"What for"</dt><dd data-testid="consent-purpose">{request.terms.purpose.clone()}</dd>
                <dt>"Under which policy"</dt><dd data-testid="consent-policy">{policy}</dd>
                {(!request.transactions.is_empty()).then(|| view! {
                    <dt>"What you approve with it"</dt>
                    <dd><ul>{request.transactions.iter().map(|t| view! {
                        <li data-testid="consent-transaction">{t.text.clone().unwrap_or_default()}</li>
                    }).collect_view()}</ul></dd>
                })}
            </dl>
            {match plan {
                Err(error) => view! { <Problem error testid="consent-unanswerable"/> }.into_any(),
                Ok(rows) => rows.into_iter().map(|row| view! { <ConsentCredential row chosen catalog=Signal::derive(catalog)/> }).collect_view().into_any(),
            }}
            {asks_notifications.then(|| view! {
                <label for="consent-notify" class="notify">
                    <input type="checkbox" id="consent-notify" data-testid="consent-notify"
                        prop:checked=move || notify.get()
                        on:change=move |ev| notify.set(event_target_checked(&ev))/>
                    "Let this verifier keep this credential's status entries and be told if its issuer suspends or revokes it"
                    <span class="hint">" — optional; without it the verifier learns only when you present again"</span>
                </label>
            })}
            {move || (!missing.with(Vec::is_empty)).then(|| view! {
                <p class="warning" role="alert" data-testid="consent-warning">
                    {format!("The verifier requires {}. Without it your answer cannot satisfy the request: tick it again to share, or decline.", missing.get().join(", "))}
                </p>
            })}
            <div class="buttons">
                <button data-testid="consent-share"
                    disabled=move || !can_share || pending.get() || !missing.with(Vec::is_empty)
                    on:click=move |_| { share.dispatch(()); }>"Share"</button>
                <button data-testid="consent-decline" disabled=move || pending.get() on:click=move |_| { decline.dispatch(()); }>"Decline"</button>
            </div>
        </section>
    }
}

/// One answering credential on the consent screen: each claim it would carry, with its
/// value; a checkbox for those the holder may withhold.
#[component]
fn ConsentCredential(
    row: Row,
    chosen: RwSignal<BTreeSet<(String, String)>>,
    catalog: Signal<Vec<CredentialTypeInfo>>,
) -> impl IntoView {
    let labels = {
        let row = row.clone();
        move || row.labels(&catalog.get())
    };
    let title = {
        let labels = labels.clone();
        move || labels().title()
    };
    let whole = row.claims.iter().all(|c| !c.withholdable);
    let Row {
        query_id,
        format,
        issuer,
        claims,
        required,
        ..
    } = row;
    view! {
        <fieldset data-testid="consent-credential">
            <legend>{title}</legend>
            <p class="hint">{format!("{format}, issued by ")}<code class="wrap">{issuer.unwrap_or_default()}</code></p>
            {whole.then(|| view! { <p class="hint">"This format cannot disclose selectively: the verifier sees every claim below."</p> })}
            <ul class="leaving">
                {claims.into_iter().map(|claim| {
                    let labels = labels.clone();
                    let name = claim.name.clone();
                    let label = move || labels().claim(&name);
                    let value = shown_value(&claim.value);
                    let is_required = required.contains(&claim.name);
                    let key = (query_id.clone(), claim.name.clone());
                    let leaves = {
                        let (query_id, claim) = (query_id.clone(), claim.clone());
                        move || chosen.with(|s| leaves(&query_id, &claim, s))
                    };
                    let leaves_attr = leaves.clone();
                    let tag = if is_required {
                        view! { <span class="tag required">"required"</span> }.into_any()
                    } else if claim.withholdable {
                        view! { <span class="hint">"optional"</span> }.into_any()
                    } else {
                        view! { <span class="hint">"always shared"</span> }.into_any()
                    };
                    let id = format!("disclose-{query_id}-{}", claim.name);
                    view! {
                        <li data-testid="consent-claim" data-claim=claim.name.clone()
                            data-leaves=move || leaves_attr().to_string()>
                            {if claim.withholdable {
                                let toggle = key.clone();
                                view! {
                                    <input type="checkbox" id=id.clone() data-testid=format!("disclose-{}", claim.name)
                                        prop:checked=leaves
                                        on:change=move |ev| {
                                            let on = event_target_checked(&ev);
                                            chosen.update(|s| { if on { s.insert(toggle.clone()); } else { s.remove(&toggle); } });
                                        }/>
                                    <label for=id>
                                        <span class="claim-label">{label}</span>
                                        <span class="claim-value">{value}</span>
                                    </label>
                                }.into_any()
                            } else {
                                view! {
                                    <span class="fixed" aria-hidden="true">"•"</span>
                                    <span>
                                        <span class="claim-label">{label}</span>
                                        <span class="claim-value">{value}</span>
                                    </span>
                                }.into_any()
                            }}
                            " " {tag}
                        </li>
                    }
                }).collect_view()}
            </ul>
        </fieldset>
    }
}
