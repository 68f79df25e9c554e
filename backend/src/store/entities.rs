//! sea-orm entities, one module per table (see `migrations/`).

pub mod tenants {
    //! An institution: owner of DIDs, keys, API keys and credentials.
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "tenants")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub name: String,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod signing_keys {
    //! An issuer key: its DID, public JWK and the private JWK encrypted as a JWE.
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "signing_keys")]
    pub struct Model {
        /// The verification method id (DID URL).
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub tenant_id: String,
        pub did: String,
        /// JOSE algorithm: `EdDSA` or `ES256`.
        pub algorithm: String,
        pub public_jwk: String,
        /// Compact JWE (`dir`, `A256GCM`) of the private JWK under the master key.
        pub private_jwe: String,
        pub is_default: bool,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod api_keys {
    //! A bearer token for machines, stored as its SHA-256 only.
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "api_keys")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub tenant_id: String,
        /// Hex SHA-256 of the token.
        #[sea_orm(unique)]
        pub token_hash: String,
        /// Comma-separated scopes.
        pub scopes: String,
        pub label: Option<String>,
        pub created_at: DateTimeUtc,
        pub revoked_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod issued_credentials {
    //! The record of an issuance: identifiers and metadata, and the text of its
    //! non-personal claims for search; never a personal claim's value.
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "issued_credentials")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub tenant_id: String,
        /// The credential's `id` (a random `urn:uuid:`).
        #[sea_orm(unique)]
        pub credential_id: String,
        /// JSON array of the credential's types.
        pub types: String,
        pub issuer: String,
        pub format: String,
        pub issued_at: DateTimeUtc,
        /// Hex commitment anchored on the chain (see `credential::commitment`).
        pub commitment: Option<String>,
        /// The API key that issued it (the "issuing user" of bulk status changes).
        pub issued_by: Option<String>,
        /// Its Bitstring Status List entries: the revocation and suspension lists, which
        /// share one index.
        pub revocation_list: Option<String>,
        pub suspension_list: Option<String>,
        pub status_index: Option<i64>,
        pub revoked_at: Option<DateTimeUtc>,
        pub suspended_at: Option<DateTimeUtc>,
        /// The public reason code of the last status change (`status::Reason`).
        pub status_reason: Option<String>,
        /// HMAC of the columns fixed at issuance ([`crate::issued::RecordSeal`]).
        pub seal: Option<String>,
        /// The values of its non-personal claims, case-folded, one per line, for search
        /// ([`crate::issued::claim_text`]); none for a credential issued openly.
        pub claim_text: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod ledger_genesis {
    //! The chain's genesis document (JSON), one row.
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "ledger_genesis")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub chain_id: String,
        pub document: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod ledger_blocks {
    //! A sealed block's header and signatures (JSON); transactions are rows of `ledger_transactions`.
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "ledger_blocks")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub height: i64,
        /// Hex header hash.
        #[sea_orm(unique)]
        pub hash: String,
        pub header: String,
        pub signatures: String,
        /// On a consortium chain, the consensus round the signatures voted in (JSON).
        pub finality: Option<String>,
        pub tx_count: i64,
        pub time_ms: i64,
        /// The transaction tree's chunk roots (`merkle::Tree::chunk_roots`), 32 bytes
        /// each, so a receipt reads one chunk of transactions instead of the block.
        pub chunk_roots: Vec<u8>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod ledger_transactions {
    //! A transaction of a sealed block, in its canonical encoding.
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "ledger_transactions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub block_height: i64,
        #[sea_orm(primary_key, auto_increment = false)]
        pub position: i64,
        /// The transaction's kind byte (`ledger::transaction::Kind`), for lookups by kind.
        pub kind: i16,
        pub data: Vec<u8>,
        /// Hex commitment of a credential anchor, for lookups.
        pub commitment: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        /// The block that holds the transaction (read with it for a receipt).
        #[sea_orm(
            belongs_to = "super::ledger_blocks::Entity",
            from = "Column::BlockHeight",
            to = "super::ledger_blocks::Column::Height"
        )]
        Block,
    }

    impl Related<super::ledger_blocks::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Block.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod ledger_outbox {
    //! A transaction waiting for the next block, written with what it anchors.
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "ledger_outbox")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub data: Vec<u8>,
        pub commitment: Option<String>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod node_keys {
    //! Keys of this node (not of a tenant), e.g. its validator key.
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "node_keys")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub purpose: String,
        /// Hex public key.
        pub public_key: String,
        /// Compact JWE of the private key under the master key.
        pub private_jwe: String,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod audit_outbox {
    //! An audit entry waiting to be chained: who did what to which record — identifiers
    //! only, never personal data.
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "audit_outbox")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub tenant_id: String,
        /// The API key (or `system`) that acted.
        pub actor: String,
        /// What happened, e.g. `credential.issue`.
        pub action: String,
        /// The record acted on, e.g. a credential id.
        pub subject: String,
        pub at_ms: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod audit_log {
    //! The audit log's hash chain: each entry at its position with its chained hash.
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "audit_log")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub position: i64,
        pub tenant_id: String,
        pub actor: String,
        pub action: String,
        pub subject: String,
        pub at_ms: i64,
        /// Hex hash of the entry chained to the previous one.
        pub hash: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod status_lists {
    //! A Bitstring Status List: its current bits and latest published version. Lists come
    //! in pairs (revocation and suspension) sharing their indexes.
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "status_lists")]
    pub struct Model {
        /// The list's id: the last segment of its URL (`/status/{id}`).
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub tenant_id: String,
        /// The DID that signs the list (the issuer of its credentials).
        pub issuer: String,
        /// `revocation` or `suspension`.
        pub purpose: String,
        /// The other list of the pair.
        pub partner: String,
        /// The bits (`status::list::StatusBits`), uncompressed.
        pub bits: Vec<u8>,
        /// The latest published version (1 on creation).
        pub version: i64,
        /// Whether new credentials still get entries in this list.
        pub open: bool,
        pub created_at: DateTimeUtc,
        /// The process that hands out indexes of this open pair (on its revocation list
        /// only), until `lease_until_ms` (Unix milliseconds).
        pub leased_by: Option<String>,
        pub lease_until_ms: Option<i64>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod status_list_versions {
    //! One published version of a status list: the signed credential exactly as served,
    //! and its hash, which the chain anchors.
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "status_list_versions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub list_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub version: i64,
        /// Hex hash of `credential`'s bytes (`ledger::transaction::status_list_hash`).
        pub hash: String,
        /// The signed BitstringStatusListCredential (JSON), byte for byte as served.
        pub credential: String,
        pub published_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod verification_policies {
    //! A named verification policy (`certus_schemas::wire::VerificationPolicy` as JSON),
    //! readable by anyone, changed only by the tenant that stored it.
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "verification_policies")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub name: String,
        pub tenant_id: String,
        pub document: String,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod did_operations {
    //! A signed `did:certus` operation, by DID and sequence (see `did::certus`).
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "did_operations")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub did: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub sequence: i64,
        /// The tenant that controls the DID.
        pub tenant_id: String,
        /// The compact JWS, exactly as anchored.
        pub operation: String,
        /// Hex `did::certus::operation_hash`: the chain commitment.
        #[sea_orm(unique)]
        pub hash: String,
        /// When it was accepted, in milliseconds.
        pub at_ms: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod credential_types {
    //! One version of a credential type (see `types`); `schema` and `context` are the
    //! documents as published.
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "credential_types")]
    pub struct Model {
        /// `NAME/vVERSION`.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub name: String,
        pub version: i32,
        /// The defining tenant; `None` for the bundled types.
        pub tenant_id: Option<String>,
        pub schema: String,
        /// Hex SHA-256 of `schema`.
        pub schema_hash: String,
        pub context_url: String,
        pub context: String,
        pub created_by: String,
        pub created_at_ms: i64,
        pub retired_at_ms: Option<i64>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod schema_registrations {
    //! A credential type's schema registered on the chain by the root authority.
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "schema_registrations")]
    pub struct Model {
        /// Hex SHA-256 of the published schema file.
        #[sea_orm(primary_key, auto_increment = false)]
        pub hash: String,
        pub name: String,
        pub at_ms: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod trust_statements {
    //! A trust-registry statement (see `trust`), indexed; `statement` is the signed JWS as
    //! anchored.
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "trust_statements")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// `accreditation`, `delegation` or `revocation`.
        pub kind: String,
        /// `root`, or the DID that granted it.
        pub grantor: String,
        pub subject: Option<String>,
        /// The tenant that granted a delegation.
        pub tenant_id: Option<String>,
        /// JSON array of hex schema hashes.
        pub schemas: String,
        pub valid_from_ms: i64,
        pub valid_until_ms: Option<i64>,
        pub max_count: Option<i64>,
        /// The accreditation a delegation derives from; the statement a revocation revokes.
        pub parent: Option<String>,
        pub revoked_at_ms: Option<i64>,
        pub statement: String,
        pub at_ms: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod users {
    //! A person who signs in to the portal, with one role in one institution.
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "users")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub tenant_id: String,
        /// Lower-cased; unique across institutions, as it is the sign-in name.
        #[sea_orm(unique)]
        pub email: String,
        pub name: String,
        /// `admin`, `certifier` or `auditor`.
        pub role: String,
        /// Argon2id PHC string.
        pub password_hash: String,
        /// Still the one-time password it was created with.
        pub must_change_password: bool,
        pub created_at: DateTimeUtc,
        pub disabled_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(has_many = "super::sessions::Entity")]
        Sessions,
    }

    impl Related<super::sessions::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Sessions.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod sessions {
    //! A browser session, stored as the SHA-256 of its cookie token.
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "sessions")]
    pub struct Model {
        /// Hex SHA-256 of the cookie token.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub user_id: String,
        pub tenant_id: String,
        /// Sent back by the page as `X-CSRF-Token` on every change.
        pub csrf_token: String,
        pub created_at: DateTimeUtc,
        pub expires_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "super::users::Entity",
            from = "Column::UserId",
            to = "super::users::Column::Id"
        )]
        User,
    }

    impl Related<super::users::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::User.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod credential_copies {
    //! The copies of one credential a wallet received at once (batch issuance), each bound
    //! to another of its keys: a status change of one applies to them all.
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "credential_copies")]
    pub struct Model {
        /// A copy's credential id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub credential_id: String,
        /// The first copy's credential id, shared by every copy.
        pub batch_id: String,
        pub tenant_id: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod credential_offers {
    //! An OpenID4VCI credential offer (pre-authorized code flow): the unsigned credential
    //! waits, encrypted, until the holder's wallet redeems it with a key of its own.
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "credential_offers")]
    pub struct Model {
        /// Random public id; the offer is fetched at `/openid4vci/offers/{id}`.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub tenant_id: String,
        pub credential_type: String,
        /// Wire name of the securing format (`dc+sd-jwt`, `vc+jwt`, `ldp_vc`).
        pub format: String,
        /// Compact JWE under the master key of the credential and its options; cleared
        /// once redeemed.
        pub document: Option<String>,
        /// Hex SHA-256 of the offer's code: the pre-authorized code, or for the
        /// authorization code flow the `issuer_state` (see `grant_type`).
        #[sea_orm(unique, column_name = "pre_authorized_code")]
        pub code: String,
        /// Hex SHA-256 of the transaction code, when one is required.
        pub tx_code: Option<String>,
        pub failed_tx_codes: i32,
        /// Hex SHA-256 of the access token the token endpoint gave out.
        #[sea_orm(unique)]
        pub access_token: Option<String>,
        pub access_token_expires_at: Option<DateTimeUtc>,
        /// The JWK thumbprint of the wallet key the access token is bound to by DPoP
        /// (RFC 9449); none for a bearer token.
        pub access_token_jkt: Option<String>,
        pub created_by: String,
        pub created_at: DateTimeUtc,
        pub expires_at: DateTimeUtc,
        pub redeemed_at: Option<DateTimeUtc>,
        /// The credential issued on redemption (the first copy of a batch).
        pub credential_id: Option<String>,
        /// The data subject whose key seals `document` (`privacy`).
        pub subject_id: Option<String>,
        /// The grant the offer is redeemed through: the pre-authorized code grant, or
        /// `authorization_code`.
        pub grant_type: String,
        /// Hex SHA-256 of the `notification_id` given with the credential.
        pub notification_id: Option<String>,
        /// The last event the wallet notified (`credential_accepted`,
        /// `credential_failure`, `credential_deleted`), and when.
        pub notification_event: Option<String>,
        pub notified_at: Option<DateTimeUtc>,
        /// How many copies of the credential the wallet received, each bound to another of
        /// its keys (batch issuance).
        pub copies: Option<i32>,
        /// For an offer issued once the institution approves (deferred issuance):
        /// `required`, then `approved` or `refused`.
        pub approval: Option<String>,
        /// Hex SHA-256 of the deferred request's `transaction_id`.
        pub transaction_id: Option<String>,
        /// The deferred request, kept until the credential is collected (JSON: the holder
        /// keys' DIDs and the configuration asked for).
        pub deferred_request: Option<String>,
        /// When the wallet asked for the credential of an offer that needs approval.
        pub requested_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod authorization_requests {
    //! An authorization request a wallet pushed (RFC 9126) to redeem an offer through the
    //! authorization code flow, and the one-time code given for it once the holder
    //! entered the offer's code on the issuer's page.
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "authorization_requests")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub offer_id: String,
        /// Hex SHA-256 of the random part of the `request_uri`.
        #[sea_orm(unique)]
        pub request_uri: String,
        pub client_id: String,
        pub redirect_uri: String,
        /// The wallet's `state`, given back with the code.
        pub state: Option<String>,
        /// The PKCE challenge (S256).
        pub code_challenge: String,
        /// The JWK thumbprint of the key the wallet's DPoP proof used (RFC 9449 §10):
        /// the token must be asked for with a proof by that key.
        pub dpop_jkt: Option<String>,
        pub created_at: DateTimeUtc,
        /// Until when the request can be opened, and once opened its page answered.
        pub expires_at: DateTimeUtc,
        /// When the holder's browser first opened the authorization page.
        pub opened_at: Option<DateTimeUtc>,
        /// Hex SHA-256 of the authorization code.
        #[sea_orm(unique)]
        pub code: Option<String>,
        pub code_expires_at: Option<DateTimeUtc>,
        pub code_used_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod openid_nonces {
    //! A one-time `c_nonce` of the nonce endpoint, consumed by the proof that uses it.
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "openid_nonces")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub nonce: String,
        pub expires_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod presentation_requests {
    //! An OpenID4VP request of a verifier, answered once by a wallet (`direct_post`).
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "presentation_requests")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub tenant_id: String,
        pub created_by: String,
        /// The verifier's client identifier (`decentralized_identifier:<DID>`).
        pub client_id: String,
        pub nonce: String,
        pub state: String,
        /// JSON: the DCQL query, purpose and policy (`RequestTerms`).
        pub query: String,
        /// The signed request object (JWT) the wallet fetches.
        pub request_object: String,
        pub created_at: DateTimeUtc,
        pub expires_at: DateTimeUtc,
        /// `pending`, `accepted`, `rejected` or `declined`.
        pub status: String,
        pub answered_at: Option<DateTimeUtc>,
        /// Compact JWE under the master key of the outcome (it holds disclosed claims).
        pub result: Option<String>,
        /// For a `direct_post.jwt` request until it is answered: the private key (JWK) its
        /// answer is encrypted to, sealed under the master key.
        pub response_key: Option<String>,
        /// For a request of a verifier named by its X.509 certificate (`x509_san_dns`,
        /// `x509_hash`): the certificate it is signed under.
        pub certificate_id: Option<String>,
        /// For a request with a `redirect_uri` once answered: the hash of the one-time
        /// `response_code` the holder's browser brings back to the verifier's page, until
        /// the verifier redeems it.
        pub response_code: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod consent_receipts {
    //! What a holder agreed to disclose to a verifier: claim names, never values.
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "consent_receipts")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub tenant_id: String,
        #[sea_orm(unique)]
        pub request_id: String,
        /// The receipt as JSON.
        pub document: String,
        /// Hex SHA-256 of `document`.
        pub hash: String,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod reliance_records {
    //! The reliance register: one row per accepted reuse of another institution's KYC.
    //! No personal data: institutions, the check's strength and date, a receipt's hash.
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "reliance_records")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// The relying institution.
        pub tenant_id: String,
        pub request_id: String,
        pub relying_party: String,
        pub relying_institution: String,
        pub kyc_issuer: String,
        pub assurance_level: String,
        pub check_date: Option<String>,
        pub relied_at: DateTimeUtc,
        pub consent_receipt_hash: String,
        pub policy_id: Option<String>,
        /// The record as signed by the relying institution.
        pub jws: String,
        /// Hex commitment anchored on the chain.
        pub commitment: String,
        /// Whether the holder let the institution be told of status changes.
        pub notifications: bool,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod status_watches {
    //! A status entry of a relied-on credential, watched for its relying institution
    //! because the holder allowed it.
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "status_watches")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub tenant_id: String,
        pub reliance_id: String,
        /// The status list credential's URL, as in the credential.
        pub list_url: String,
        pub status_index: i64,
        /// `revocation` or `suspension`.
        pub purpose: String,
        /// For an entry of a list another member serves: whether its bit was set when
        /// the chain last showed a version of the list (what the institution was told).
        pub observed: bool,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod reliance_register {
    //! The reliance notices final on the chain, whichever member relied: what a KYC
    //! issuer's counts and the regulator's register are read from.
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "reliance_register")]
    pub struct Model {
        /// Hex hash of the reliance record the notice is of.
        #[sea_orm(primary_key, auto_increment = false)]
        pub record: String,
        /// Where the chain holds the notice.
        pub height: i64,
        pub position: i64,
        /// The block's time (Unix milliseconds).
        pub time_ms: i64,
        pub relying_party: String,
        pub relying_institution: String,
        pub kyc_issuer: String,
        pub assurance_level: String,
        /// `YYYY-MM`.
        pub month: String,
        /// The notice as its relying institution signed it.
        pub jws: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod webhooks {
    //! Where a tenant is told of status changes of credentials it relies on.
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "webhooks")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: String,
        pub url: String,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod institution_settings {
    //! What an institution allows beyond the server profile's defaults (`None`: the default).
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "institution_settings")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: String,
        pub open_issuance: Option<bool>,
        /// Whether wallets must bind access tokens by DPoP (`None`: not required).
        pub require_dpop: Option<bool>,
        /// Whether proofs must carry a key attestation (`None`: not required).
        pub require_key_attestation: Option<bool>,
        /// Whether wallets must authenticate with a wallet attestation (`None`: not
        /// required).
        pub require_wallet_attestation: Option<bool>,
        /// PEM: the root certificates of the wallet providers trusted to attest keys and
        /// wallets.
        pub wallet_providers: Option<String>,
        pub updated_by: String,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod webhook_deliveries {
    //! The outbox of webhook events: written in the transaction of the status change that
    //! causes them, delivered (and retried) by a background task.
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "webhook_deliveries")]
    pub struct Model {
        /// The event's `jti`.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub tenant_id: String,
        pub reliance_id: String,
        /// `suspended`, `reinstated` or `revoked`.
        pub event: String,
        pub url: String,
        /// The event's claims (JSON), signed when sent.
        pub payload: String,
        /// `pending`, `delivered` or `failed`.
        pub state: String,
        pub attempts: i32,
        pub next_attempt_at: DateTimeUtc,
        pub last_error: Option<String>,
        pub created_at: DateTimeUtc,
        pub delivered_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod tenant_keys {
    //! A tenant's vault key: it wraps the tenant's data-subject keys, and is itself a
    //! compact JWE under the node's master key.
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "tenant_keys")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: String,
        pub wrapped_key: String,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod data_subjects {
    //! A person some of a tenant's records are about, with the key their records are
    //! encrypted under (wrapped by the tenant's key; gone once erased).
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "data_subjects")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub tenant_id: String,
        /// Keyed hash of the institution's reference for the person; cleared on erasure.
        pub reference_hash: Option<String>,
        /// Hex salted hash naming the subject in an anchored erasure receipt.
        #[sea_orm(unique)]
        pub tag: String,
        /// Compact JWE of the subject's key under the tenant's key; `None` once erased.
        pub wrapped_key: Option<String>,
        pub created_at: DateTimeUtc,
        pub erased_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod personal_records {
    //! One encrypted piece of personal data: a JWE under its subject's key.
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "personal_records")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub tenant_id: String,
        pub subject_id: String,
        /// `certus_schemas::privacy::RecordKind`.
        pub kind: String,
        pub credential_id: Option<String>,
        pub credential_type: Option<String>,
        /// Hex salted hash naming the record in an anchored erasure receipt.
        #[sea_orm(unique)]
        pub tag: String,
        /// Compact JWE (`dir`, `A256GCM`) under the subject's key; `None` once erased.
        pub jwe: Option<String>,
        pub created_at: DateTimeUtc,
        pub erased_at: Option<DateTimeUtc>,
        /// The erasure (its receipt id) that erased it.
        pub erased_by: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod erasures {
    //! An erasure: its signed receipt and the receipt's hash, anchored on the chain.
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "erasures")]
    pub struct Model {
        /// The receipt's id (`urn:uuid:…`).
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub tenant_id: String,
        pub subject_id: String,
        /// `request` or `retention`.
        pub reason: String,
        pub records: i64,
        /// The receipt as signed (`erasure-receipt+jwt`).
        pub receipt: String,
        /// Hex hash of the receipt, anchored.
        pub commitment: String,
        pub erased_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod retention_rules {
    //! An institution's own retention period for a credential type.
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "retention_rules")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub credential_type: String,
        /// ISO 8601 duration.
        pub period: String,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod mandate_uses {
    //! How many credentials of a type a sub-issuer issued under a mandate: counted in the
    //! recording transaction, so processes sharing the database never issue past the
    //! mandate's `maxCount`.
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "mandate_uses")]
    pub struct Model {
        /// The delegation statement's id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub mandate: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub credential_type: String,
        pub used: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod cache_epochs {
    //! A counter per cached table, raised in the transaction of every change to it, so
    //! every process sharing the database reloads what it cached ([`crate::coherence`]).
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "cache_epochs")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub name: String,
        pub epoch: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod verifier_certificates {
    //! A certificate key of an institution as a verifier: the chain its CA returned for
    //! the key (or a self-signed certificate), and the DNS name it certifies. The newest
    //! activated one signs the institution's requests named by X.509.
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "verifier_certificates")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub tenant_id: String,
        pub dns_name: String,
        /// The private key, sealed under the master key or held in the token.
        pub key: String,
        /// PEM: the chain, the certificate of the key first; none while the CA works.
        pub chain: Option<String>,
        pub self_signed: bool,
        pub created_by: String,
        pub created_at: DateTimeUtc,
        pub activated_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
