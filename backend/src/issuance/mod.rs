//! Issuance: completes and checks an unsecured VC 2.0 credential against its type, secures
//! it in the requested format with the tenant's key, and records it (identifiers only).

mod prepare;
pub mod record;

pub use prepare::{prepare, DataModel, Prepared};

use std::sync::Arc;

use certus_credential::time::xsd_now;
use chrono::{DateTime, Utc};
use serde_json::Value;

use certus_schemas::holder::SD_JWT_TOKEN_CLAIMS;
use certus_schemas::wire::CredentialFormat;

use crate::error::{DomainError, ErrorKind};
use crate::keys::KeyStore;
use crate::ledger::transaction::Transaction;
use crate::privacy::{self, DataSubject, PersonalRows, Vault};
use crate::settings::Settings;
use crate::status::requested::{Requested, RequestedError};
use crate::status::{Allocation, StatusLists};
use crate::store::entities::issued_credentials;
use crate::trust::{MandateUse, TrustError, TrustRegistry};
use crate::work::Trail;
use certus_credential::catalog::{Catalog, CredentialType};
use certus_credential::commitment::commitment;
use certus_credential::contexts::Contexts;
use certus_credential::data_integrity::{self, DataIntegrityError, ProofConfig};
use certus_credential::envelope::{envelop_credential, MediaType};
use certus_credential::{jose, sd_jwt};
use record::{RecordError, Recorder};

/// Why a credential could not be issued. Every variant but `Internal` is the client's.
#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    /// The credential is not a JSON object, or a member has the wrong JSON type.
    #[error("{message}")]
    Malformed { message: String, path: String },
    /// The first `@context` is not the VC 2.0 context.
    #[error(
        "credentials are issued as VC Data Model 2.0 or 1.1: the first @context must be {} or {}",
        certus_credential::VC_V2_CONTEXT,
        certus_credential::VC_V1_CONTEXT
    )]
    UnsupportedVersion,
    /// A context outside the bundled set (nothing is fetched).
    #[error("JSON-LD context `{0}` is not a bundled one (none is fetched or given inline); GET /contexts lists them")]
    UnknownContext(String),
    /// No known credential type among `type`.
    #[error("{0}; GET /credential-types lists the known types")]
    UnknownType(String),
    /// The type (or the version the credential's context names) was retired by its owner.
    #[error("{0}: it can no longer be issued (its credentials still verify)")]
    Retired(String),
    /// The tenant has no issuer key on this server (created while the server ran).
    #[error(
        "this institution has no issuer key on this server: create a DID (POST /dids), or \
         restart the server after `certus tenant create`"
    )]
    NoIssuerKey,
    /// `issuer` is not a DID of this tenant.
    #[error("the issuer `{0}` is not one of this tenant's DIDs")]
    IssuerNotOwned(String),
    /// The subject does not match the type's JSON Schema.
    #[error("credentialSubject does not match the {type_name} schema: {summary}")]
    Schema {
        type_name: String,
        summary: String,
        path: String,
    },
    /// A date is not an XSD dateTime, or `validUntil` is not after `validFrom`.
    #[error("{message}")]
    Date { message: String, path: String },
    /// A claim asked to be selectively disclosable is not in the subject.
    #[error("selectivelyDisclosable names `{0}`, which is not a claim of credentialSubject")]
    UnknownDisclosable(String),
    /// The issuer is not accredited for a type that requires it, or is a sub-issuer whose
    /// mandate does not allow this credential.
    #[error(transparent)]
    Mandate(TrustError),
    /// JSON-LD processing refused the credential (e.g. a property without a term).
    #[error("the credential is not valid JSON-LD for its contexts: {0}")]
    JsonLd(String),
    /// Its `credentialStatus` names entries Certus cannot honour.
    #[error(transparent)]
    Status(RequestedError),
    /// An option that does not apply to this issuance, or options that contradict.
    #[error("{message}")]
    Option { message: String, path: String },
    /// The cryptosuite asked for does not fit the format or the issuer's key.
    #[error("{0}")]
    Cryptosuite(String),
    /// A credential with this id was issued before.
    #[error("a credential with id `{0}` was already issued")]
    DuplicateId(String),
    /// Signing or storage failed.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl DomainError for IssueError {
    fn code(&self) -> &'static str {
        match self {
            Self::Malformed { .. } => "MALFORMED_CREDENTIAL",
            Self::UnsupportedVersion => "UNSUPPORTED_VC_VERSION",
            Self::UnknownContext(_) => "UNKNOWN_CONTEXT",
            Self::UnknownType(_) => "UNKNOWN_CREDENTIAL_TYPE",
            Self::Retired(_) => "CREDENTIAL_TYPE_RETIRED",
            Self::NoIssuerKey => "NO_ISSUER_KEY",
            Self::IssuerNotOwned(_) => "ISSUER_NOT_OWNED",
            Self::Schema { .. } => "SCHEMA_VIOLATION",
            Self::Date { .. } => "INVALID_DATE",
            Self::UnknownDisclosable(_) => "UNKNOWN_DISCLOSABLE_CLAIM",
            Self::Mandate(e) => e.code(),
            Self::JsonLd(_) => "JSONLD_INVALID",
            Self::Status(e) => e.code(),
            Self::Option { .. } => "INVALID_OPTION",
            Self::DuplicateId(_) => "CREDENTIAL_ID_TAKEN",
            Self::Cryptosuite(_) => "UNSUPPORTED_CRYPTOSUITE",
            Self::Internal(_) => "INTERNAL",
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            Self::Internal(_) => ErrorKind::Internal,
            Self::NoIssuerKey
            | Self::DuplicateId(_)
            | Self::Status(RequestedError::Taken { .. }) => ErrorKind::Conflict,
            Self::Status(RequestedError::Internal(_)) => ErrorKind::Internal,
            Self::Mandate(_) => ErrorKind::Forbidden,
            _ => ErrorKind::Invalid,
        }
    }

    fn pointer(&self) -> Option<String> {
        match self {
            Self::Malformed { path, .. } | Self::Date { path, .. } | Self::Option { path, .. } => {
                Some(path.clone())
            }
            Self::Status(_) => Some("/credential/credentialStatus".into()),
            Self::Schema { path, .. } => Some(path.clone()),
            Self::UnknownContext(_) | Self::UnsupportedVersion => {
                Some("/credential/@context".into())
            }
            Self::UnknownType(_) | Self::Retired(_) => Some("/credential/type".into()),
            Self::IssuerNotOwned(_) => Some("/credential/issuer".into()),
            Self::UnknownDisclosable(_) => Some("/options/selectivelyDisclosable".into()),
            Self::Mandate(_) => Some("/credential/issuer".into()),
            Self::DuplicateId(_) => Some("/credential/id".into()),
            Self::Cryptosuite(_) => Some("/options/cryptosuite".into()),
            Self::NoIssuerKey | Self::JsonLd(_) | Self::Internal(_) => None,
        }
    }
}

impl IssueError {
    /// The trust registry's refusal to let the issuer issue (no accreditation, or outside
    /// its mandate).
    pub fn refused(e: TrustError) -> Self {
        match e {
            TrustError::Internal(cause) => Self::Internal(cause),
            refused => Self::Mandate(refused),
        }
    }
}

/// How the personal-data vault and the records name the type of a credential issued
/// openly (of no registered type): its retention period is the institution's for this name.
pub const OPEN_TYPE: &str = "VerifiableCredential";

/// A secured credential and what is recorded about it.
#[derive(Debug)]
pub struct Issued {
    pub credential_id: String,
    pub types: Vec<String>,
    pub issuer: String,
    pub format: CredentialFormat,
    /// The secured credential as returned to the client.
    pub secured: Value,
    /// Its status entries.
    pub status: Option<Allocation>,
    /// For a sub-issuer: the mandate the credential is counted against when recorded.
    pub mandate: Option<MandateUse>,
    /// The registered credential type's name; [`OPEN_TYPE`] for a credential issued
    /// openly.
    pub credential_type: String,
    /// The registered type version its subject was checked against (`None`: issued
    /// openly, no schema check).
    pub checked_against: Option<Arc<CredentialType>>,
    /// The `credentialSubject` as issued: personal data, kept only in the vault.
    pub credential_subject: Value,
}

impl Issued {
    /// What is recorded about this issuance: identifiers, types, issuer, format, time,
    /// commitment and the text of its non-personal claims (for search; no personal
    /// claim's value) — with its anchor and audit entry.
    pub fn record(
        &self,
        tenant_id: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<record::Record, IssueError> {
        let commitment = commitment(&self.secured).ok_or_else(|| {
            IssueError::Internal(anyhow::anyhow!("secured credential has no commitment"))
        })?;
        let mut trail = Trail::default();
        trail.anchor(&Transaction::CredentialAnchor { commitment }, now);
        trail.audit(
            tenant_id,
            actor,
            "credential.issue",
            &self.credential_id,
            now,
        );
        // Whole milliseconds: the time the seal covers survives every database's precision.
        let issued_at = DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now);
        Ok(record::Record {
            issued: issued_credentials::Model {
                id: crate::store::time_ordered_id(),
                tenant_id: tenant_id.to_owned(),
                credential_id: self.credential_id.clone(),
                types: serde_json::to_string(&self.types).map_err(anyhow::Error::from)?,
                issuer: self.issuer.clone(),
                format: self.format.as_str().to_owned(),
                issued_at,
                commitment: Some(commitment.to_hex()),
                issued_by: Some(actor.to_owned()),
                revocation_list: self.status.map(|a| a.revocation.to_string()),
                suspension_list: self.status.map(|a| a.suspension.to_string()),
                status_index: self.status.map(|a| a.index as i64),
                revoked_at: None,
                suspended_at: None,
                status_reason: None,
                seal: None,
                claim_text: self
                    .checked_against
                    .as_deref()
                    .and_then(|t| crate::issued::claim_text(&self.credential_subject, t)),
            },
            trail,
            personal: PersonalRows::default(),
            mandate: self.mandate.clone(),
            batch: None,
        })
    }
}

/// The issuing service: checks, secures and records credentials. Issuance through the
/// API and offers redeemed by wallets both pass here.
#[derive(Debug, Clone)]
pub struct Issuer {
    parts: IssuerParts,
}

/// What an issuer is built from.
#[derive(Debug, Clone)]
pub struct IssuerParts {
    pub catalog: Arc<Catalog>,
    pub contexts: Arc<Contexts>,
    pub keys: Arc<KeyStore>,
    pub trust: Arc<TrustRegistry>,
    pub status: Arc<StatusLists>,
    pub vault: Arc<Vault>,
    /// Whether each institution issues openly.
    pub settings: Arc<Settings>,
    pub recorder: Recorder,
}

impl Issuer {
    pub fn new(parts: IssuerParts) -> Self {
        Self { parts }
    }

    /// The credential types it issues.
    pub fn catalog(&self) -> &Arc<Catalog> {
        &self.parts.catalog
    }

    /// The JSON-LD contexts it knows.
    pub fn contexts(&self) -> &Arc<Contexts> {
        &self.parts.contexts
    }

    /// The institutions' issuer keys.
    pub fn keys(&self) -> &Arc<KeyStore> {
        &self.parts.keys
    }

    /// The institutions' settings.
    pub fn settings(&self) -> &Arc<Settings> {
        &self.parts.settings
    }

    /// Every check an issuance makes before it signs: `credential` completed and checked
    /// against its type for `tenant_id` (issuer key, schema, contexts) — or, where the
    /// institution issues openly and it names no registered type, its terms against its
    /// contexts — then the issuer's standing on the trust registry: accredited for the
    /// type where the type requires it, and for a sub-issuer a current mandate with room
    /// left, which the credential is counted against when recorded.
    pub async fn authorise(
        &self,
        tenant_id: &str,
        credential: Value,
        now: DateTime<Utc>,
    ) -> Result<(Prepared, Option<MandateUse>), IssueError> {
        let open = self
            .parts
            .settings
            .open_issuance(tenant_id)
            .await
            .map_err(|e| IssueError::Internal(e.into()))?;
        let prepared = prepare(
            credential,
            open,
            tenant_id,
            &self.parts.catalog,
            &self.parts.contexts,
            &self.parts.keys,
            now,
        )?;
        if prepared.check_terms {
            data_integrity::check_terms(&prepared.credential, &self.parts.contexts)
                .await
                .map_err(|e| IssueError::JsonLd(e.to_string()))?;
        }
        let mandate = match &prepared.credential_type {
            Some(credential_type) => self
                .parts
                .trust
                .mandate(&prepared.key.did, credential_type, now)
                .await
                .map_err(IssueError::refused)?,
            None => {
                self.parts
                    .trust
                    .permit_open(&prepared.key.did)
                    .await
                    .map_err(IssueError::refused)?;
                None
            }
        };
        Ok((prepared, mandate))
    }

    /// The whole of an issuance but its recording: [`Self::authorise`]s `credential` for
    /// `tenant_id`, gives it status entries, and secures it in `format`.
    pub async fn issue(
        &self,
        tenant_id: &str,
        credential: Value,
        securing: Securing<'_>,
        now: DateTime<Utc>,
    ) -> Result<Issued, IssueError> {
        let (mut prepared, mandate) = self.authorise(tenant_id, credential, now).await?;
        securing.check(&prepared)?;
        let allocation = match &prepared.requested_status {
            Requested::Any => self
                .parts
                .status
                .allocate(&prepared.key, now)
                .await
                .map_err(|e| IssueError::Internal(e.context("allocating status entries")))?,
            Requested::Entries(entries) => self
                .parts
                .status
                .claim(&prepared.key, entries)
                .await
                .map_err(|e| match e {
                    RequestedError::Internal(cause) => IssueError::Internal(cause),
                    refused => IssueError::Status(refused),
                })?,
        };
        prepared.set_status(&self.parts.status, allocation);
        let mut issued = secure(prepared, securing, &self.parts.contexts, now).await?;
        issued.mandate = mandate;
        Ok(issued)
    }

    /// [`Self::issue`], then records the credential, its anchor, its audit entry as done
    /// by `actor`, and its subject's personal data in the vault; returns once committed.
    #[allow(clippy::too_many_arguments)]
    pub async fn issue_recorded(
        &self,
        tenant_id: &str,
        actor: &str,
        credential: Value,
        securing: Securing<'_>,
        data_subject: DataSubject<'_>,
        now: DateTime<Utc>,
    ) -> Result<Issued, IssueError> {
        let mut issued = self
            .issue_copies(
                tenant_id,
                actor,
                vec![credential],
                securing,
                data_subject,
                now,
            )
            .await?;
        issued
            .pop()
            .ok_or_else(|| IssueError::Internal(anyhow::anyhow!("nothing was issued")))
    }

    /// [`Self::issue_recorded`] for the copies of one credential, each bound to another
    /// key of one holder (OpenID4VCI batch issuance): each with its own id, status entries,
    /// anchor and vault record, all recorded together or none; a batch counts once against
    /// a mandate.
    #[allow(clippy::too_many_arguments)]
    pub async fn issue_copies(
        &self,
        tenant_id: &str,
        actor: &str,
        copies: Vec<Value>,
        securing: Securing<'_>,
        data_subject: DataSubject<'_>,
        now: DateTime<Utc>,
    ) -> Result<Vec<Issued>, IssueError> {
        if let DataSubject::Given(given) = &data_subject {
            privacy::check(*given)?;
        }
        let mut issued: Vec<Issued> = Vec::with_capacity(copies.len());
        for credential in copies {
            let mut copy = self.issue(tenant_id, credential, securing, now).await?;
            if !issued.is_empty() {
                copy.mandate = None;
            }
            issued.push(copy);
        }
        let first = issued
            .first()
            .ok_or_else(|| IssueError::Internal(anyhow::anyhow!("no credential to issue")))?;
        let personal = privacy::issuance_rows(
            &self.parts.vault,
            tenant_id,
            data_subject,
            &first.credential_type,
            issued
                .iter()
                .map(|i| (i.credential_id.as_str(), &i.credential_subject)),
            now,
        )
        .await?;
        let batch = (issued.len() > 1).then(|| first.credential_id.clone());
        let mut records = Vec::with_capacity(issued.len());
        for (copy, personal) in issued.iter().zip(personal) {
            let mut record = copy.record(tenant_id, actor, now)?;
            record.personal = personal;
            record.batch = batch.clone();
            records.push(record);
        }
        self.record(records).await.map_err(|e| match e {
            RecordError::DuplicateId => IssueError::DuplicateId(first.credential_id.clone()),
            RecordError::StatusEntryTaken => match first.status {
                Some(allocation) => IssueError::Status(RequestedError::Taken {
                    url: self.parts.status.url(allocation.revocation),
                    index: allocation.index,
                }),
                None => IssueError::Internal(anyhow::anyhow!(e)),
            },
            RecordError::MandateExhausted(max) => {
                IssueError::Mandate(TrustError::MandateExhausted(max))
            }
            RecordError::Failed(cause) => IssueError::Internal(anyhow::anyhow!(cause)),
        })?;
        for copy in &issued {
            tracing::info!(
                credential_id = %copy.credential_id,
                format = copy.format.as_str(),
                types = ?copy.types,
                "issued credential"
            );
        }
        Ok(issued)
    }

    /// Records issuances together (see [`record::Recorder`]); returns once committed.
    pub async fn record(&self, records: Vec<record::Record>) -> Result<(), RecordError> {
        self.parts.recorder.record(records).await
    }
}

/// How a credential is secured: its format and the choices each format offers.
#[derive(Debug, Clone, Copy, Default)]
pub struct Securing<'a> {
    pub format: CredentialFormat,
    /// `dc+sd-jwt`: the claims to make selectively disclosable (the type's personal claims
    /// when `None`).
    pub disclosable: Option<&'a [String]>,
    /// `ldp_vc`: the cryptosuite asked for (the key's RDFC suite when `None`).
    pub cryptosuite: Option<&'a str>,
    /// `dc+sd-jwt`: JSON Pointers to what is always disclosed (VC API's
    /// `mandatoryPointers`); every other subject claim is selectively disclosable.
    pub mandatory_pointers: Option<&'a [String]>,
}

impl<'a> Securing<'a> {
    /// In `format`, with every choice left to Certus.
    pub fn format(format: CredentialFormat) -> Self {
        Self {
            format,
            ..Self::default()
        }
    }

    /// As an issue request's options ask.
    pub fn of(options: &'a certus_schemas::wire::IssueOptions) -> Self {
        Self {
            format: options.format,
            disclosable: options.selectively_disclosable.as_deref(),
            cryptosuite: options.cryptosuite.as_deref(),
            mandatory_pointers: options.mandatory_pointers.as_deref(),
        }
    }

    /// Refuses choices that do not fit the credential: a format its type does not allow,
    /// disclosure options of a format without selective disclosure, a cryptosuite the
    /// format or the issuer's key does not sign with.
    fn check(&self, prepared: &Prepared) -> Result<(), IssueError> {
        if self.format == CredentialFormat::DcSdJwt {
            prepared.registered_type(self.format)?;
        }
        if self.mandatory_pointers.is_some() {
            if self.format != CredentialFormat::DcSdJwt {
                return Err(IssueError::Option {
                    message: format!(
                        "mandatoryPointers applies to selective disclosure (dc+sd-jwt); {} \
                         discloses the whole credential",
                        self.format.as_str()
                    ),
                    path: "/options/mandatoryPointers".into(),
                });
            }
            if self.disclosable.is_some() {
                return Err(IssueError::Option {
                    message: "give selectivelyDisclosable or mandatoryPointers, not both".into(),
                    path: "/options/mandatoryPointers".into(),
                });
            }
        }
        let Some(asked) = self.cryptosuite else {
            return Ok(());
        };
        let algorithm = prepared.key.signer.algorithm();
        if self.format != CredentialFormat::LdpVc {
            return Err(IssueError::Cryptosuite(format!(
                "a cryptosuite is chosen for ldp_vc only, not {}",
                self.format.as_str()
            )));
        }
        let fits: &[&str] = match algorithm {
            ssi::jwk::Algorithm::EdDSA => &[
                data_integrity::EdDsaRdfc2022::CRYPTOSUITE,
                data_integrity::jcs::CRYPTOSUITE,
            ],
            _ => &[data_integrity::EcdsaRdfc2019::CRYPTOSUITE],
        };
        if fits.contains(&asked) {
            Ok(())
        } else {
            Err(IssueError::Cryptosuite(format!(
                "the issuer's {algorithm} key signs with {}, not `{asked}`",
                fits.join(" or ")
            )))
        }
    }
}

/// `credential` with the id an issue request's `options.credentialId` gives it (VC API);
/// refused when the credential has another.
pub fn with_credential_id(mut credential: Value, id: Option<&str>) -> Result<Value, IssueError> {
    let Some(id) = id else {
        return Ok(credential);
    };
    match credential.get("id") {
        None => {
            if let Value::Object(vc) = &mut credential {
                vc.insert("id".into(), Value::String(id.to_owned()));
            }
            Ok(credential)
        }
        Some(own) if own == id => Ok(credential),
        Some(_) => Err(IssueError::Option {
            message: "options.credentialId differs from the credential's own id".into(),
            path: "/options/credentialId".into(),
        }),
    }
}

/// An issuer's assertion proof made now.
fn proof_config(verification_method: &str, now: DateTime<Utc>) -> ProofConfig<'_> {
    ProofConfig {
        verification_method,
        proof_purpose: "assertionMethod",
        created: xsd_now(now),
        challenge: None,
        domain: None,
    }
}

/// Secures a prepared credential as `securing` says, with its issuer's key.
pub async fn secure(
    prepared: Prepared,
    securing: Securing<'_>,
    contexts: &Contexts,
    now: DateTime<Utc>,
) -> Result<Issued, IssueError> {
    let Securing {
        format,
        disclosable,
        cryptosuite,
        mandatory_pointers,
    } = securing;
    let key = prepared.key.clone();
    let status = prepared.status;
    let checked_against = prepared.credential_type.clone();
    let credential_type = checked_against
        .as_ref()
        .map_or_else(|| OPEN_TYPE.to_owned(), |t| t.name.clone());
    let credential_subject = prepared.credential["credentialSubject"].clone();
    let secured = match format {
        CredentialFormat::LdpVc if cryptosuite == Some(data_integrity::jcs::CRYPTOSUITE) => {
            data_integrity::sign_jcs(
                prepared.credential.clone(),
                key.signer.as_ref(),
                proof_config(&key.verification_method, now),
            )
            .map_err(|e| IssueError::Internal(e.into()))?
        }
        CredentialFormat::LdpVc => data_integrity::sign(
            prepared.credential.clone(),
            key.signer.as_ref(),
            proof_config(&key.verification_method, now),
            contexts,
        )
        .await
        .map_err(|e| match e {
            DataIntegrityError::JsonLd(m) => IssueError::JsonLd(m),
            other => IssueError::Internal(other.into()),
        })?,
        // VC 1.1: a JWT with the credential as its `vc` claim — no envelope, which is a
        // VC 2.0 notion.
        CredentialFormat::VcJwt if prepared.model == DataModel::V1_1 => {
            let header = jose::header(&[("typ", "JWT"), ("kid", &key.verification_method)]);
            let token = jose::sign(header, &prepared.jwt_claims_v1_1(now), key.signer.as_ref())
                .map_err(|e| IssueError::Internal(e.into()))?;
            Value::String(token)
        }
        CredentialFormat::VcJwt => {
            let header = jose::header(&[
                ("typ", "vc+jwt"),
                ("cty", "vc"),
                ("kid", &key.verification_method),
            ]);
            let token = jose::sign(header, &prepared.credential, key.signer.as_ref())
                .map_err(|e| IssueError::Internal(e.into()))?;
            envelop_credential(MediaType::VcJwt, &token)
        }
        CredentialFormat::DcSdJwt => {
            let (claims, default_disclosable) = prepared.sd_jwt_claims(now).await?;
            let disclosable = match disclosable {
                Some(names) => {
                    if let Some(unknown) = names.iter().find(|n| {
                        !claims.contains_key(*n) || SD_JWT_TOKEN_CLAIMS.contains(&n.as_str())
                    }) {
                        return Err(IssueError::UnknownDisclosable(unknown.clone()));
                    }
                    names.to_vec()
                }
                None => match mandatory_pointers {
                    Some(pointers) => all_but_mandatory(&prepared.credential, pointers)?,
                    None => default_disclosable,
                },
            };
            let header = jose::header(&[
                ("typ", sd_jwt::SD_JWT_VC_TYP),
                ("kid", &key.verification_method),
            ]);
            let token = sd_jwt::issue(claims, &disclosable, header, key.signer.as_ref())?;
            envelop_credential(MediaType::DcSdJwt, &token)
        }
    };
    Ok(Issued {
        credential_id: prepared.id.into_string(),
        types: prepared.types,
        issuer: key.did.clone(),
        format,
        secured,
        status,
        mandate: None,
        credential_type,
        checked_against,
        credential_subject,
    })
}

/// The subject claims of `credential` but those `pointers` (JSON Pointers into it, as VC
/// API's `mandatoryPointers`) require disclosed: a pointer into a claim makes the whole
/// claim mandatory; one outside `credentialSubject` names what is always disclosed.
fn all_but_mandatory(credential: &Value, pointers: &[String]) -> Result<Vec<String>, IssueError> {
    let mut mandatory = Vec::new();
    for pointer in pointers {
        if credential.pointer(pointer).is_none() {
            return Err(IssueError::Option {
                message: format!(
                    "mandatoryPointers: `{pointer}` points at nothing in the credential"
                ),
                path: "/options/mandatoryPointers".into(),
            });
        }
        match pointer.strip_prefix("/credentialSubject") {
            Some("") => return Ok(Vec::new()),
            Some(rest) => {
                if let Some(claim) = rest.strip_prefix('/').and_then(|r| r.split('/').next()) {
                    mandatory.push(claim.replace("~1", "/").replace("~0", "~"));
                }
            }
            None => {}
        }
    }
    Ok(credential["credentialSubject"]
        .as_object()
        .into_iter()
        .flat_map(|subject| subject.keys())
        .filter(|name| *name != "id" && !mandatory.contains(name))
        .cloned()
        .collect())
}
