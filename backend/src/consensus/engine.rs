//! The consensus engine's side: commonware's runtime, its authenticated network between the
//! genesis's members, and simplex, on a thread of their own (the engine's runtime owns its
//! executor). Everything the engine asks of the application — a proposal, a verdict, a
//! broadcast, a finalisation — becomes an [`Event`] for the node task ([`super::node`]) on
//! the server's runtime; what the node sends to peers, and the epochs it enters, come back
//! as [`Command`]s. Both directions are Tokio channels, which work across runtimes.
//!
//! The network lives as long as the node; simplex runs one engine per epoch (its
//! validators, its journal), on sub-channels of the three consensus channels keyed by the
//! epoch's number, so that a member still finishing an epoch never mixes its votes with
//! the next one's.

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
use commonware_p2p::utils::mux::{MuxHandle, Muxer};
use commonware_p2p::{Address, AddressableManager as _, Receiver as _, Recipients, Sender as _};
use commonware_parallel::Sequential;
use commonware_runtime::buffer::paged::CacheRef;
use commonware_runtime::{
    tokio as runtime, Handle, IoBuf, Quota, Runner as _, Spawner as _, Supervisor as _,
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

/// What the node asks of the engine thread.
#[derive(Debug)]
pub enum Command {
    Send(Outgoing),
    /// From now on, run this epoch (the current one's engine stops).
    Enter(EpochPlan),
}

/// An epoch as the engine runs it.
#[derive(Debug, Clone)]
pub struct EpochPlan {
    pub number: u64,
    /// Its validators and their resolved peer addresses.
    pub validators: Vec<(ValidatorKey, SocketAddr)>,
    /// The header hash of the block before the epoch's first (the genesis's for epoch 0):
    /// what its first proposal builds on.
    pub floor: Digest,
}

/// How the engine thread is set up.
pub struct Setup {
    pub genesis: Genesis,
    /// The validator key's 32 secret bytes (this node's identity and vote key).
    pub secret: zeroize::Zeroizing<[u8; 32]>,
    pub listen: SocketAddr,
    /// The epoch the node's stored chain is in.
    pub epoch: EpochPlan,
    /// The engine's journals (votes it cast, so a restart never equivocates), one
    /// partition per epoch.
    pub storage: PathBuf,
    /// How long a leader has to propose before the view is skipped.
    pub leader_timeout: Duration,
}

/// Starts the engine on its own thread; events arrive on `events`, what the node asks is
/// taken from `commands`.
pub fn spawn(
    setup: Setup,
    events: mpsc::UnboundedSender<Event>,
    commands: mpsc::UnboundedReceiver<Command>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("certus-consensus".into())
        .spawn(move || run(setup, events, commands))
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
    mut commands: mpsc::UnboundedReceiver<Command>,
) {
    let Setup {
        genesis,
        secret,
        listen,
        epoch,
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
            NZUsize!(crate::ledger::epoch::MAX_MEMBERS),
            MAX_MESSAGE,
            NZUsize!(4096),
        );
        let (mut network, oracle) = lookup::Network::new(context.child("network"), p2p);
        // Each channel's mailbox is allocated to hold a burst from every peer of every
        // tracked set: bursts stay small so that it stays small.
        let consensus_rate = Quota::per_second(NZU32!(1_000)).allow_burst(NZU32!(64));
        let certus_rate = Quota::per_second(NZU32!(1_000)).allow_burst(NZU32!(32));
        let mut muxes = [VOTES, CERTIFICATES, RESOLVER].map(|channel| {
            let (sender, receiver) = network.register(channel, consensus_rate);
            let (muxer, handle) = Muxer::new(context.child("mux"), sender, receiver);
            muxer.start();
            handle
        });
        let (mut block_out, block_in) = network.register(BLOCKS, certus_rate);
        let (mut sync_out, sync_in) = network.register(SYNC, certus_rate);
        let (mut pool_out, pool_in) = network.register(MEMPOOL, certus_rate);
        network.start();

        let mut epochs = Epochs {
            context: context.child("epochs"),
            oracle,
            events: events.clone(),
            signer,
            namespace,
            leader_timeout,
            running: None,
        };
        epochs.enter(epoch, &mut muxes).await;

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
        while let Some(command) = commands.recv().await {
            let message = match command {
                Command::Send(message) => message,
                Command::Enter(plan) => {
                    epochs.enter(plan, &mut muxes).await;
                    continue;
                }
            };
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

type Network = lookup::Sender<ed25519::PublicKey, runtime::Context>;

/// Runs one simplex engine at a time, for the epoch the node's chain is in.
struct Epochs {
    context: runtime::Context,
    oracle: lookup::Oracle<ed25519::PublicKey>,
    events: mpsc::UnboundedSender<Event>,
    signer: ed25519::PrivateKey,
    namespace: Vec<u8>,
    leader_timeout: Duration,
    /// The epoch whose engine runs (none while this node is not one of its validators).
    running: Option<(u64, Handle<()>)>,
}

impl Epochs {
    /// Stops the running epoch's engine and, if this node is one of `plan`'s validators,
    /// starts the engine of `plan`'s epoch; either way its validators become the peers.
    async fn enter(&mut self, plan: EpochPlan, muxes: &mut [MuxHandle<Network>; 3]) {
        if let Some((number, engine)) = self.running.take() {
            engine.abort();
            tracing::info!(epoch = number, "consensus epoch ended");
        }
        let participants: Vec<ed25519::PublicKey> = plan
            .validators
            .iter()
            .filter_map(|(key, _)| to_engine(key))
            .collect();
        let addresses: Vec<(ed25519::PublicKey, Address)> = plan
            .validators
            .iter()
            .filter_map(|(key, addr)| Some((to_engine(key)?, Address::Symmetric(*addr))))
            .collect();
        let (Ok(participants), Ok(addresses)) =
            (Set::try_from(participants), Map::try_from(addresses))
        else {
            tracing::error!(
                epoch = plan.number,
                "the epoch's validators are not distinct keys: consensus not started"
            );
            return;
        };
        let _ = self.oracle.track(plan.number, addresses);
        let Some(scheme) =
            Scheme::signer(&self.namespace, participants.clone(), self.signer.clone())
        else {
            tracing::info!(
                epoch = plan.number,
                "this node is not a validator of the epoch: it follows the chain without voting"
            );
            return;
        };
        let mut channels = Vec::with_capacity(3);
        for mux in muxes.iter_mut() {
            match mux.register(plan.number).await {
                Ok(channel) => channels.push(channel),
                Err(e) => {
                    tracing::error!(epoch = plan.number, error = %e, "opening the epoch's channels failed: consensus not started");
                    return;
                }
            }
        }
        let [votes, certificates, resolver]: [_; 3] = match channels.try_into() {
            Ok(channels) => channels,
            Err(_) => return,
        };
        let mailbox = Mailbox {
            events: self.events.clone(),
            participants: participants.iter().filter_map(to_validator).collect(),
        };
        // Epoch 0 keeps the journal partition of nodes that ran before epochs existed.
        let partition = match plan.number {
            0 => "certus-consensus".to_owned(),
            n => format!("certus-consensus-{n}"),
        };
        let leader_timeout = self.leader_timeout;
        let engine = simplex::Engine::new(
            self.context.child("engine"),
            simplex::Config {
                scheme,
                elector: RoundRobin::<Sha256>::default(),
                blocker: self.oracle.clone(),
                automaton: mailbox.clone(),
                relay: mailbox.clone(),
                reporter: mailbox,
                track_historical_votes: false,
                strategy: Sequential,
                partition,
                mailbox_size: NZUsize!(1024),
                epoch: Epoch::new(plan.number),
                floor: simplex::Floor::Genesis(Sha256Digest(*plan.floor.as_bytes())),
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
        let handle = engine.start(votes, certificates, resolver);
        tracing::info!(
            epoch = plan.number,
            validators = plan.validators.len(),
            "consensus epoch started"
        );
        self.running = Some((plan.number, handle));
    }
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
