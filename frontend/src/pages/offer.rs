//! "Send to a wallet": a credential offered by OpenID4VCI instead of handed over as a file.
//! The holder's wallet redeems the link (or its QR code) with the transaction code, which
//! is shown here once and must reach the holder by another channel.

use certus_schemas::openid::{NotificationEvent, OfferCreated, OfferStatus};
use leptos::prelude::*;
use leptos_router::components::A;

use crate::api;
use crate::widgets::{local_time, ErrorNote};

/// How many more times the page asks, once the offer was taken, whether the wallet said it
/// stored the credential: about 30 seconds.
const NOTIFICATION_POLLS: u32 = 20;

/// How often an open page asks whether the holder has taken a pending offer or answered a
/// pending request.
pub const POLL: std::time::Duration = std::time::Duration::from_millis(1500);

/// The link that opens an `openid…://?…` link in this node's web wallet.
pub fn web_wallet_link(link: &str) -> String {
    let query = link.split_once('?').map(|(_, q)| q).unwrap_or_default();
    format!("/wallet?{query}")
}

/// Runs `tick` every [`POLL`] while `active` holds, until the component goes.
pub fn poll_while(active: impl Fn() -> bool + 'static, tick: impl Fn() + 'static) {
    let handle = set_interval_with_handle(
        move || {
            if active() {
                tick();
            }
        },
        POLL,
    );
    if let Ok(handle) = handle {
        on_cleanup(move || handle.clear());
    }
}

#[component]
pub fn Offered(created: OfferCreated) -> impl IntoView {
    let id = created.id.clone();
    let status = LocalResource::new(move || {
        let id = id.clone();
        async move { api::offer(&id).await }
    });
    // Asked again while the wallet has not taken the offer, and for a while after, until the
    // wallet says what it did with the credential (not every wallet does).
    let polls_after = StoredValue::new(0u32);
    let waiting = move || match status.get_untracked() {
        None => true,
        Some(Ok(s))
            if matches!(
                s.status,
                OfferStatus::Pending | OfferStatus::Requested | OfferStatus::Approved
            ) =>
        {
            true
        }
        Some(Ok(s)) if s.status == OfferStatus::Redeemed && s.notification.is_none() => {
            polls_after.update_value(|n| *n += 1);
            polls_after.get_value() <= NOTIFICATION_POLLS
        }
        _ => false,
    };
    poll_while(waiting, move || status.refetch());
    let wallet_link = web_wallet_link(&created.offer_uri);
    view! {
        <section class="result" aria-labelledby="offered-title" data-testid="offered">
            <h2 id="offered-title">"Offered to a wallet"</h2>
            <img class="qr" src=created.qr_code.clone() alt="QR code of the credential offer" width="240" height="240"/>
            <p>"The holder scans the code, or opens the link, in any OpenID4VCI wallet:"</p>
            <p><code class="wrap" data-testid="offer-link">{created.offer_uri.clone()}</code></p>
            <p><A href=wallet_link attr:data-testid="offer-web-wallet">"Open it in this node's web wallet"</A></p>
            {created.tx_code.clone().map(|code| {
                let on_our_page = created.credential_offer["grants"].get("authorization_code").is_some();
                view! {
                    <p>{if on_our_page { "One-time code: " } else { "Transaction code: " }}
                    <strong data-testid="offer-tx-code-value">{code}</strong>
                    {if on_our_page {
                        " — the holder enters it on this institution's page, where their wallet sends them. Give it by another channel (phone, letter); it is not shown again."
                    } else {
                        " — give it to the holder by another channel (phone, letter); it is not shown again."
                    }}</p>
                }
            })}
            <p class="hint">{format!("The offer expires at {}.", local_time(&created.expires_at))}</p>
            <p aria-live="polite" data-testid="offer-status">
                {move || status.get().map(|s| match s {
                    Ok(info) => match info.status {
                        OfferStatus::Pending => view! { <span class="badge">"waiting for the wallet"</span> }.into_any(),
                        OfferStatus::Requested => view! {
                            <span class="badge suspended">"the wallet asked for it: waiting for your approval"</span>
                            " " <Decision id=info.id.clone() decided=Callback::new(move |_| status.refetch())/>
                        }.into_any(),
                        OfferStatus::Approved => view! { <span class="badge">"approved: waiting for the wallet to collect it"</span> }.into_any(),
                        OfferStatus::Redeemed => {
                            let id = info.credential_id.clone().unwrap_or_default();
                            view! {
                                <span class="badge active">"received by the wallet"</span> " as "
                                <A href=format!("/portal/credentials/{}", js_sys::encode_uri_component(&id))><code>{id.clone()}</code></A>
                                {info.copies.filter(|n| *n > 1).map(|n| view! {
                                    " " <span data-testid="offer-copies">{format!("and {} more copies, each bound to another key of the wallet's", n - 1)}</span>
                                })}
                                {info.notification.map(|event| view! {
                                    " — " <span data-testid="offer-notification">{match event {
                                        NotificationEvent::CredentialAccepted => "the wallet reports it stored it",
                                        NotificationEvent::CredentialFailure => "the wallet reports it could not store it",
                                        NotificationEvent::CredentialDeleted => "the wallet reports it was deleted",
                                    }}</span>
                                })}
                            }.into_any()
                        }
                        other => view! { <span class="badge revoked">{format!("{other:?}").to_lowercase()}</span> }.into_any(),
                    },
                    Err(error) => view! { <ErrorNote error testid="offer-status-error"/> }.into_any(),
                })}
            </p>
        </section>
    }
}

/// Approve or refuse what a wallet asked for with an offer that needs approval; `decided`
/// runs once the institution decided.
#[component]
pub fn Decision(id: String, decided: Callback<()>) -> impl IntoView {
    let decide = Action::new_local(move |approve: &bool| {
        let id = id.clone();
        let approve = *approve;
        async move { api::decide_offer(&id, approve).await }
    });
    Effect::new(move |_| {
        if decide.value().with(|r| matches!(r, Some(Ok(_)))) {
            decided.run(());
        }
    });
    view! {
        <span class="buttons">
            <button data-testid="offer-approve" disabled=move || decide.pending().get()
                on:click=move |_| { decide.dispatch(true); }>"Approve and issue"</button>
            " "
            <button class="danger" data-testid="offer-refuse" disabled=move || decide.pending().get()
                on:click=move |_| { decide.dispatch(false); }>"Refuse"</button>
        </span>
        {move || decide.value().get().and_then(Result::err).map(|error| view! { <ErrorNote error testid="offer-decision-error"/> })}
    }
}

/// The institution's offers whose wallet asked for the credential and which wait for its
/// approval (deferred issuance), to approve or refuse.
#[component]
pub fn AwaitingApproval() -> impl IntoView {
    let offers = LocalResource::new(api::offers);
    let waiting = move || {
        offers.get().map(|r| {
            r.map(|list| {
                list.into_iter()
                    .filter(|o| o.status == OfferStatus::Requested)
                    .collect::<Vec<_>>()
            })
        })
    };
    view! {
        {move || match waiting() {
            Some(Ok(list)) if !list.is_empty() => view! {
                <section aria-labelledby="approvals-title" data-testid="awaiting-approval">
                    <h2 id="approvals-title">"Waiting for your approval"</h2>
                    <ul>
                        {list.into_iter().map(|offer| view! {
                            <li data-testid="awaiting-offer" data-id=offer.id.clone()>
                                {format!("{} ({}), asked for {}", offer.credential_type, offer.format, offer.requested_at.as_deref().map(local_time).unwrap_or_default())}
                                " " <Decision id=offer.id.clone() decided=Callback::new(move |_| offers.refetch())/>
                            </li>
                        }).collect_view()}
                    </ul>
                </section>
            }.into_any(),
            Some(Err(error)) => view! { <ErrorNote error/> }.into_any(),
            _ => ().into_any(),
        }}
    }
}
