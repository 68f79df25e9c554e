//! The credential types: what each certifies, its claims, which are personal data, and its
//! JSON Schema.

use certus_schemas::wire::CredentialTypeInfo;
use leptos::prelude::*;
use leptos_router::components::A;

use crate::api;
use crate::schema_form::{fields, Kind};
use crate::widgets::{ErrorNote, Loading};

#[component]
pub fn Types() -> impl IntoView {
    let types = LocalResource::new(api::credential_types);
    view! {
        <h1>"Credential types"</h1>
        <Suspense fallback=Loading>
            {move || types.get().map(|r| match r {
                Ok(list) => view! {
                    <div data-testid="credential-types">
                        {list.into_iter().map(|info| view! { <TypeCard info/> }).collect_view()}
                    </div>
                }.into_any(),
                Err(error) => view! { <ErrorNote error/> }.into_any(),
            })}
        </Suspense>
    }
}

#[component]
fn TypeCard(info: CredentialTypeInfo) -> impl IntoView {
    let schema = serde_json::to_string_pretty(&info.schema).unwrap_or_default();
    let claims = fields(&info);
    let testid = format!("type-{}", info.type_name);
    let title_id = format!("{testid}-title");
    let labelled_by = title_id.clone();
    view! {
        <article class="card" data-testid=testid aria-labelledby=labelled_by>
            <h2 id=title_id>{info.title.clone()} " " <code>{info.type_name.clone()}</code></h2>
            <p>{info.description.clone()}</p>
            <table>
                <thead><tr><th scope="col">"Claim"</th><th scope="col">"Kind"</th><th scope="col">"Required"</th><th scope="col">"Personal data"</th></tr></thead>
                <tbody>
                    {claims.into_iter().map(|f| view! {
                        <tr>
                            <td><code>{f.name.clone()}</code></td>
                            <td>{match f.kind {
                                Kind::Choice(options) => format!("one of {}", options.join(", ")),
                                Kind::Date => "date".into(),
                                Kind::Uri => "URI".into(),
                                Kind::Integer { .. } => "whole number".into(),
                                Kind::Number => "number".into(),
                                Kind::Boolean => "yes/no".into(),
                                Kind::Text => "text".into(),
                            }}</td>
                            <td>{if f.required { "yes" } else { "" }}</td>
                            <td>{f.personal.then(|| view! { <span class="badge personal">"personal"</span> })}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
            <details>
                <summary>"JSON Schema"</summary>
                <pre>{schema}</pre>
            </details>
            <A href=format!("/portal/issue?type={}", info.type_name) attr:class="button">"Issue one"</A>
        </article>
    }
}
