//! The dashboard: the institution's figures and the chain's latest blocks.

use certus_schemas::portal::Dashboard as Figures;
use leptos::prelude::*;
use leptos_router::components::A;

use crate::api;
use crate::widgets::{short_time, ErrorNote, Loading};

#[component]
pub fn Dashboard() -> impl IntoView {
    let figures = LocalResource::new(api::dashboard);
    view! {
        <h1>"Dashboard"</h1>
        <Suspense fallback=Loading>
            {move || figures.get().map(|r| match r {
                Ok(figures) => view! { <FiguresView figures/> }.into_any(),
                Err(error) => view! { <ErrorNote error/> }.into_any(),
            })}
        </Suspense>
    }
}

#[component]
fn FiguresView(figures: Figures) -> impl IntoView {
    let stat = |label: &'static str, testid: &'static str, n: u64| {
        view! {
            <div class="stat" data-testid=testid><span class="n">{n}</span><span class="label">{label}</span></div>
        }
    };
    let empty = figures.issued == 0;
    view! {
        <section class="stats" aria-label="Figures">
            {stat("issued", "stat-issued", figures.issued)}
            {stat("active", "stat-active", figures.active)}
            {stat("suspended", "stat-suspended", figures.suspended)}
            {stat("revoked", "stat-revoked", figures.revoked)}
            {stat("waiting for a block", "stat-pending", figures.pending_anchors)}
        </section>
        {empty.then(|| view! {
            <p class="empty">"No credential issued yet. " <A href="/portal/issue">"Issue the first one"</A> "."</p>
        })}
        <div class="columns">
            <section aria-labelledby="by-type-title">
                <h2 id="by-type-title">"By type"</h2>
                <table>
                    <thead><tr><th scope="col">"Type"</th><th scope="col">"Issued"</th></tr></thead>
                    <tbody>
                        {figures.by_type.into_iter().map(|t| view! {
                            <tr><td>{t.type_name}</td><td>{t.count}</td></tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </section>
            <section aria-labelledby="blocks-title">
                <h2 id="blocks-title">"Latest blocks"</h2>
                <table data-testid="latest-blocks">
                    <thead><tr><th scope="col">"Height"</th><th scope="col">"Sealed"</th><th scope="col">"Transactions"</th></tr></thead>
                    <tbody>
                        {figures.latest_blocks.into_iter().map(|b| view! {
                            <tr>
                                <td><A href=format!("/portal/chain?block={}", b.height)>{b.height}</A></td>
                                <td>{short_time(&b.time)}</td>
                                <td>{b.tx_count}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </section>
        </div>
    }
}
