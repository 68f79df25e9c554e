//! `EnvelopedVerifiableCredential` / `EnvelopedVerifiablePresentation` (VC Data Model 2.0
//! §4.13): a JWT form carried as a `data:` URL in the `id` of a JSON-LD object.

use serde_json::{json, Value};

use super::VC_V2_CONTEXT;

/// The media types of enveloped JWT forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaType {
    /// VC-JOSE-COSE credential (`vc+jwt`; the older `vc-ld+jwt` is read too).
    VcJwt,
    /// VC-JOSE-COSE presentation (`vp+jwt`; the older `vp-ld+jwt` is read too).
    VpJwt,
    /// IETF SD-JWT VC (`dc+sd-jwt`; the older `vc+sd-jwt` is read too).
    DcSdJwt,
}

impl MediaType {
    fn name(self) -> &'static str {
        match self {
            Self::VcJwt => "application/vc+jwt",
            Self::VpJwt => "application/vp+jwt",
            Self::DcSdJwt => "application/dc+sd-jwt",
        }
    }

    fn parse(name: &str) -> Option<Self> {
        match name {
            "application/vc+jwt" | "application/vc-ld+jwt" => Some(Self::VcJwt),
            "application/vp+jwt" | "application/vp-ld+jwt" => Some(Self::VpJwt),
            "application/dc+sd-jwt" | "application/vc+sd-jwt" => Some(Self::DcSdJwt),
            _ => None,
        }
    }
}

/// Wraps a token as an `EnvelopedVerifiableCredential`.
pub fn envelop_credential(media_type: MediaType, token: &str) -> Value {
    json!({
        "@context": VC_V2_CONTEXT,
        "id": format!("data:{},{token}", media_type.name()),
        "type": "EnvelopedVerifiableCredential",
    })
}

/// Whether `value` is an enveloped credential or presentation object.
pub fn is_enveloped(value: &Value) -> bool {
    let is =
        |t: &str| t == "EnvelopedVerifiableCredential" || t == "EnvelopedVerifiablePresentation";
    match value.get("type") {
        Some(Value::String(t)) => is(t),
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).any(is),
        _ => false,
    }
}

/// The media type and token of an enveloped object's `data:` URL, if it is one Certus reads.
pub fn open(value: &Value) -> Option<(MediaType, &str)> {
    let url = value.get("id")?.as_str()?.strip_prefix("data:")?;
    let (media_type, token) = url.split_once(',')?;
    // A `;base64` or other parameter is not used by the JWT forms.
    Some((MediaType::parse(media_type)?, token))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_envelope_opens_to_what_was_put_in() {
        let env = envelop_credential(MediaType::DcSdJwt, "a.b.c~d~");
        assert!(is_enveloped(&env));
        assert_eq!(open(&env), Some((MediaType::DcSdJwt, "a.b.c~d~")));
        let legacy = json!({"type": "EnvelopedVerifiableCredential", "id": "data:application/vc-ld+jwt,x.y.z"});
        assert_eq!(open(&legacy), Some((MediaType::VcJwt, "x.y.z")));
        let unknown = json!({"type": "EnvelopedVerifiableCredential", "id": "data:text/plain,hi"});
        assert_eq!(open(&unknown), None);
    }
}
