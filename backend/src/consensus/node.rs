//! The node's side of consensus, on the server's runtime: it builds the blocks this node
//! proposes, checks every block a peer proposes before the engine votes for it, stores
//! each block once final with its certificate, keeps up with peers (their heads, the
//! blocks it missed) and shares its outbox so any leader can include its transactions.
//!
//! Blocks live in memory from proposal to finality (`unfinal`); only final ones reach the
//! database, through [`Ledger::append_final`], which re-checks them against the genesis.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;

use commonware_cryptography::sha256::Digest as Sha256Digest;
use commonware_utils::channel::oneshot;
use indexmap::IndexMap;
use tokio::sync::{mpsc, watch};

use super::engine::{Command, EpochPlan, Event, Outgoing, BLOCKS, MEMPOOL, SYNC};
use super::signed::{Registry, View};
use super::wire::{self, Pending, Sync};
use super::{Peer, Status};
use crate::ledger::block::{Block, BlockHeader, BlockSignature, Finality, ValidatorKey};
use crate::ledger::epoch::Epoch;
use crate::ledger::hash::Digest;
use crate::ledger::store::Ledger;
use crate::ledger::transaction::{Kind, Transaction};
use certus_credential::did::certus::At;

/// Most transactions in a consortium block: a proposal travels to every validator at once.
pub const MAX_BLOCK_TRANSACTIONS: u64 = 20_000;
/// Most blocks (and about how many transactions) in one answer to a node catching up.
const SYNC_BLOCKS: u64 = 256;
const SYNC_TRANSACTIONS: u64 = 50_000;
/// Most transactions from peers held waiting for a block.
const MAX_MEMPOOL: usize = 200_000;
/// Most blocks held between proposal and finality.
const MAX_UNFINAL: usize = 4_096;
/// A block timed further ahead of this node's clock is refused.
const MAX_CLOCK_SKEW_MS: i64 = 30_000;
/// A peer heard from within this long counts as connected.
const CONNECTED: Duration = Duration::from_secs(3);

/// Final blocks stored off the node task, so it goes on answering the engine meanwhile:
/// the new head (or why they were refused), the blocks, and the peer that sent them
/// (none for blocks decided here).
struct Stored {
    result: anyhow::Result<BlockHeader>,
    blocks: Vec<Block>,
    from: Option<ValidatorKey>,
}

/// A finalisation waiting for the blocks it covers.
struct Decided {
    payload: Digest,
    finality: Finality,
    votes: Vec<BlockSignature>,
}

pub struct Node {
    ledger: Arc<Ledger>,
    me: ValidatorKey,
    head: BlockHeader,
    unfinal: HashMap<Digest, Arc<Block>>,
    /// The engine's open request for this node's proposal: on which parent.
    proposing: Option<(Digest, oneshot::Sender<Sha256Digest>)>,
    /// Verdicts asked for blocks not seen yet (or whose parent is not): (parent, block).
    verifying: Vec<(Digest, Digest, oneshot::Sender<bool>)>,
    decided: Vec<Decided>,
    /// Transactions peers are waiting to anchor, by leaf hash, in the order they were
    /// shared (a DID's operations follow each other).
    mempool: IndexMap<Digest, Transaction>,
    /// The chain's DID registry and trust roots, for checking signed transactions.
    registry: Registry,
    /// Transactions left out of this node's proposals because they do not hold (each
    /// logged once).
    refused: HashSet<Digest>,
    /// Whether final blocks are being stored (one store at a time, in height order).
    storing: bool,
    stored: mpsc::UnboundedSender<Stored>,
    stored_rx: Option<mpsc::UnboundedReceiver<Stored>>,
    /// The last outbox row shared with peers.
    shared: i64,
    peers: HashMap<ValidatorKey, (Option<u64>, Instant)>,
    /// When this node last asked a peer for blocks.
    asked: Option<Instant>,
    /// Whether this node heard a quorum when it last published its status.
    had_quorum: Option<bool>,
    /// The epoch the engine runs: blocks of later epochs wait for its engine.
    entered: u64,
    /// Where this node's API answers, once known (told to peers).
    public_url: watch::Receiver<Option<String>>,
    /// Where each peer's API answers, as it says.
    public_urls: HashMap<ValidatorKey, String>,
    outgoing: mpsc::UnboundedSender<Command>,
    status: watch::Sender<Status>,
}

impl Node {
    pub async fn new(
        ledger: Arc<Ledger>,
        me: ValidatorKey,
        outgoing: mpsc::UnboundedSender<Command>,
        status: watch::Sender<Status>,
        public_url: watch::Receiver<Option<String>>,
    ) -> anyhow::Result<Self> {
        let head = ledger.head().await?;
        let mut registry = Registry::new(ledger.genesis(), ledger.epochs());
        registry
            .replay(&ledger.sealed(Kind::DidOperation).await?)
            .context("a stored DID operation does not replay")?;
        let (stored, stored_rx) = mpsc::unbounded_channel();
        let ledger_epoch = registry.epochs().current().number;
        let mut node = Self {
            ledger,
            me,
            head,
            unfinal: HashMap::new(),
            proposing: None,
            verifying: Vec::new(),
            decided: Vec::new(),
            mempool: IndexMap::new(),
            registry,
            refused: HashSet::new(),
            storing: false,
            stored,
            stored_rx: Some(stored_rx),
            shared: 0,
            peers: HashMap::new(),
            asked: None,
            had_quorum: None,
            entered: ledger_epoch,
            public_url,
            public_urls: HashMap::new(),
            outgoing,
            status,
        };
        node.publish_status();
        Ok(node)
    }

    /// Runs until the engine stops.
    pub async fn run(mut self, mut events: mpsc::UnboundedReceiver<Event>) {
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut ticks: u64 = 0;
        let Some(mut stored) = self.stored_rx.take() else {
            return;
        };
        loop {
            tokio::select! {
                event = events.recv() => match event {
                    Some(event) => self.handle(event).await,
                    None => return,
                },
                Some(done) = stored.recv() => self.finish_store(done).await,
                _ = tick.tick() => {
                    ticks += 1;
                    self.tick(ticks).await;
                }
            }
        }
    }

    async fn handle(&mut self, event: Event) {
        match event {
            Event::Propose { parent, respond } => {
                self.proposing = Some((parent, respond));
                self.propose().await;
            }
            Event::Verify {
                parent,
                payload,
                respond,
            } => {
                self.verifying.push((parent, payload, respond));
                self.settle_verdicts();
            }
            Event::Broadcast { payload, to } => {
                if let Some(block) = self.unfinal.get(&payload) {
                    self.send(BLOCKS, to, wire::encode(block.as_ref()));
                }
            }
            Event::Finalized {
                payload,
                finality,
                votes,
            } => {
                self.decided.push(Decided {
                    payload,
                    finality,
                    votes,
                });
                self.apply_decided().await;
            }
            Event::Message {
                channel,
                from,
                bytes,
            } => {
                self.peers.entry(from).or_insert((None, Instant::now())).1 = Instant::now();
                self.receive(channel, from, &bytes).await;
            }
        }
    }

    async fn receive(&mut self, channel: u64, from: ValidatorKey, bytes: &[u8]) {
        match channel {
            BLOCKS => match serde_json::from_slice::<Block>(bytes) {
                Ok(block) => {
                    if block.header.height > self.head.height && self.unfinal.len() < MAX_UNFINAL {
                        let grantors = self.registry.unresolved(&block.transactions);
                        self.registry.resolve(grantors).await;
                        self.unfinal.insert(block.header.hash(), Arc::new(block));
                        self.settle_verdicts();
                        self.apply_decided().await;
                    }
                }
                Err(e) => {
                    tracing::warn!(peer = %from.to_hex(), error = %e, "a peer sent a malformed block")
                }
            },
            MEMPOOL => match serde_json::from_slice::<Pending>(bytes) {
                Ok(pending) => {
                    for tx in pending.transactions {
                        if self.mempool.len() >= MAX_MEMPOOL {
                            break;
                        }
                        self.mempool.insert(tx.leaf_hash(), tx);
                    }
                    self.propose().await;
                }
                Err(e) => {
                    tracing::warn!(peer = %from.to_hex(), error = %e, "a peer sent malformed transactions")
                }
            },
            SYNC => match serde_json::from_slice::<Sync>(bytes) {
                Ok(Sync::Status { height, public_url }) => {
                    self.peers.entry(from).or_insert((None, Instant::now())).0 = Some(height);
                    if let Some(url) = public_url {
                        if self.public_urls.get(&from) != Some(&url) {
                            tracing::debug!(peer = %from.to_hex(), url = url.as_str(), "a peer announced its public URL");
                            self.public_urls.insert(from, url);
                            self.publish_status();
                        }
                    }
                }
                Ok(Sync::BlocksFrom { height }) => {
                    match self
                        .ledger
                        .blocks_from(height, SYNC_BLOCKS, SYNC_TRANSACTIONS)
                        .await
                    {
                        Ok(blocks) if !blocks.is_empty() => {
                            let answer = wire::encode(&Sync::Blocks { blocks });
                            self.send(SYNC, Some(vec![from]), answer);
                        }
                        Ok(_) => {}
                        Err(e) => tracing::error!(error = %e, "reading blocks for a peer failed"),
                    }
                }
                Ok(Sync::BlockOf { hash }) => {
                    if let Some(block) = self.unfinal.get(&hash) {
                        self.send(BLOCKS, Some(vec![from]), wire::encode(block.as_ref()));
                    }
                }
                Ok(Sync::Blocks { blocks }) => {
                    self.asked = None;
                    let fresh: Vec<Block> = blocks
                        .into_iter()
                        .filter(|b| b.header.height > self.head.height)
                        .collect();
                    // While a store is under way, the blocks are asked for again later.
                    if !fresh.is_empty() && !self.storing {
                        if let Err(e) = self.store_final(fresh, Some(from)).await {
                            refused_from(from, &e);
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(peer = %from.to_hex(), error = %e, "a peer sent a malformed sync message")
                }
            },
            _ => {}
        }
    }

    fn send(&self, channel: u64, to: Option<Vec<ValidatorKey>>, bytes: Vec<u8>) {
        let _ = self
            .outgoing
            .send(Command::Send(Outgoing { channel, to, bytes }));
    }

    /// Once the final chain is in a later epoch than the engine runs, the engine moves on
    /// to it (through every epoch a catch-up crossed, the latest one running).
    async fn enter_epoch(&mut self) {
        let current = self.registry.epochs().current().clone();
        if current.number <= self.entered {
            return;
        }
        match epoch_plan(&self.ledger, &current).await {
            Ok(plan) => {
                self.entered = current.number;
                tracing::info!(
                    epoch = current.number,
                    from_height = current.first_height,
                    validators = current.members.len(),
                    "the validators changed"
                );
                let _ = self.outgoing.send(Command::Enter(plan));
            }
            Err(e) => tracing::error!(error = format!("{e:#}"), "entering the next epoch failed"),
        }
    }

    /// The blocks after the head up to `tip`, in height order, if `tip` descends from the
    /// head through blocks this node holds ([`first_missing`] names the one it lacks).
    fn chain_to(&self, tip: &Digest) -> Option<Vec<Arc<Block>>> {
        let head = self.head.hash();
        let mut chain = Vec::new();
        let mut cursor = *tip;
        while cursor != head {
            let block = self.unfinal.get(&cursor)?;
            if block.header.height <= self.head.height {
                return None;
            }
            cursor = block.header.previous;
            chain.push(block.clone());
        }
        chain.reverse();
        Some(chain)
    }

    /// The header of `parent` and the transactions of the blocks between the head and it
    /// (not final yet, so not to be anchored again); `None` if it does not descend from
    /// the head through blocks this node holds.
    fn ancestry(&self, parent: &Digest) -> Option<(BlockHeader, HashSet<Digest>)> {
        let chain = self.chain_to(parent)?;
        let header = chain
            .last()
            .map_or_else(|| self.head.clone(), |b| b.header.clone());
        let excluded = chain
            .iter()
            .flat_map(|b| b.transactions.iter().map(Transaction::leaf_hash))
            .collect();
        Some((header, excluded))
    }

    /// The registry with the signed transactions of the blocks between the head and
    /// `parent` taken (they were checked before this node voted for them).
    fn view_after(&self, parent: &Digest) -> Option<View<'_>> {
        let mut view = self.registry.view();
        for block in self.chain_to(parent)? {
            if let Err(why) = view.take_block(&block) {
                tracing::warn!(height = block.header.height, why = %why, "an unfinal block does not hold");
            }
        }
        Some(view)
    }

    /// Where a block on `parent` would fall: within the engine's epoch, or after the
    /// block that ends it (`parent` itself, or an earlier one).
    fn boundary(&self, parent: &BlockHeader) -> Boundary {
        let Some(view) = self.view_after(&parent.hash()) else {
            return Boundary::Past;
        };
        if view.epoch_at(parent.height + 1).number == self.entered {
            Boundary::Within
        } else if view.epoch_at(parent.height).number == self.entered {
            Boundary::Ends
        } else {
            Boundary::Past
        }
    }

    /// Answers the engine's open proposal request once there is something to anchor.
    async fn propose(&mut self) {
        let Some((parent, respond)) = self.proposing.take() else {
            return;
        };
        if respond.is_closed() {
            return;
        }
        let Some((parent_header, excluded)) = self.ancestry(&parent) else {
            self.proposing = Some((parent, respond));
            return;
        };
        match self.boundary(&parent_header) {
            Boundary::Within => {}
            // The parent ends this epoch: it is proposed again until final in it.
            Boundary::Ends => {
                let _ = respond.send(Sha256Digest(*parent.as_bytes()));
                return;
            }
            Boundary::Past => return,
        }
        // The outbox still holds what the blocks between the head and the parent anchor.
        let limit = MAX_BLOCK_TRANSACTIONS + excluded.len() as u64;
        let mut seen = excluded;
        let mut transactions = Vec::new();
        match self.ledger.outbox_after(0, limit).await {
            Ok(rows) => {
                for (_, tx) in rows {
                    if transactions.len() as u64 >= MAX_BLOCK_TRANSACTIONS {
                        break;
                    }
                    if seen.insert(tx.leaf_hash()) {
                        transactions.push(tx);
                    }
                }
            }
            Err(e) => tracing::error!(error = %e, "reading the outbox failed"),
        }
        for (leaf, tx) in &self.mempool {
            if transactions.len() as u64 >= MAX_BLOCK_TRANSACTIONS {
                break;
            }
            if seen.insert(*leaf) {
                transactions.push(tx.clone());
            }
        }
        // Only what holds on top of the parent: a signed transaction that does not (a DID
        // operation whose predecessor is not in yet, a forged statement) is left out.
        let grantors = self.registry.unresolved(&transactions);
        self.registry.resolve(grantors).await;
        let time_ms = self.ledger.now_ms();
        let mut kept = Vec::with_capacity(transactions.len());
        let mut refused = Vec::new();
        let mut validator_set = parent_header.validator_set;
        if let Some(mut view) = self.view_after(&parent) {
            validator_set = view.epoch_at(parent_header.height + 1).validators.hash();
            for tx in transactions {
                let at = At::Anchored {
                    height: parent_header.height + 1,
                    position: kept.len() as u64,
                    time_ms,
                };
                match view.take(&tx, at) {
                    Ok(()) => kept.push(tx),
                    Err(why) => refused.push((tx.leaf_hash(), why)),
                }
            }
        }
        for (leaf, why) in refused {
            if self.refused.insert(leaf) {
                tracing::warn!(why = %why, "left a transaction out of this node's block: it does not hold");
            }
        }
        if kept.is_empty() {
            // Nothing to anchor: the request waits (or the view times out).
            self.proposing = Some((parent, respond));
            return;
        }
        let (block, _) = Block::propose(&parent_header, kept, time_ms, validator_set);
        let hash = block.header.hash();
        tracing::debug!(
            height = block.header.height,
            transactions = block.header.tx_count,
            "proposing a block"
        );
        self.unfinal.insert(hash, Arc::new(block));
        let _ = respond.send(Sha256Digest(*hash.as_bytes()));
    }

    /// Answers every verdict that can be given now.
    fn settle_verdicts(&mut self) {
        let open = std::mem::take(&mut self.verifying);
        for (parent, payload, respond) in open {
            if respond.is_closed() {
                continue;
            }
            match self.verdict(&parent, &payload) {
                Some(valid) => {
                    let _ = respond.send(valid);
                }
                None => self.verifying.push((parent, payload, respond)),
            }
        }
    }

    /// Whether `payload` is a valid block on `parent`; `None` while this node lacks the
    /// block or its ancestry.
    fn verdict(&self, parent: &Digest, payload: &Digest) -> Option<bool> {
        if payload == parent {
            // Only the block that ends this epoch is proposed again.
            let (header, _) = self.ancestry(parent)?;
            return Some(matches!(self.boundary(&header), Boundary::Ends));
        }
        let block = self.unfinal.get(payload)?;
        if block.header.previous != *parent {
            return Some(false);
        }
        let (parent_header, excluded) = self.ancestry(parent)?;
        let mut view = self.view_after(parent)?;
        let epoch = view.epoch_at(block.header.height);
        let checked = if epoch.number == self.entered {
            check_proposal(
                block,
                &parent_header,
                excluded,
                self.ledger.now_ms(),
                epoch.validators.hash(),
            )
            .map_err(str::to_owned)
            .and_then(|()| view.take_block(block))
        } else {
            Err(format!("it is of epoch {}, not this one", epoch.number))
        };
        match checked {
            Ok(()) => Some(true),
            Err(why) => {
                tracing::warn!(
                    height = block.header.height,
                    why = %why,
                    "refused a proposed block"
                );
                Some(false)
            }
        }
    }

    /// Stores every decided block whose chain back to the head this node holds.
    async fn apply_decided(&mut self) {
        let mut open = std::mem::take(&mut self.decided);
        open.sort_by_key(|d| d.finality.view);
        for decided in open {
            // An epoch's last block is stored before the next epoch is entered: what the
            // engine of an earlier epoch still reports is stored already.
            if decided.finality.epoch < self.entered {
                continue;
            }
            if self.storing {
                self.decided.push(decided);
                continue;
            }
            let known_height = self.unfinal.get(&decided.payload).map(|b| b.header.height);
            if self.ledger_has(&decided.payload, known_height) {
                continue;
            }
            let Some(chain) = self.chain_to(&decided.payload) else {
                self.decided.push(decided);
                continue;
            };
            let top = chain.last().map_or(0, |b| b.header.height);
            let finality = Finality {
                height: top,
                ..decided.finality
            };
            let blocks: Vec<Block> = chain
                .into_iter()
                .map(|b| Block {
                    finality: Some(finality),
                    signatures: decided.votes.clone(),
                    ..b.as_ref().clone()
                })
                .collect();
            if let Err(e) = self.store_final(blocks, None).await {
                tracing::error!(error = format!("{e:#}"), "a decided block does not hold");
            }
        }
    }

    /// Starts storing final blocks (decided here, or sent by peer `from`) once their
    /// signed transactions hold; [`Node::finish_store`] applies them when stored.
    async fn store_final(
        &mut self,
        blocks: Vec<Block>,
        from: Option<ValidatorKey>,
    ) -> anyhow::Result<()> {
        let grantors = self
            .registry
            .unresolved(blocks.iter().flat_map(|b| &b.transactions));
        self.registry.resolve(grantors).await;
        let mut view = self.registry.view();
        for block in &blocks {
            view.take_block(block)
                .map_err(|why| anyhow::anyhow!("block {}: {why}", block.header.height))?;
        }
        self.storing = true;
        let ledger = self.ledger.clone();
        let stored = self.stored.clone();
        tokio::spawn(async move {
            let result = ledger.append_final(&blocks).await;
            let _ = stored.send(Stored {
                result,
                blocks,
                from,
            });
        });
        Ok(())
    }

    /// Final blocks were stored (or refused): the registry and the head follow, and the
    /// next decided blocks can be stored.
    async fn finish_store(&mut self, done: Stored) {
        self.storing = false;
        match done.result {
            Ok(head) => {
                // Blocks whose finality is not proven yet wait: keep what was stored.
                let mut stored = self.registry.view();
                for block in done
                    .blocks
                    .iter()
                    .filter(|b| b.header.height <= head.height)
                {
                    if let Err(why) = stored.take_block(block) {
                        tracing::error!(height = block.header.height, why = %why, "a stored block does not hold");
                    }
                }
                let changed = stored.into_changes();
                self.registry.commit(changed);
                self.advance(head, &done.blocks);
                self.enter_epoch().await;
            }
            Err(e) => match done.from {
                Some(from) => refused_from(from, &e),
                None => tracing::error!(error = format!("{e:#}"), "a decided block does not hold"),
            },
        }
        self.apply_decided().await;
    }

    /// Whether the block `payload` (at `height`, when known) is stored already.
    fn ledger_has(&self, payload: &Digest, height: Option<u64>) -> bool {
        *payload == self.head.hash() || height.is_some_and(|h| h <= self.head.height)
    }

    /// The head moved to `head` with `stored`: forget what is final now.
    fn advance(&mut self, head: BlockHeader, stored: &[Block]) {
        if head.height <= self.head.height {
            return;
        }
        let anchored: HashSet<Digest> = stored
            .iter()
            .filter(|b| b.header.height <= head.height)
            .flat_map(|b| b.transactions.iter().map(Transaction::leaf_hash))
            .collect();
        self.mempool.retain(|leaf, _| !anchored.contains(leaf));
        self.unfinal.retain(|_, b| b.header.height > head.height);
        tracing::debug!(height = head.height, "a block is final");
        self.head = head;
    }

    async fn tick(&mut self, ticks: u64) {
        self.propose().await;
        self.settle_verdicts();
        if ticks.is_multiple_of(2) {
            self.share_outbox().await;
        }
        if ticks.is_multiple_of(10) {
            if let Err(e) = self.ledger.checkpoint_audit().await {
                tracing::error!(error = %e, "chaining the audit log failed");
            }
            let status = wire::encode(&Sync::Status {
                height: self.head.height,
                public_url: self.public_url.borrow().clone(),
            });
            self.send(SYNC, None, status);
            self.publish_status();
            self.ask_for_missing();
        }
        self.catch_up();
    }

    /// Asks every peer, once a second, for the proposed blocks this node must vote on but
    /// lacks, or lacks the ancestry of. The engine broadcasts a proposal once: a member
    /// whose link was down at that moment (a partition healing) would otherwise never
    /// vote on it or on anything built on it, and once its vote is needed for a quorum
    /// the chain stalls.
    fn ask_for_missing(&self) {
        let missing: HashSet<Digest> = self
            .verifying
            .iter()
            .filter_map(|(parent, payload, _)| {
                first_missing(&self.unfinal, &self.head, payload)
                    .or_else(|| first_missing(&self.unfinal, &self.head, parent))
            })
            .collect();
        for hash in missing {
            tracing::debug!(block = %hash.to_hex(), "asking peers for a proposed block");
            self.send(SYNC, None, wire::encode(&Sync::BlockOf { hash }));
        }
    }

    /// Sends peers the transactions added to the outbox since the last time.
    async fn share_outbox(&mut self) {
        match self
            .ledger
            .outbox_after(self.shared, MAX_BLOCK_TRANSACTIONS)
            .await
        {
            Ok(rows) if !rows.is_empty() => {
                self.shared = rows.last().map_or(self.shared, |(id, _)| *id);
                let transactions = rows.into_iter().map(|(_, tx)| tx).collect();
                self.send(MEMPOOL, None, wire::encode(&Pending { transactions }));
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "reading the outbox failed"),
        }
    }

    /// Asks a peer that is ahead (or any, while a decided block is missing) for blocks.
    fn catch_up(&mut self) {
        if self
            .asked
            .is_some_and(|at| at.elapsed() < Duration::from_secs(2))
        {
            return;
        }
        let ahead = self
            .peers
            .iter()
            .filter(|(_, (height, seen))| {
                seen.elapsed() < CONNECTED && height.is_some_and(|h| h > self.head.height)
            })
            .max_by_key(|(_, (height, _))| *height)
            .map(|(key, _)| *key);
        let Some(peer) = ahead else { return };
        self.asked = Some(Instant::now());
        let request = wire::encode(&Sync::BlocksFrom {
            height: self.head.height + 1,
        });
        self.send(SYNC, Some(vec![peer]), request);
    }

    fn publish_status(&mut self) {
        let epoch = self.registry.epochs().current();
        let peers = epoch
            .members
            .iter()
            .map(|member| {
                let this_node = member.validator == self.me;
                let (height, connected) = if this_node {
                    (Some(self.head.height), true)
                } else {
                    self.peers
                        .get(&member.validator)
                        .map_or((None, false), |(height, seen)| {
                            (*height, seen.elapsed() < CONNECTED)
                        })
                };
                let public_url = if this_node {
                    self.public_url.borrow().clone()
                } else {
                    self.public_urls.get(&member.validator).cloned()
                };
                Peer {
                    name: member.name.clone(),
                    key: member.validator,
                    address: member.address.clone(),
                    public_url,
                    height,
                    connected,
                    this_node,
                }
            })
            .collect();
        let status = Status {
            height: self.head.height,
            quorum: epoch.validators.quorum(),
            peers,
        };
        let has_quorum = status.has_quorum();
        self.status.send_replace(status);
        if self.had_quorum != Some(has_quorum) {
            self.had_quorum = Some(has_quorum);
            tracing::debug!(has_quorum, "quorum changed");
        }
    }
}

/// Where a block falls relative to the end of the engine's epoch.
enum Boundary {
    /// In the epoch.
    Within,
    /// Right after the block that ends it: that block is proposed again instead.
    Ends,
    /// Later: no block is built there in this epoch.
    Past,
}

/// `epoch` as the engine runs it: its validators' peer addresses and the block before its
/// first.
pub async fn epoch_plan(ledger: &Ledger, epoch: &Epoch) -> anyhow::Result<EpochPlan> {
    let floor = match epoch.first_height {
        0 | 1 => ledger.genesis().header.hash(),
        first => ledger
            .block(first - 1)
            .await?
            .with_context(|| format!("block {} is not stored", first - 1))?
            .header
            .hash(),
    };
    let mut validators = Vec::with_capacity(epoch.members.len());
    for member in &epoch.members {
        match super::resolve(&member.address) {
            Ok(address) => validators.push((member.validator, address)),
            Err(e) => tracing::warn!(
                member = member.name.as_str(),
                error = format!("{e:#}"),
                "a validator's peer address does not resolve"
            ),
        }
    }
    Ok(EpochPlan {
        number: epoch.number,
        validators,
        floor,
    })
}

/// Logs why blocks peer `from` sent were refused.
fn refused_from(from: ValidatorKey, error: &anyhow::Error) {
    tracing::warn!(
        peer = %from.to_hex(),
        error = format!("{error:#}"),
        "refused blocks from a peer"
    );
}

/// What a validator checks of a proposed block before voting for it: it follows `parent`
/// (link, height, time, root, count, validator set), is unsigned (votes come later), is
/// not timed ahead of this node's clock by more than the allowed skew, and anchors no
/// transaction twice — within itself or again after an ancestor not final yet
/// (`excluded`). Each transaction decoded when the block was parsed.
fn check_proposal(
    block: &Block,
    parent: &BlockHeader,
    mut excluded: HashSet<Digest>,
    now_ms: i64,
    validator_set: Digest,
) -> Result<(), &'static str> {
    block
        .verify_contents(parent, validator_set)
        .map_err(|_| "it does not follow its parent (link, time, root or validator set)")?;
    if !block.signatures.is_empty() || block.finality.is_some() {
        return Err("a proposal carries no votes");
    }
    if block.header.time_ms > now_ms + MAX_CLOCK_SKEW_MS {
        return Err("it is timed ahead of this node's clock");
    }
    if block.header.tx_count > MAX_BLOCK_TRANSACTIONS {
        return Err("it holds too many transactions");
    }
    if !block
        .transactions
        .iter()
        .all(|tx| excluded.insert(tx.leaf_hash()))
    {
        return Err("it anchors a transaction twice");
    }
    Ok(())
}

/// Going back from `tip` towards `head`, the first block `unfinal` lacks; `None` when
/// every block down to the head is held (or the way back passes below the head: that
/// ancestry is not this node's to complete).
fn first_missing(
    unfinal: &HashMap<Digest, Arc<Block>>,
    head: &BlockHeader,
    tip: &Digest,
) -> Option<Digest> {
    let head_hash = head.hash();
    let mut cursor = *tip;
    while cursor != head_hash {
        let block = match unfinal.get(&cursor) {
            None => return Some(cursor),
            Some(block) => block,
        };
        if block.header.height <= head.height {
            return None;
        }
        cursor = block.header.previous;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::block::{ChainId, Genesis, Member};
    use crate::ledger::transaction::credential_commitment;

    fn parent() -> BlockHeader {
        let key = ed25519_dalek::SigningKey::from_bytes(&[3; 32]);
        let members = vec![Member {
            name: "a".into(),
            validator: ValidatorKey(key.verifying_key()),
            address: "127.0.0.1:1".into(),
        }];
        Genesis::consortium(ChainId::parse("c").expect("id"), members, None, 1_000)
            .expect("genesis")
            .header
    }

    fn anchor(n: u8) -> Transaction {
        Transaction::CredentialAnchor {
            commitment: credential_commitment(&[n]),
        }
    }

    /// A proposal whose parent never arrived is asked for by its parent's hash, one
    /// whose ancestry is complete by nothing.
    #[test]
    fn the_block_asked_for_is_the_first_one_missing_on_the_way_back_to_the_head() {
        let head = parent();
        let set = head.validator_set;
        let (first, _) = Block::propose(&head, vec![anchor(1)], 2_000, set);
        let (second, _) = Block::propose(&first.header, vec![anchor(2)], 3_000, set);
        let (first_hash, second_hash) = (first.header.hash(), second.header.hash());
        let mut unfinal = HashMap::new();
        unfinal.insert(second_hash, Arc::new(second));
        assert_eq!(
            first_missing(&unfinal, &head, &second_hash),
            Some(first_hash),
            "the parent of the proposal is missing"
        );
        unfinal.insert(first_hash, Arc::new(first));
        assert_eq!(first_missing(&unfinal, &head, &second_hash), None);
        assert_eq!(first_missing(&unfinal, &head, &head.hash()), None);
        let unknown = credential_commitment(b"never proposed");
        assert_eq!(first_missing(&unfinal, &head, &unknown), Some(unknown));
    }

    #[test]
    fn a_proposal_is_voted_for_only_when_every_check_holds() {
        let parent = parent();
        let set = parent.validator_set;
        let (good, _) = Block::propose(&parent, vec![anchor(1), anchor(2)], 2_000, set);
        let check = |b: &Block| check_proposal(b, &parent, HashSet::new(), 2_000, set);
        assert_eq!(check(&good), Ok(()));

        let mut b = good.clone();
        b.transactions[1] = anchor(3);
        assert!(check(&b).is_err(), "root");
        let mut b = good.clone();
        b.header.previous = Digest::ZERO;
        assert!(check(&b).is_err(), "link");
        let mut b = good.clone();
        b.header.validator_set = Digest::ZERO;
        assert!(check(&b).is_err(), "validator set");
        let mut b = good.clone();
        b.finality = Some(Finality {
            epoch: 0,
            view: 1,
            parent: 0,
            height: 1,
        });
        assert!(check(&b).is_err(), "votes");
        let (ahead, _) =
            Block::propose(&parent, vec![anchor(1)], 2_000 + MAX_CLOCK_SKEW_MS + 1, set);
        assert!(check(&ahead).is_err(), "clock");
        let (twice, _) = Block::propose(&parent, vec![anchor(1), anchor(1)], 2_000, set);
        assert!(check(&twice).is_err(), "twice in the block");
        let earlier = HashSet::from([anchor(2).leaf_hash()]);
        assert!(
            check_proposal(&good, &parent, earlier, 2_000, set).is_err(),
            "already in an ancestor"
        );
    }
}
