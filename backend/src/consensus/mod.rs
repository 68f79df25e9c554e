//! One chain, many institutions: a consortium's nodes agree on each block with commonware's
//! simplex BFT consensus (decision 19), and every node keeps and checks the whole chain.
//!
//! A node whose genesis names members ([`crate::ledger::block::Genesis::is_consortium`])
//! runs [`start`] instead of the single node's block producer:
//!
//! - [`engine`]: commonware's runtime, authenticated network and simplex engine, on a
//!   thread of their own;
//! - [`node`]: the application on the server's runtime — proposals from the outbox (and
//!   the peers' outboxes, shared so any leader anchors anyone's transactions), the checks
//!   before a vote, storing final blocks with their certificates, catching up from peers;
//! - [`wire`]: the messages members exchange besides the engine's.
//!
//! A block is final once more than two thirds of the validators voted to finalise it; its
//! certificate is those votes ([`crate::ledger::block::Finality`]), which anyone holding
//! the genesis can check.

mod engine;
mod node;
mod signed;
mod wire;

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::sync::{mpsc, watch};

use crate::keys::Custody;
use crate::ledger::block::{ValidatorKey, ValidatorSigner};
use crate::ledger::store::{self, Ledger};

pub use node::MAX_BLOCK_TRANSACTIONS;

/// What a consortium node knows of itself and its peers.
#[derive(Debug, Clone, Default)]
pub struct Status {
    /// This node's head.
    pub height: u64,
    /// Validators needed to finalise a block.
    pub quorum: usize,
    /// Every member, this node included.
    pub peers: Vec<Peer>,
}

impl Status {
    /// Whether this node and the peers it hears from are a quorum: blocks can be final.
    pub fn has_quorum(&self) -> bool {
        self.peers.iter().filter(|p| p.connected).count() >= self.quorum
    }
}

/// One member as a node sees it.
#[derive(Debug, Clone)]
pub struct Peer {
    pub name: String,
    pub key: ValidatorKey,
    pub address: String,
    /// Where its API answers, as it said (its `CERTUS_PUBLIC_URL`).
    pub public_url: Option<String>,
    /// Its head, as it last said (this node's own for itself).
    pub height: Option<u64>,
    /// Heard from within the last 3 seconds (always, for this node).
    pub connected: bool,
    pub this_node: bool,
}

/// A running consortium node's view of the consortium.
#[derive(Debug, Clone)]
pub struct Consortium {
    status: watch::Receiver<Status>,
    public_url: Arc<watch::Sender<Option<String>>>,
}

impl Consortium {
    pub fn status(&self) -> Status {
        self.status.borrow().clone()
    }

    /// Runs `follower` for as long as the node runs: once at start over the whole chain,
    /// then over the blocks final since its last pass whenever the head moved. A pass that
    /// fails is tried again, over the same blocks, at the node's next status (about a
    /// second later).
    pub fn follow(&self, mut follower: impl Follower) -> tokio::task::JoinHandle<()> {
        let mut heads = self.status.clone();
        tokio::spawn(async move {
            let mut followed = None;
            loop {
                let head = heads.borrow_and_update().height;
                if followed != Some(head) {
                    match follower.pass(followed).await {
                        Ok(()) => followed = Some(head),
                        Err(e) => {
                            tracing::warn!(error = %e, what = follower.what(), "following the chain")
                        }
                    }
                }
                // The status is published more often than blocks are final.
                if heads.changed().await.is_err() {
                    return;
                }
            }
        })
    }

    /// Tells the other members where this node's API answers (once it is bound).
    pub fn announce(&self, public_url: &str) {
        self.public_url
            .send_replace(Some(public_url.trim_end_matches('/').to_owned()));
    }
}

/// What a node does with what other members put on the shared chain, as it becomes final
/// (see [`Consortium::follow`]).
pub trait Follower: Send + 'static {
    /// What it follows, for the log.
    fn what(&self) -> &'static str;

    /// Takes what is final in the blocks after height `after` (`None`: every block).
    fn pass(
        &mut self,
        after: Option<u64>,
    ) -> impl std::future::Future<Output = anyhow::Result<()>> + Send;
}

/// The members' nodes are where their status lists are served: another member's list is
/// fetched only from a URL under a public URL that member announced.
impl crate::status::Members for Consortium {
    fn serving(&self, url: &str) -> Option<String> {
        self.status
            .borrow()
            .peers
            .iter()
            .find(|peer| {
                peer.public_url.as_deref().is_some_and(|base| {
                    url.strip_prefix(base)
                        .is_some_and(|rest| rest.starts_with("/status/"))
                })
            })
            .map(|peer| peer.name.clone())
    }
}

/// Starts consensus for `ledger`'s consortium: the engine on its own thread, the node on
/// this runtime. `listen` overrides where peers are listened for (default: this node's
/// address among the validators, or in the genesis); the engine keeps its journals under
/// `data_dir/consensus`. A node that is not one of the current validators (one a change
/// adds, while it syncs the chain up to that change) follows the chain without voting.
pub async fn start(
    ledger: Arc<Ledger>,
    db: &sea_orm::DatabaseConnection,
    custody: &Custody,
    data_dir: &Path,
    listen: Option<SocketAddr>,
    leader_timeout: Duration,
) -> anyhow::Result<Consortium> {
    let genesis = ledger.genesis().clone();
    let me = ledger
        .validator_key()
        .map(ValidatorSigner::validator)
        .context("this node has no validator key")?;
    let epoch = ledger.current_epoch();
    let member = epoch
        .members
        .iter()
        .chain(&genesis.members)
        .find(|m| m.validator == me);
    let listen = match (listen, member) {
        (Some(listen), _) => listen,
        (None, Some(member)) => resolve(&member.address)?,
        (None, None) => anyhow::bail!(
            "this node is not one of the consortium's validators yet: give it --p2p-listen, \
             the address its validator change names"
        ),
    };
    let plan = node::epoch_plan(&ledger, &epoch).await?;
    let secret = store::validator_secret(db, custody).await?;
    let storage = data_dir.join("consensus");
    std::fs::create_dir_all(&storage).with_context(|| format!("creating {}", storage.display()))?;
    let (events_in, events) = mpsc::unbounded_channel();
    let (commands, commands_out) = mpsc::unbounded_channel();
    let (status_in, status) = watch::channel(Status::default());
    let (public_url, announced) = watch::channel(None);
    let node = node::Node::new(ledger, me, commands, status_in, announced).await?;
    engine::spawn(
        engine::Setup {
            genesis: genesis.clone(),
            secret,
            listen,
            epoch: plan,
            storage,
            leader_timeout,
        },
        events_in,
        commands_out,
    )
    .context("starting the consensus thread")?;
    tokio::spawn(node.run(events));
    tracing::info!(
        chain = genesis.header.chain_id.as_str(),
        member = member.map_or("(joining)", |m| m.name.as_str()),
        %listen,
        epoch = epoch.number,
        validators = epoch.validators.keys().len(),
        "consortium node started"
    );
    Ok(Consortium {
        status,
        public_url: Arc::new(public_url),
    })
}

/// A member's `host:port`, resolved once at start.
fn resolve(address: &str) -> anyhow::Result<SocketAddr> {
    address
        .to_socket_addrs()
        .with_context(|| format!("resolving the peer address {address}"))?
        .next()
        .with_context(|| format!("the peer address {address} resolves to nothing"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::Members as _;

    #[test]
    fn lists_are_fetched_only_under_a_public_url_a_member_announced() {
        let peer = |public_url: Option<&str>| Peer {
            name: "member".into(),
            key: ValidatorKey(ed25519_dalek::SigningKey::from_bytes(&[1; 32]).verifying_key()),
            address: "127.0.0.1:7100".into(),
            public_url: public_url.map(str::to_owned),
            height: None,
            connected: true,
            this_node: false,
        };
        let status = Status {
            height: 0,
            quorum: 1,
            peers: vec![peer(Some("https://a.example/certus")), peer(None)],
        };
        let (_, status) = watch::channel(status);
        let consortium = Consortium {
            status,
            public_url: Arc::new(watch::channel(None).0),
        };
        let list = "0123456789abcdef0123456789abcdef";
        assert_eq!(
            consortium.serving(&format!("https://a.example/certus/status/{list}")),
            Some("member".to_owned())
        );
        for elsewhere in [
            format!("https://a.example/status/{list}"),
            format!("https://a.example/certus-other/status/{list}"),
            format!("http://10.0.0.1/status/{list}"),
            format!("https://a.example.evil/certus/status/{list}"),
        ] {
            assert_eq!(consortium.serving(&elsewhere), None, "{elsewhere}");
        }
    }
}
