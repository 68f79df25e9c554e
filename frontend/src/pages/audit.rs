//! The institution's audit log, newest first.

use leptos::prelude::*;

use crate::api;
use crate::widgets::{local_time, Actor, ErrorNote, Loading, OlderPager};

#[component]
pub fn Audit() -> impl IntoView {
    let before = RwSignal::new(None::<u64>);
    let page = LocalResource::new(move || {
        let before = before.get();
        async move { api::audit(before).await }
    });
    view! {
        <h1>"Audit log"</h1>
        <p class="hint">"Every change, by whom and when — identifiers only. Entries are hash-chained and the head is anchored in each block."</p>
        <Suspense fallback=Loading>
            {move || page.get().map(|r| match r {
                Err(error) => view! { <ErrorNote error/> }.into_any(),
                Ok(page) if page.entries.is_empty() => view! { <p class="empty">"Nothing recorded yet."</p> }.into_any(),
                Ok(page) => {
                    let oldest = page.entries.iter().filter_map(|e| e.position).min();
                    view! {
                        <div class="scroll">
                            <table data-testid="audit-log">
                                <thead><tr><th scope="col">"Position"</th><th scope="col">"When"</th><th scope="col">"Who"</th><th scope="col">"What"</th><th scope="col">"Record"</th></tr></thead>
                                <tbody>
                                    {page.entries.into_iter().map(|e| view! {
                                        <tr>
                                            <td>{e.position.map(|p| p.to_string()).unwrap_or_else(|| "waiting".into())}</td>
                                            <td>{local_time(&e.at)}</td>
                                            <td><Actor id=e.actor name=e.actor_name/></td>
                                            <td><code>{e.action}</code></td>
                                            <td><code class="wrap">{e.subject}</code></td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                        <OlderPager before oldest/>
                    }.into_any()
                }
            })}
        </Suspense>
    }
}
