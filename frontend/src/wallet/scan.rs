//! Reading an offer or request QR code with the device's camera: frames go from a
//! `<video>` through a canvas to rqrr, in the page; no image leaves the browser.

use js_sys::Reflect;
use leptos::prelude::*;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    CanvasRenderingContext2d, HtmlCanvasElement, HtmlVideoElement, MediaStream,
    MediaStreamConstraints,
};

/// The text of the first QR code found in an RGBA frame.
fn decode(width: usize, height: usize, rgba: &[u8]) -> Option<String> {
    let luma = |x: usize, y: usize| {
        let i = (y * width + x) * 4;
        let [r, g, b] = [rgba[i], rgba[i + 1], rgba[i + 2]].map(u32::from);
        ((r * 299 + g * 587 + b * 114) / 1000) as u8
    };
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(width, height, luma);
    image
        .detect_grids()
        .into_iter()
        .find_map(|grid| grid.decode().ok().map(|(_, text)| text))
}

async fn start(video: &HtmlVideoElement) -> Result<MediaStream, String> {
    let reason = |e: JsValue| {
        e.dyn_ref::<js_sys::Error>()
            .map(|e| String::from(e.message()))
            .unwrap_or_else(|| "the camera is not available".into())
    };
    let devices = window().navigator().media_devices().map_err(reason)?;
    let constraints = MediaStreamConstraints::new();
    let video_constraints = js_sys::Object::new();
    Reflect::set(
        &video_constraints,
        &"facingMode".into(),
        &"environment".into(),
    )
    .map_err(reason)?;
    constraints.set_video(&video_constraints);
    let stream: MediaStream = JsFuture::from(
        devices
            .get_user_media_with_constraints(&constraints)
            .map_err(reason)?,
    )
    .await
    .map_err(reason)?
    .unchecked_into();
    video.set_src_object(Some(&stream));
    JsFuture::from(video.play().map_err(reason)?)
        .await
        .map_err(reason)?;
    Ok(stream)
}

fn stop(stream: &MediaStream) {
    for track in stream.get_tracks().iter() {
        track.unchecked_into::<web_sys::MediaStreamTrack>().stop();
    }
}

/// One frame of `video`, read for a QR code.
fn read(video: &HtmlVideoElement, canvas: &HtmlCanvasElement) -> Option<String> {
    let (width, height) = (video.video_width(), video.video_height());
    if width == 0 || height == 0 {
        return None;
    }
    canvas.set_width(width);
    canvas.set_height(height);
    let context: CanvasRenderingContext2d = canvas.get_context("2d").ok()??.dyn_into().ok()?;
    context
        .draw_image_with_html_video_element(video, 0.0, 0.0)
        .ok()?;
    let frame = context
        .get_image_data(0.0, 0.0, f64::from(width), f64::from(height))
        .ok()?;
    decode(width as usize, height as usize, &frame.data())
}

/// A "scan a QR code" button; `on_link` gets the first offer or request link seen.
#[component]
pub fn Scanner(on_link: Callback<String>) -> impl IntoView {
    let video = NodeRef::<leptos::html::Video>::new();
    let canvas = NodeRef::<leptos::html::Canvas>::new();
    let stream = RwSignal::new_local(None::<MediaStream>);
    let problem = RwSignal::new(None::<String>);
    let timer = StoredValue::new_local(None::<IntervalHandle>);
    let finish = move || {
        if let Some(handle) = timer.get_value() {
            handle.clear();
        }
        timer.set_value(None);
        if let Some(s) = stream.get_untracked() {
            stop(&s);
        }
        stream.set(None);
    };
    let begin = move |_| {
        problem.set(None);
        let Some(element) = video.get_untracked() else {
            return;
        };
        leptos::task::spawn_local(async move {
            match start(&element).await {
                Ok(s) => {
                    stream.set(Some(s));
                    let handle = set_interval_with_handle(
                        move || {
                            let (Some(v), Some(c)) =
                                (video.get_untracked(), canvas.get_untracked())
                            else {
                                return;
                            };
                            if let Some(text) = read(&v, &c) {
                                if text.starts_with("openid")
                                    || text.contains("request_uri=")
                                    || text.contains("credential_offer")
                                {
                                    finish();
                                    on_link.run(text);
                                } else {
                                    problem.set(Some("That QR code is not a credential offer or a presentation request.".into()));
                                }
                            }
                        },
                        std::time::Duration::from_millis(250),
                    );
                    timer.set_value(handle.ok());
                }
                Err(reason) => {
                    problem.set(Some(format!("The camera could not be opened: {reason}")))
                }
            }
        });
    };
    on_cleanup(finish);
    let scanning = move || stream.with(Option::is_some);
    view! {
        <section aria-labelledby="scan-title">
            <h2 id="scan-title">"Scan a QR code"</h2>
            <div class="actions">
                <button data-testid="wallet-scan" disabled=scanning on:click=begin>"Scan with the camera"</button>
                <button data-testid="wallet-scan-stop" disabled=move || !scanning() on:click=move |_| finish()>"Stop"</button>
            </div>
            <video node_ref=video class="scanner" hidden=move || !scanning() muted=true playsinline=true aria-label="Camera view"></video>
            <canvas node_ref=canvas hidden=true></canvas>
            {move || problem.get().map(|p| view! { <p class="error" role="alert" data-testid="wallet-scan-error">{p}</p> })}
        </section>
    }
}
