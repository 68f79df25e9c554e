//! The consensus engine's side: commonware's runtime, its authenticated network between the
//! genesis's members, and simplex, on a thread of their own (the engine's runtime owns its
//! executor). Everything the engine asks of the application — a proposal, a verdict, a
//! broadcast, a finalisation — becomes an [`Event`] for the node task ([`super::node`]) on
//! the server's runtime; what the node sends to peers comes back as [`Outgoing`]. Both
//! directions are Tokio channels, which work across runtimes.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use commonware_actor::Feedback;
use commonware_codec::DecodeExt;
use commonware_consensus::simplex::{
    self, elector::RoundRobin, scheme::ed25519::Scheme, types::Activity, types::Context, Plan,
};
use commonware_consensus::types::{Epoch, ViewDelta};
use commonware_consensus::{Automaton, CertifiableAutomaton, Relay, Reporter};
use commonware_cryptography::sha256::{Digest as Sha256Digest, Sha256};
use commonware_cryptography::{ed25519, ChaCha20Poly1305};
use commonware_p2p::authenticated::lookup;
use commonware_p2p::{Address, AddressableManager as _, Receiver as _, Recipients, Sender as _};
use commonware_parallel::Sequential;
use commonware_runtime::buffer::paged::CacheRef;
use commonware_runtime::{
    tokio as runtime, IoBuf, Quota, Runner as _, Spawner as _, Supervisor as _,
};
use commonware_stream::cups::{self, Cups};
use commonware_stream::sake::{self, Sake};
use commonware_utils::channel::oneshot;
use commonware_utils::ordered::{Map, Set};
use commonware_utils::{NZDuration, NZUsize, NZU16, NZU32};
use tokio::sync::mpsc;

use crate::ledger::block::{consensus_namespace, BlockSignature, Finality, Genesis, ValidatorKey};
use crate::ledger::hash::Digest;

/// The channels between members: simplex's three, then Certus's own.
const VOTES: u64 = 0;
const CERTIFICATES: u64 = 1;
const RESOLVER: u64 = 2;
/// Proposed blocks, from their proposer to every validator.
pub const BLOCKS: u64 = 3;
/// Heads, and finalised blocks for a node catching up.
pub const SYNC: u64 = 4;
/// Transactions waiting for a block, so that every leader can include them.
pub const MEMPOOL: u64 = 5;

/// Largest message between members: a proposed block or a batch of finalised ones.
pub const MAX_MESSAGE: u32 = 32 << 20;

/// What the engine (or a peer) asks of the node.
#[derive(Debug)]
pub enum Event {
    /// Build a block on `parent` (a header hash) and answer its hash; dropping `respond`
    /// declines.
    Propose {
        parent: Digest,
        respond: oneshot::Sender<Sha256Digest>,
    },
    /// Is the block `payload`, built on `parent`, valid? Answer once known.
    Verify {
        parent: Digest,
        payload: Digest,
        respond: oneshot::Sender<bool>,
    },
    /// Send the block `payload` to `to` (`None`: every validator).
    Broadcast {
        payload: Digest,
        to: Option<Vec<ValidatorKey>>,
    },
    /// The block `payload` is final with these votes.
    Finalized {
        payload: Digest,
        finality: Finality,
        votes: Vec<BlockSignature>,
    },
    /// A message from a peer on one of Certus's channels.
    Message {
        channel: u64,
        from: ValidatorKey,
        bytes: Vec<u8>,
    },
}

/// A message for peers (`to: None`: every validator).
#[derive(Debug)]
pub struct Outgoing {
    pub channel: u64,
    pub to: Option<Vec<ValidatorKey>>,
    pub bytes: Vec<u8>,
}

/// How the engine thread is set up.
pub struct Setup {
    pub genesis: Genesis,
    /// The validator key's 32 secret bytes (this node's identity and vote key).
    pub secret: zeroize::Zeroizing<[u8; 32]>,
    pub listen: SocketAddr,
    /// The members' resolved peer addresses, by key.
    pub peers: Vec<(ValidatorKey, SocketAddr)>,
    /// The engine's journal (votes it cast, so a restart never equivocates).
    pub storage: PathBuf,
    /// How long a leader has to propose before the view is skipped.
    pub leader_timeout: Duration,
}

/// Starts the engine on its own thread; events arrive on `events`, messages for peers
/// are taken from `outgoing`.
pub fn spawn(
    setup: Setup,
    events: mpsc::UnboundedSender<Event>,
    outgoing: mpsc::UnboundedReceiver<Outgoing>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("certus-consensus".into())
        .spawn(move || run(setup, events, outgoing))
}

fn to_validator(key: &ed25519::PublicKey) -> Option<ValidatorKey> {
    let bytes: [u8; 32] = key.as_ref().try_into().ok()?;
    ed25519_dalek::VerifyingKey::from_bytes(&bytes)
        .ok()
        .map(ValidatorKey)
}

fn to_engine(key: &ValidatorKey) -> Option<ed25519::PublicKey> {
    ed25519::PublicKey::decode(IoBuf::from(key.0.as_bytes().to_vec())).ok()
}

fn run(
    setup: Setup,
    events: mpsc::UnboundedSender<Event>,
    mut outgoing: mpsc::UnboundedReceiver<Outgoing>,
) {
    let Setup {
        genesis,
        secret,
        listen,
        peers,
        storage,
        leader_timeout,
    } = setup;
    let signer = match ed25519::PrivateKey::decode(IoBuf::from(secret.to_vec())) {
        Ok(signer) => signer,
        Err(e) => {
            tracing::error!(error = %e, "the validator key is not an Ed25519 key: consensus not started");
            return;
        }
    };
    let chain = &genesis.header.chain_id;
    let namespace = consensus_namespace(chain);
    let mut p2p_namespace = b"certus/p2p/v1/".to_vec();
    p2p_namespace.extend_from_slice(chain.as_str().as_bytes());
    let participants: Vec<ed25519::PublicKey> = genesis
        .validators
        .keys()
        .iter()
        .filter_map(to_engine)
        .collect();
    let Ok(participants) = Set::try_from(participants) else {
        tracing::error!("the genesis's validators are not distinct keys: consensus not started");
        return;
    };
    let addresses: Vec<(ed25519::PublicKey, Address)> = peers
        .iter()
        .filter_map(|(key, addr)| Some((to_engine(key)?, Address::Symmetric(*addr))))
        .collect();
    let Ok(addresses) = Map::try_from(addresses) else {
        tracing::error!("the peers' keys are not distinct: consensus not started");
        return;
    };
    let Some(scheme) = Scheme::signer(&namespace, participants.clone(), signer.clone()) else {
        tracing::error!("this node's key is not a validator of the genesis: consensus not started");
        return;
    };
    let genesis_digest = Sha256Digest(*genesis.header.hash().as_bytes());
    let config = runtime::Config::new()
        .with_storage_directory(storage)
        .with_worker_threads(2)
        .with_catch_panics(false);
    runtime::Runner::new(config).start(|context| async move {
        let handshake = Cups::<_, ChaCha20Poly1305>::new(
            Sake {
                signer: signer.clone(),
                synchrony_bound: Duration::from_secs(5),
                max_handshake_age: Duration::from_secs(10),
                version: sake::Version::V1,
            },
            cups::Version::V1,
        );
        let p2p = lookup::Config::local(
            handshake,
            &p2p_namespace,
            listen,
            NZUsize!(participants.len().max(1)),
            MAX_MESSAGE,
            NZUsize!(4096),
        );
        let (mut network, mut oracle) = lookup::Network::new(context.child("network"), p2p);
        let _ = oracle.track(0, addresses);
        let consensus_rate = Quota::per_second(NZU32!(10_000));
        let votes = network.register(VOTES, consensus_rate);
        let certificates = network.register(CERTIFICATES, consensus_rate);
        let resolver = network.register(RESOLVER, consensus_rate);
        let (mut block_out, block_in) = network.register(BLOCKS, Quota::per_second(NZU32!(1_000)));
        let (mut sync_out, sync_in) = network.register(SYNC, Quota::per_second(NZU32!(1_000)));
        let (mut pool_out, pool_in) = network.register(MEMPOOL, Quota::per_second(NZU32!(1_000)));

        let mailbox = Mailbox {
            events: events.clone(),
            participants: participants.iter().filter_map(to_validator).collect(),
        };
        let engine = simplex::Engine::new(
            context.child("engine"),
            simplex::Config {
                scheme,
                elector: RoundRobin::<Sha256>::default(),
                blocker: oracle,
                automaton: mailbox.clone(),
                relay: mailbox.clone(),
                reporter: mailbox,
                track_historical_votes: false,
                strategy: Sequential,
                partition: "certus-consensus".into(),
                mailbox_size: NZUsize!(1024),
                epoch: Epoch::zero(),
                floor: simplex::Floor::Genesis(genesis_digest),
                replay_buffer: NZUsize!(1 << 20),
                write_buffer: NZUsize!(1 << 20),
                page_cache: CacheRef::new(NZU16!(16_384), NZUsize!(1_000)),
                leader_timeout,
                certification_timeout: leader_timeout * 2,
                timeout_retry: leader_timeout * 5,
                view_retention: ViewDelta::new(10),
                skip: simplex::SkipPolicy::Disabled,
                fetch_timeout: NZDuration!(Duration::from_secs(1)),
                fetch_retry_delay: Duration::from_millis(100),
                forward: simplex::ForwardPolicy::Disabled,
            },
        );
        network.start();
        engine.start(votes, certificates, resolver);

        // Certus's channels: what peers send goes to the node…
        for (channel, mut receiver) in [(BLOCKS, block_in), (SYNC, sync_in), (MEMPOOL, pool_in)] {
            let events = events.clone();
            context.child("receiver").spawn(move |_| async move {
                while let Ok((from, bytes)) = receiver.recv().await {
                    let Some(from) = to_validator(&from) else {
                        continue;
                    };
                    let message = Event::Message {
                        channel,
                        from,
                        bytes: bytes.as_ref().to_vec(),
                    };
                    if events.send(message).is_err() {
                        return;
                    }
                }
            });
        }
        // …and what the node sends goes to peers, until the node stops.
        while let Some(message) = outgoing.recv().await {
            let recipients = match message.to {
                None => Recipients::All,
                Some(keys) => Recipients::Some(keys.iter().filter_map(to_engine).collect()),
            };
            let sender = match message.channel {
                BLOCKS => &mut block_out,
                SYNC => &mut sync_out,
                MEMPOOL => &mut pool_out,
                _ => continue,
            };
            sender.send(recipients, message.bytes, false);
        }
        tracing::info!("consensus stopped");
    });
}

/// The application as the engine sees it: every call becomes an [`Event`].
#[derive(Clone)]
struct Mailbox {
    events: mpsc::UnboundedSender<Event>,
    /// The validators in the engine's order (a certificate names signers by index).
    participants: Vec<ValidatorKey>,
}

fn digest(d: &Sha256Digest) -> Digest {
    Digest::from_bytes(d.0)
}

impl Automaton for Mailbox {
    type Context = Context<Sha256Digest, ed25519::PublicKey>;
    type Digest = Sha256Digest;

    async fn propose(&mut self, context: Self::Context) -> oneshot::Receiver<Sha256Digest> {
        let (respond, answer) = oneshot::channel();
        let _ = self.events.send(Event::Propose {
            parent: digest(&context.parent.1),
            respond,
        });
        answer
    }

    async fn verify(
        &mut self,
        context: Self::Context,
        payload: Sha256Digest,
    ) -> oneshot::Receiver<bool> {
        let (respond, answer) = oneshot::channel();
        let _ = self.events.send(Event::Verify {
            parent: digest(&context.parent.1),
            payload: digest(&payload),
            respond,
        });
        answer
    }
}

/// Every verified block is certifiable: Certus has no check beyond [`Automaton::verify`].
impl CertifiableAutomaton for Mailbox {}

impl Relay for Mailbox {
    type Digest = Sha256Digest;
    type PublicKey = ed25519::PublicKey;
    type Plan = Plan<ed25519::PublicKey>;

    fn broadcast(&mut self, payload: Sha256Digest, plan: Self::Plan) -> Feedback {
        let to = match plan {
            Plan::Forward { recipients, .. } => match recipients {
                Recipients::All => None,
                Recipients::Some(keys) => Some(keys.iter().filter_map(to_validator).collect()),
                Recipients::One(key) => Some(to_validator(&key).into_iter().collect()),
            },
            _ => None,
        };
        let event = Event::Broadcast {
            payload: digest(&payload),
            to,
        };
        if self.events.send(event).is_ok() {
            Feedback::Ok
        } else {
            Feedback::Closed
        }
    }
}

impl Reporter for Mailbox {
    type Activity = Activity<Scheme, Sha256Digest>;

    fn report(&mut self, activity: Self::Activity) -> Feedback {
        let Activity::Finalization(finalization) = activity else {
            return Feedback::Ok;
        };
        let proposal = &finalization.proposal;
        let certificate = &finalization.certificate;
        let votes = certificate
            .signers
            .iter()
            .zip(&certificate.signatures)
            .filter_map(|(signer, signature)| {
                let validator = *self.participants.get(signer.get() as usize)?;
                let bytes: [u8; 64] = signature.get()?.as_ref().try_into().ok()?;
                Some(BlockSignature {
                    validator,
                    signature: ed25519_dalek::Signature::from_bytes(&bytes),
                })
            })
            .collect();
        let event = Event::Finalized {
            payload: digest(&proposal.payload),
            finality: Finality {
                epoch: proposal.round.epoch().get(),
                view: proposal.round.view().get(),
                parent: proposal.parent.get(),
                // The node sets the height once it knows the block.
                height: 0,
            },
            votes,
        };
        if self.events.send(event).is_ok() {
            Feedback::Ok
        } else {
            Feedback::Closed
        }
    }
}
