//! The institution as a verifier named by X.509 (OpenID4VP 1.0 §5.9.3: `x509_san_dns`,
//! `x509_hash`; decision 26). Certus makes a P-256 key for the purpose in the key store
//! (or the token), and either certifies it itself, for development, or writes a
//! certificate signing request for the institution's CA, whose chain it then installs
//! after checking the chain certifies that key for the DNS name. The newest installed
//! certificate signs the institution's requests named by X.509, with its chain in `x5c`.

use std::str::FromStr;
use std::sync::Arc;

use certus_schemas::openid::{
    CertificateStatus, VerifierCertificate, VerifierCertificateCreate, VerifierChainInstall,
};
use certus_schemas::x509::{self, Chain, X509Error};
use chrono::{DateTime, Utc};
use p256::ecdsa::Signature;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use ssi::jwk::{Params, JWK};
use x509_cert::der::asn1::{BitString, Ia5String, SetOfVec, UtcTime};
use x509_cert::der::{Any, Encode};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage, KeyUsages, SubjectAltName};
use x509_cert::ext::{AsExtension, Extension};
use x509_cert::name::Name;
use x509_cert::request::{CertReq, CertReqInfo, ExtensionReq};
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::time::{Time, Validity};
use x509_cert::{Certificate, TbsCertificate};

use super::OpenId;
use crate::auth::Principal;
use crate::error::{DomainError, ErrorKind};
use crate::keys::KeyType;
use crate::store::entities::verifier_certificates;
use crate::work::Work;
use certus_credential::signer::Signer;
use certus_credential::time::xsd_now;

/// How long a self-signed certificate is valid.
const SELF_SIGNED_DAYS: u64 = 365;

/// Why a certificate could not be made or installed.
#[derive(Debug, thiserror::Error)]
pub enum CertificateError {
    #[error("dnsName must be a DNS name (letters, digits, hyphens and dots): `{0}` is not")]
    InvalidName(String),
    #[error("no verifier certificate `{0}` in this institution")]
    NotFound(String),
    #[error("verifier certificate `{0}` is installed already: make a new one to renew it")]
    Installed(String),
    #[error("the chain does not certify this certificate's key: {0}")]
    KeyMismatch(String),
    #[error("the chain's first certificate does not name {0}")]
    NameMismatch(String),
    #[error("the chain is not valid: {0}")]
    InvalidChain(X509Error),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sea_orm::DbErr> for CertificateError {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::Internal(e.into())
    }
}

impl DomainError for CertificateError {
    fn code(&self) -> &'static str {
        match self {
            Self::InvalidName(_) => "INVALID_DNS_NAME",
            Self::NotFound(_) => "CERTIFICATE_NOT_FOUND",
            Self::Installed(_) => "CERTIFICATE_INSTALLED",
            Self::KeyMismatch(_) => "CERTIFICATE_KEY_MISMATCH",
            Self::NameMismatch(_) => "CERTIFICATE_NAME_MISMATCH",
            Self::InvalidChain(_) => "INVALID_CERTIFICATE_CHAIN",
            Self::Internal(_) => "INTERNAL",
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            Self::InvalidName(_)
            | Self::KeyMismatch(_)
            | Self::NameMismatch(_)
            | Self::InvalidChain(_) => ErrorKind::Invalid,
            Self::NotFound(_) => ErrorKind::NotFound,
            Self::Installed(_) => ErrorKind::Conflict,
            Self::Internal(_) => ErrorKind::Internal,
        }
    }

    fn pointer(&self) -> Option<String> {
        match self {
            Self::InvalidName(_) => Some("/dnsName".into()),
            Self::KeyMismatch(_) | Self::NameMismatch(_) | Self::InvalidChain(_) => {
                Some("/chain".into())
            }
            _ => None,
        }
    }
}

/// The certificate the institution's requests named by X.509 are signed under: its row,
/// chain and key.
#[derive(Debug, Clone)]
pub struct Installed {
    pub id: String,
    pub dns_name: String,
    pub chain: Chain,
    pub signer: Arc<dyn Signer>,
}

/// Makes a certificate key of the principal's institution: self-signed (active at once),
/// or waiting for its CA's chain with a certificate signing request.
pub async fn create(
    openid: &OpenId,
    principal: &Principal,
    body: VerifierCertificateCreate,
    now: DateTime<Utc>,
) -> Result<VerifierCertificate, CertificateError> {
    let dns_name = match body.dns_name {
        Some(name) => name,
        None => x509::host_of(openid.public_url())
            .unwrap_or_default()
            .to_owned(),
    };
    if !x509::is_dns_name(&dns_name) {
        return Err(CertificateError::InvalidName(dns_name));
    }
    let id = uuid::Uuid::new_v4().simple().to_string();
    let (signer, stored) = openid.custody.generate(
        KeyType::P256,
        &format!("certus verifier {}", principal.tenant_id),
    )?;
    let chain = if body.self_signed {
        let der = self_signed(signer.as_ref(), &dns_name, now)?;
        Some(x509::pem(&der))
    } else {
        None
    };
    let row = verifier_certificates::ActiveModel {
        id: Set(id.clone()),
        tenant_id: Set(principal.tenant_id.clone()),
        dns_name: Set(dns_name),
        key: Set(stored),
        activated_at: Set(chain.as_ref().map(|_| now)),
        chain: Set(chain),
        self_signed: Set(body.self_signed),
        created_by: Set(principal.actor_id()),
        created_at: Set(now),
    };
    let mut work = Work::begin(&openid.db, now).await?;
    verifier_certificates::Entity::insert(row)
        .exec_without_returning(work.conn())
        .await?;
    work.audit_by(principal, "verifier.certificate.create", &id);
    work.commit().await?;
    view(openid, &principal.tenant_id, &id).await
}

/// Installs the chain the institution's CA returned for certificate `id`, once it holds
/// together, certifies the key and names the DNS name.
pub async fn install(
    openid: &OpenId,
    principal: &Principal,
    id: &str,
    body: VerifierChainInstall,
    now: DateTime<Utc>,
) -> Result<VerifierCertificate, CertificateError> {
    let row = find(openid, &principal.tenant_id, id).await?;
    if row.chain.is_some() {
        return Err(CertificateError::Installed(id.to_owned()));
    }
    let chain = Chain::from_pem(&body.chain).map_err(CertificateError::InvalidChain)?;
    let signer = openid.custody.open(&row.key)?;
    let leaf = chain
        .leaf()
        .public_jwk()
        .map_err(|e| CertificateError::KeyMismatch(e.to_string()))?;
    let ours = serde_json::to_value(signer.public_jwk()).map_err(anyhow::Error::from)?;
    if leaf["x"] != ours["x"] || leaf["y"] != ours["y"] {
        return Err(CertificateError::KeyMismatch(format!(
            "its first certificate, of {}, certifies another key",
            chain.leaf().subject()
        )));
    }
    if !chain.leaf().dns_names().contains(&row.dns_name) {
        return Err(CertificateError::NameMismatch(row.dns_name));
    }
    chain
        .check(now.timestamp())
        .map_err(CertificateError::InvalidChain)?;
    let mut work = Work::begin(&openid.db, now).await?;
    let installed = verifier_certificates::Entity::update_many()
        .col_expr(
            verifier_certificates::Column::Chain,
            sea_orm::sea_query::Expr::value(chain.pem()),
        )
        .col_expr(
            verifier_certificates::Column::ActivatedAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .filter(verifier_certificates::Column::Id.eq(id))
        .filter(verifier_certificates::Column::Chain.is_null())
        .exec(work.conn())
        .await?;
    if installed.rows_affected != 1 {
        return Err(CertificateError::Installed(id.to_owned()));
    }
    work.audit_by(principal, "verifier.certificate.install", id);
    work.commit().await?;
    view(openid, &principal.tenant_id, id).await
}

/// The institution's certificates, the newest first.
pub async fn list(
    openid: &OpenId,
    tenant_id: &str,
) -> Result<Vec<VerifierCertificate>, CertificateError> {
    let rows = rows(openid, tenant_id).await?;
    let active = active_id(&rows);
    rows.iter()
        .map(|row| describe(openid, row, active.as_deref()))
        .collect()
}

/// Certificate `id` of the institution.
pub async fn view(
    openid: &OpenId,
    tenant_id: &str,
    id: &str,
) -> Result<VerifierCertificate, CertificateError> {
    let rows = rows(openid, tenant_id).await?;
    let active = active_id(&rows);
    let row = rows
        .iter()
        .find(|r| r.id == id)
        .ok_or_else(|| CertificateError::NotFound(id.to_owned()))?;
    describe(openid, row, active.as_deref())
}

/// The certificate the institution's requests named by X.509 are signed under now: the
/// newest installed.
pub async fn active(
    openid: &OpenId,
    tenant_id: &str,
) -> Result<Option<Installed>, CertificateError> {
    let mut rows = rows(openid, tenant_id).await?;
    match active_id(&rows).and_then(|id| rows.iter().position(|r| r.id == id)) {
        Some(at) => installed(openid, rows.swap_remove(at)).map(Some),
        None => Ok(None),
    }
}

/// Installed certificate `id` (a request keeps the one it was signed under).
pub async fn by_id(openid: &OpenId, id: &str) -> Result<Installed, CertificateError> {
    let row = verifier_certificates::Entity::find_by_id(id)
        .one(&openid.db)
        .await?
        .ok_or_else(|| CertificateError::NotFound(id.to_owned()))?;
    installed(openid, row)
}

/// An installed certificate's row with its chain read and its key opened.
fn installed(
    openid: &OpenId,
    row: verifier_certificates::Model,
) -> Result<Installed, CertificateError> {
    let chain = Chain::from_pem(row.chain.as_deref().unwrap_or_default())
        .map_err(|e| anyhow::anyhow!("a stored verifier chain does not read: {e}"))?;
    Ok(Installed {
        signer: openid.custody.open(&row.key)?,
        id: row.id,
        dns_name: row.dns_name,
        chain,
    })
}

async fn find(
    openid: &OpenId,
    tenant_id: &str,
    id: &str,
) -> Result<verifier_certificates::Model, CertificateError> {
    verifier_certificates::Entity::find_by_id(id)
        .filter(verifier_certificates::Column::TenantId.eq(tenant_id))
        .one(&openid.db)
        .await?
        .ok_or_else(|| CertificateError::NotFound(id.to_owned()))
}

async fn rows(
    openid: &OpenId,
    tenant_id: &str,
) -> Result<Vec<verifier_certificates::Model>, sea_orm::DbErr> {
    verifier_certificates::Entity::find()
        .filter(verifier_certificates::Column::TenantId.eq(tenant_id))
        .order_by_desc(verifier_certificates::Column::CreatedAt)
        .all(&openid.db)
        .await
}

fn active_id(rows: &[verifier_certificates::Model]) -> Option<String> {
    rows.iter()
        .filter(|r| r.chain.is_some())
        .max_by_key(|r| r.activated_at)
        .map(|r| r.id.clone())
}

fn describe(
    openid: &OpenId,
    row: &verifier_certificates::Model,
    active: Option<&str>,
) -> Result<VerifierCertificate, CertificateError> {
    let chain = row
        .chain
        .as_deref()
        .map(Chain::from_pem)
        .transpose()
        .map_err(|e| anyhow::anyhow!("a stored verifier chain does not read: {e}"))?;
    let csr = match &chain {
        None => Some(signing_request(
            openid.custody.open(&row.key)?.as_ref(),
            &row.dns_name,
        )?),
        Some(_) => None,
    };
    let status = match (&chain, active) {
        (None, _) => CertificateStatus::Pending,
        (Some(_), Some(id)) if id == row.id => CertificateStatus::Active,
        (Some(_), _) => CertificateStatus::Superseded,
    };
    Ok(VerifierCertificate {
        id: row.id.clone(),
        dns_name: row.dns_name.clone(),
        status,
        self_signed: row.self_signed,
        csr,
        client_ids: chain
            .as_ref()
            .map(|c| {
                vec![
                    format!("{}{}", x509::SAN_DNS_PREFIX, row.dns_name),
                    format!("{}{}", x509::HASH_PREFIX, c.leaf().hash()),
                ]
            })
            .unwrap_or_default(),
        not_after: chain
            .as_ref()
            .and_then(|c| DateTime::from_timestamp(c.leaf().not_after(), 0).map(xsd_now)),
        chain: chain.as_ref().map(Chain::pem),
        created_at: xsd_now(row.created_at),
        activated_at: row.activated_at.map(xsd_now),
    })
}

/// The key's `SubjectPublicKeyInfo`: a P-256 point.
fn public_key_info(jwk: &JWK) -> anyhow::Result<SubjectPublicKeyInfoOwned> {
    let Params::EC(ec) = &jwk.params else {
        anyhow::bail!("a verifier certificate key is not an EC key");
    };
    let (Some(x), Some(y)) = (&ec.x_coordinate, &ec.y_coordinate) else {
        anyhow::bail!("a verifier certificate key has no point");
    };
    let mut point = vec![0x04];
    point.extend_from_slice(&x.0);
    point.extend_from_slice(&y.0);
    Ok(SubjectPublicKeyInfoOwned {
        algorithm: AlgorithmIdentifierOwned {
            oid: x509::EC_PUBLIC_KEY,
            parameters: Some(Any::encode_from(&x509::PRIME256V1)?),
        },
        subject_public_key: BitString::from_bytes(&point)?,
    })
}

fn ecdsa_with_sha256() -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid: x509::ECDSA_WITH_SHA256,
        parameters: None,
    }
}

/// `signer`'s ECDSA signature of `data`, DER-encoded as X.509 has it.
fn signature(signer: &dyn Signer, data: &[u8]) -> anyhow::Result<BitString> {
    let raw = signer.sign(data)?;
    let signature = Signature::from_slice(&raw)?;
    Ok(BitString::from_bytes(signature.to_der().as_bytes())?)
}

fn subject(dns_name: &str) -> anyhow::Result<Name> {
    Ok(Name::from_str(&format!("CN={dns_name}"))?)
}

fn subject_alt_name(subject: &Name, dns_name: &str) -> anyhow::Result<Extension> {
    let names = SubjectAltName(vec![GeneralName::DnsName(Ia5String::new(dns_name)?)]);
    Ok(names.to_extension(subject, &[])?)
}

/// A certificate `signer` issues itself for `dns_name`, valid from a minute before `now`
/// for [`SELF_SIGNED_DAYS`].
fn self_signed(signer: &dyn Signer, dns_name: &str, now: DateTime<Utc>) -> anyhow::Result<Vec<u8>> {
    let name = subject(dns_name)?;
    let from = u64::try_from(now.timestamp() - 60)?;
    let time = |secs: u64| -> anyhow::Result<Time> {
        Ok(Time::UtcTime(UtcTime::from_unix_duration(
            std::time::Duration::from_secs(secs),
        )?))
    };
    let mut serial: [u8; 16] = rand::random();
    serial[0] &= 0x7f;
    let extensions = vec![
        subject_alt_name(&name, dns_name)?,
        KeyUsage(KeyUsages::DigitalSignature.into()).to_extension(&name, &[])?,
        BasicConstraints {
            ca: false,
            path_len_constraint: None,
        }
        .to_extension(&name, &[])?,
    ];
    let tbs = TbsCertificate {
        version: x509_cert::Version::V3,
        serial_number: SerialNumber::new(&serial)?,
        signature: ecdsa_with_sha256(),
        issuer: name.clone(),
        validity: Validity {
            not_before: time(from)?,
            not_after: time(from + SELF_SIGNED_DAYS * 24 * 3600)?,
        },
        subject: name,
        subject_public_key_info: public_key_info(&signer.public_jwk())?,
        issuer_unique_id: None,
        subject_unique_id: None,
        extensions: Some(extensions),
    };
    let signature = signature(signer, &tbs.to_der()?)?;
    Ok(Certificate {
        tbs_certificate: tbs,
        signature_algorithm: ecdsa_with_sha256(),
        signature,
    }
    .to_der()?)
}

/// A certificate signing request (PKCS #10, PEM) of `signer`'s key for `dns_name`.
fn signing_request(signer: &dyn Signer, dns_name: &str) -> anyhow::Result<String> {
    let name = subject(dns_name)?;
    let extensions = ExtensionReq(vec![subject_alt_name(&name, dns_name)?]);
    let info = CertReqInfo {
        version: x509_cert::request::Version::V1,
        subject: name,
        public_key: public_key_info(&signer.public_jwk())?,
        attributes: SetOfVec::try_from(vec![extensions.try_into()?])?,
    };
    let signature = signature(signer, &info.to_der()?)?;
    let request = CertReq {
        info,
        algorithm: ecdsa_with_sha256(),
        signature,
    };
    Ok(x509::pem_block("CERTIFICATE REQUEST", &request.to_der()?))
}
