//! Documents bundled with every Certus binary: the JSON Schemas of the credential types and
//! the JSON-LD contexts those credentials use. Nothing here is ever fetched from the network.

/// A document embedded at compile time, with the URL it is published under.
#[derive(Debug, Clone, Copy)]
pub struct BundledDocument {
    /// The document's identifier (`$id` of a schema, URL of a context).
    pub url: &'static str,
    /// The document's JSON text.
    pub json: &'static str,
}

macro_rules! bundled {
    ($($url:expr => $path:literal),* $(,)?) => {
        &[$(BundledDocument { url: $url, json: include_str!(concat!("../", $path)) }),*]
    };
}

/// The JSON Schemas (2020-12) of the credential types Certus ships with. Each describes a
/// `credentialSubject`; the annotations `x-certus-credential-type`, `x-certus-context` and
/// `x-certus-personal` name the VC type, its JSON-LD context and the personal-data claims.
pub const CREDENTIAL_TYPE_SCHEMAS: &[BundledDocument] = bundled! {
    "https://w3id.org/certus/schemas/KycCredential/v1" => "credential-types/KycCredential.schema.json",
    "https://w3id.org/certus/schemas/FoodIngredientCertificate/v1" => "credential-types/FoodIngredientCertificate.schema.json",
    "https://w3id.org/certus/schemas/MachineryInspectionCertificate/v1" => "credential-types/MachineryInspectionCertificate.schema.json",
    "https://w3id.org/certus/schemas/ProfessionalQualification/v1" => "credential-types/ProfessionalQualification.schema.json",
};

/// The JSON-LD contexts of the Certus credential types. The W3C contexts (credentials v2,
/// Data Integrity, Multikey) are bundled by ssi and listed by the backend alongside these.
pub const CONTEXTS: &[BundledDocument] = bundled! {
    "https://w3id.org/certus/contexts/kyc/v1" => "contexts/kyc-v1.jsonld",
    "https://w3id.org/certus/contexts/food/v1" => "contexts/food-v1.jsonld",
    "https://w3id.org/certus/contexts/machinery/v1" => "contexts/machinery-v1.jsonld",
    "https://w3id.org/certus/contexts/qualification/v1" => "contexts/qualification-v1.jsonld",
    // VC Data Model 1.1 credentials' status entries: the VC 2.0 context's definition of
    // `BitstringStatusListEntry` (same IRIs), for documents whose base context is 1.1.
    STATUS_V1_CONTEXT => "contexts/status-v1.jsonld",
};

/// The context that defines `BitstringStatusListEntry` for VC Data Model 1.1 credentials.
pub const STATUS_V1_CONTEXT: &str = "https://w3id.org/certus/contexts/status/v1";
