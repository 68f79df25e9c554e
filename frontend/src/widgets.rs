//! Small pieces every page uses: error notes, status badges, downloads, and the status
//! actions (suspend, reinstate, revoke with a reason).

use certus_schemas::portal::CredentialState;
use leptos::prelude::*;

use crate::api::{self, ApiError};

/// An API error, announced to screen readers: what went wrong in words, its stable code
/// small beside it (for a support request or the API reference).
#[component]
pub fn ErrorNote(error: ApiError, #[prop(optional, into)] testid: Option<String>) -> impl IntoView {
    view! {
        <p class="error" role="alert" data-testid=testid.unwrap_or_else(|| "error".into())>
            {error.message} " " <small class="error-code">{error.code}</small>
        </p>
    }
}

/// The loading state of a section.
#[component]
pub fn Loading() -> impl IntoView {
    view! { <p class="loading" role="status">"Loading…"</p> }
}

/// A credential's status as a coloured, labelled badge.
#[component]
pub fn StatusBadge(state: CredentialState) -> impl IntoView {
    view! { <span class=format!("badge {}", state.as_str())>{state.as_str()}</span> }
}

/// A link that downloads `content` as `file` (a data: URL; nothing leaves the browser).
#[component]
pub fn Download(
    content: String,
    #[prop(into)] file: String,
    #[prop(into)] mime: String,
    #[prop(into)] label: String,
    #[prop(optional, into)] testid: Option<String>,
) -> impl IntoView {
    let href = format!(
        "data:{mime};charset=utf-8,{}",
        js_sys::encode_uri_component(&content)
    );
    view! {
        <a class="button" href=href download=file data-testid=testid.unwrap_or_else(|| "download".into())>{label}</a>
    }
}

/// Paging back through a log newest first: `before` is the position (or height) the page
/// starts below, `None` for the newest; `oldest` is the lowest on this page.
#[component]
pub fn OlderPager(before: RwSignal<Option<u64>>, oldest: Option<u64>) -> impl IntoView {
    view! {
        <div class="pager">
            <button disabled=move || before.get().is_none() on:click=move |_| before.set(None)>"Newest"</button>
            <button disabled=oldest.is_none_or(|p| p == 0) on:click=move |_| before.set(oldest)>"Older"</button>
        </div>
    }
}

/// One radio button of a group (`name`) that sets `chosen` to `value`; `id` is also its
/// test id.
pub fn radio<T: Copy + PartialEq + Send + Sync + 'static>(
    chosen: RwSignal<T>,
    value: T,
    name: &'static str,
    id: &'static str,
    label: &'static str,
) -> impl IntoView {
    view! {
        <label for=id>
            <input type="radio" name=name id=id data-testid=id
                prop:checked=move || chosen.get() == value
                on:change=move |_| chosen.set(value)/>
            {label}
        </label>
    }
}

/// Who did something: the person's name or the API key's label, the id they are known
/// by in the log small beside it (a removed account keeps only its id).
#[component]
pub fn Actor(id: String, name: Option<String>) -> impl IntoView {
    match name {
        Some(name) => {
            view! { <span title=id.clone()>{name}</span> " " <code class="error-code">{id}</code> }
                .into_any()
        }
        None => view! { <code>{id}</code> }.into_any(),
    }
}

/// The reader's language (the browser's), for dates and numbers.
pub fn language() -> String {
    window()
        .navigator()
        .language()
        .filter(|l| !l.is_empty())
        .unwrap_or_else(|| "en".into())
}

/// A moment (RFC 3339 text) as the reader writes dates and times — their browser's
/// language and time zone; the text as is when it is not one.
pub fn local_time(rfc3339: &str) -> String {
    local_date_time(&serde_json::Value::String(rfc3339.to_owned()))
        .unwrap_or_else(|| rfc3339.to_owned())
}

/// A moment given as RFC 3339 text or as seconds since 1970 (a JWT's `iat`, `exp`), in
/// the browser's language and time zone.
pub fn local_date_time(value: &serde_json::Value) -> Option<String> {
    let date = match value {
        serde_json::Value::String(text) => js_sys::Date::new(&text.as_str().into()),
        serde_json::Value::Number(n) => js_sys::Date::new(&(n.as_f64()? * 1000.0).into()),
        _ => return None,
    };
    if date.get_time().is_nan() {
        return None;
    }
    let options = js_sys::Object::new();
    for (key, style) in [("dateStyle", "medium"), ("timeStyle", "short")] {
        js_sys::Reflect::set(&options, &key.into(), &style.into()).ok()?;
    }
    date.to_locale_string(&language(), &options).as_string()
}

/// A credential's name for people: its type, or the type a `vct` URL names
/// (`…/types/KycCredential/v1` → `KycCredential`).
pub fn display_name(types: &[String]) -> Option<String> {
    let last = types.iter().rfind(|t| *t != "VerifiableCredential")?;
    let name = last
        .trim_end_matches('/')
        .rsplit('/')
        .find(|segment| {
            let version = segment
                .strip_prefix('v')
                .is_some_and(|n| n.chars().all(|c| c.is_ascii_digit()));
            !segment.is_empty() && !version
        })
        .unwrap_or(last);
    Some(name.to_owned())
}

/// The reasons a status may change for (RFC 5280), with labels.
pub const REASONS: [(&str, &str); 7] = [
    ("unspecified", "Unspecified"),
    ("superseded", "Superseded"),
    ("affiliationChanged", "Affiliation changed"),
    ("cessationOfOperation", "Cessation of operation"),
    ("certificateHold", "Certificate hold"),
    ("privilegeWithdrawn", "Privilege withdrawn"),
    ("keyCompromise", "Key compromise"),
];

/// Suspend, reinstate or revoke the credentials `ids` names, with a reason; `done` runs
/// after a change succeeded.
#[component]
pub fn StatusActions(
    #[prop(into)] ids: Signal<Vec<String>>,
    #[prop(into)] done: Callback<()>,
) -> impl IntoView {
    let (reason, set_reason) = signal("unspecified".to_owned());
    let change = Action::new_local(move |(purpose, set): &(&'static str, bool)| {
        let (purpose, set) = (*purpose, *set);
        let ids = ids.get_untracked();
        let reason = reason.get_untracked();
        async move { api::change_status(ids, purpose, set, &reason).await }
    });
    Effect::new(move |_| {
        if let Some(Ok(_)) = change.value().get() {
            done.run(());
        }
    });
    let pending = change.pending();
    let disabled = move || pending.get() || ids.with(|i| i.is_empty());
    view! {
        <div class="actions" role="group" aria-label="Change status">
            <label for="status-reason">"Reason"</label>
            <select id="status-reason" data-testid="status-reason"
                on:change=move |ev| set_reason.set(event_target_value(&ev)) prop:value=reason>
                {REASONS.iter().map(|(value, label)| view! { <option value=*value>{*label}</option> }).collect_view()}
            </select>
            <button data-testid="action-suspend" disabled=disabled
                on:click=move |_| { change.dispatch(("suspension", true)); }>"Suspend"</button>
            <button data-testid="action-reinstate" disabled=disabled
                on:click=move |_| { change.dispatch(("suspension", false)); }>"Reinstate"</button>
            <button class="danger" data-testid="action-revoke" disabled=disabled
                on:click=move |_| {
                    let n = ids.with_untracked(Vec::len);
                    let confirmed = window()
                        .confirm_with_message(&format!("Revoke {n} credential(s)? Revocation is final."))
                        .unwrap_or(false);
                    if confirmed { change.dispatch(("revocation", true)); }
                }>"Revoke"</button>
            <span aria-live="polite" data-testid="status-result">
                {move || change.value().get().map(|r| match r {
                    Ok(result) => view! {
                        <span class="ok">{format!("{} of {} changed", result.changed, result.matched)}</span>
                    }.into_any(),
                    Err(error) => view! { <ErrorNote error testid="status-error"/> }.into_any(),
                })}
            </span>
        </div>
    }
}
