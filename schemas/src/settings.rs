//! An institution's settings: what it allows beyond the server profile's defaults.

use serde::{Deserialize, Serialize};
#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// `GET /settings` and `PUT /settings` response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct InstitutionSettings {
    /// Whether `POST /credentials/issue` also issues credentials of no registered type
    /// (open issuance): any well-formed credential whose contexts are bundled or registered
    /// and whose terms are all defined. A credential of a registered type is checked
    /// against its schema either way.
    pub open_issuance: bool,
    /// Where `openIssuance` comes from: the institution's own choice, or the server
    /// profile's default.
    pub open_issuance_source: SettingSource,
    /// Whether wallets must bind their access tokens to a key of theirs by DPoP (RFC 9449)
    /// to receive this institution's offers, as HAIP requires: a token request without a
    /// proof is refused. Off by default: wallets of the pre-authorized flow that send no
    /// proof are still served.
    #[serde(default)]
    pub require_dpop: bool,
    /// Whether a wallet's proof of possession must carry a key attestation (OpenID4VCI 1.0
    /// Annex D) by a wallet provider the institution trusts. Off by default: an attestation
    /// that comes is checked all the same.
    #[serde(default)]
    pub require_key_attestation: bool,
    /// Whether a wallet must authenticate at the pushed authorization and token endpoints
    /// with a wallet attestation (OpenID4VCI 1.0 Annex E: the `OAuth-Client-Attestation`
    /// and `-PoP` headers) by a wallet provider the institution trusts. Off by default: an
    /// attestation that comes is checked all the same.
    #[serde(default)]
    pub require_wallet_attestation: bool,
    /// PEM: the root certificates of the wallet providers whose key and wallet
    /// attestations the institution trusts (an attestation's `x5c` chain must lead to one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wallet_providers: Option<String>,
    /// The server profile (`standard`, or `open` for integrators and test suites), whose
    /// defaults apply where the institution has not chosen.
    pub profile: String,
}

/// Where a setting's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum SettingSource {
    /// Set by the institution's admin (`PUT /settings`).
    Institution,
    /// The server profile's default.
    Profile,
}

/// `PUT /settings` body: the institution's own choices. A setting absent or `null` follows
/// the server profile's default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SettingsChoice {
    /// Allow open issuance (see [`InstitutionSettings::open_issuance`]).
    #[serde(default)]
    pub open_issuance: Option<bool>,
    /// Require DPoP-bound access tokens (see [`InstitutionSettings::require_dpop`]); absent
    /// or `null`: not required.
    #[serde(default)]
    pub require_dpop: Option<bool>,
    /// Require key attestations (see [`InstitutionSettings::require_key_attestation`]);
    /// absent or `null`: not required.
    #[serde(default)]
    pub require_key_attestation: Option<bool>,
    /// Require wallet attestations (see
    /// [`InstitutionSettings::require_wallet_attestation`]); absent or `null`: not required.
    #[serde(default)]
    pub require_wallet_attestation: Option<bool>,
    /// The wallet providers' root certificates, PEM (see
    /// [`InstitutionSettings::wallet_providers`]); absent or `null`: none.
    #[serde(default)]
    pub wallet_providers: Option<String>,
}
