//! RFC 6962 / RFC 9162 Merkle trees: the tree hash, inclusion proofs and consistency
//! proofs, and their verification (RFC 9162 §2.1.3.2 and §2.1.4.2).
//!
//! Leaves are hashed with the `0x00` prefix and inner nodes with `0x01`
//! ([`super::hash::MERKLE_LEAF`], [`super::hash::MERKLE_NODE`]), so a leaf can never be
//! presented as a subtree. Indexes and sizes are distinct types so they cannot be swapped.

use alloc::vec;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use super::hash::{Digest, MERKLE_LEAF, MERKLE_NODE};

/// The position of a leaf, counted from 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LeafIndex(pub u64);

/// The number of leaves of a tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TreeSize(pub u64);

/// Why a proof does not hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// The leaf index is not below the tree size, or the sizes are out of order.
    #[error("the proof's index or sizes are out of range")]
    OutOfRange,
    /// The proof has more or fewer hashes than a tree of this size needs.
    #[error("the proof has the wrong number of hashes")]
    WrongLength,
    /// The hashes do not lead to the expected root.
    #[error("the proof does not lead to the expected root")]
    RootMismatch,
}

/// The hash of a leaf holding `data`.
pub fn leaf_hash(data: &[u8]) -> Digest {
    Digest::of(&[MERKLE_LEAF, data])
}

/// The hash of an inner node.
pub fn node_hash(left: &Digest, right: &Digest) -> Digest {
    Digest::of(&[MERKLE_NODE, left.as_bytes(), right.as_bytes()])
}

/// The root of the empty tree: SHA-256 of the empty string.
pub fn empty_root() -> Digest {
    Digest::of(&[])
}

/// A complete tree over some leaf hashes, kept level by level for proof generation.
///
/// Invariant: `levels[0]` are the leaf hashes; `levels[i + 1]` hashes adjacent pairs of
/// `levels[i]`, carrying an unpaired last node up unchanged. For RFC 6962 trees this
/// bottom-up pairing gives the same root as the specification's recursive split at the
/// largest power of two, and the last level holds exactly the root.
#[derive(Debug, Clone)]
pub struct Tree {
    levels: Vec<Vec<Digest>>,
}

impl Tree {
    /// Builds the tree over `leaves` (already leaf-hashed).
    pub fn new(leaves: Vec<Digest>) -> Self {
        let mut levels = vec![leaves];
        while levels.last().is_some_and(|level| level.len() > 1) {
            let below = levels.last().map(Vec::as_slice).unwrap_or_default();
            let above = below
                .chunks(2)
                .filter_map(|pair| pair.iter().copied().reduce(|l, r| node_hash(&l, &r)))
                .collect();
            levels.push(above);
        }
        Self { levels }
    }

    /// The number of leaves.
    pub fn size(&self) -> TreeSize {
        TreeSize(self.levels[0].len() as u64)
    }

    /// The tree hash (RFC 6962 MTH).
    pub fn root(&self) -> Digest {
        match self.levels.last().and_then(|top| top.first()) {
            Some(root) if !self.levels[0].is_empty() => *root,
            _ => empty_root(),
        }
    }

    /// The audit path of a leaf (RFC 6962 PATH), from the leaf's sibling up.
    pub fn inclusion_proof(&self, index: LeafIndex) -> Option<Vec<Digest>> {
        let mut position = usize::try_from(index.0).ok()?;
        if position >= self.levels[0].len() {
            return None;
        }
        let mut path = Vec::with_capacity(self.levels.len());
        for level in &self.levels[..self.levels.len() - 1] {
            let sibling = position ^ 1;
            if let Some(hash) = level.get(sibling) {
                path.push(*hash);
            }
            position /= 2;
        }
        Some(path)
    }

    /// The roots of the tree's aligned chunks of [`CHUNK_LEAVES`] leaves (the last chunk
    /// may be shorter): the nodes at level [`CHUNK_LEVEL`], or the root of a tree with
    /// fewer leaves. Stored with a block, they let [`chunked_inclusion_proof`] prove a leaf
    /// from its chunk alone.
    pub fn chunk_roots(&self) -> Vec<Digest> {
        let level = CHUNK_LEVEL.min(self.levels.len() - 1);
        self.levels[level].clone()
    }

    /// The proof that the first `old` leaves form a prefix of this tree (RFC 6962 PROOF).
    pub fn consistency_proof(&self, old: TreeSize) -> Option<Vec<Digest>> {
        let old = usize::try_from(old.0).ok()?;
        let leaves = &self.levels[0];
        if old > leaves.len() {
            return None;
        }
        let mut proof = Vec::new();
        if old > 0 && old < leaves.len() {
            subproof(old, leaves, true, &mut proof);
        }
        Some(proof)
    }
}

/// The level whose nodes are stored as chunk roots: chunks of 2^8 = 256 leaves.
pub const CHUNK_LEVEL: usize = 8;
/// Leaves per chunk.
pub const CHUNK_LEAVES: usize = 1 << CHUNK_LEVEL;

/// The audit path of leaf `index` from the leaves of its chunk (`chunk_leaves`, the
/// aligned run of up to [`CHUNK_LEAVES`] leaves holding it) and the tree's
/// [`Tree::chunk_roots`]: the same path as [`Tree::inclusion_proof`] without reading the
/// other leaves. Chunks are aligned to a power of two, so the path inside a chunk is the
/// chunk tree's, and the path above it is that of the tree over the chunk roots.
pub fn chunked_inclusion_proof(
    chunk_leaves: Vec<Digest>,
    chunk_roots: Vec<Digest>,
    index: LeafIndex,
) -> Option<Vec<Digest>> {
    let within = LeafIndex(index.0 % CHUNK_LEAVES as u64);
    let chunk = LeafIndex(index.0 / CHUNK_LEAVES as u64);
    let mut path = Tree::new(chunk_leaves).inclusion_proof(within)?;
    path.extend(Tree::new(chunk_roots).inclusion_proof(chunk)?);
    Some(path)
}

/// RFC 6962 §2.1.2 SUBPROOF(m, D[n], b).
fn subproof(m: usize, leaves: &[Digest], whole: bool, proof: &mut Vec<Digest>) {
    let n = leaves.len();
    if m == n {
        if !whole {
            proof.push(subtree_root(leaves));
        }
        return;
    }
    let k = split(n);
    if m <= k {
        subproof(m, &leaves[..k], whole, proof);
        proof.push(subtree_root(&leaves[k..]));
    } else {
        subproof(m - k, &leaves[k..], false, proof);
        proof.push(subtree_root(&leaves[..k]));
    }
}

/// RFC 6962 MTH over a non-empty slice of leaf hashes.
fn subtree_root(leaves: &[Digest]) -> Digest {
    match leaves {
        [] => empty_root(),
        [single] => *single,
        _ => {
            let k = split(leaves.len());
            node_hash(&subtree_root(&leaves[..k]), &subtree_root(&leaves[k..]))
        }
    }
}

/// The largest power of two smaller than `n` (n ≥ 2).
fn split(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

/// Checks that `leaf` is at `index` in the tree of `size` leaves with root `root`
/// (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(
    leaf: &Digest,
    index: LeafIndex,
    size: TreeSize,
    path: &[Digest],
    root: &Digest,
) -> Result<(), ProofError> {
    if index.0 >= size.0 {
        return Err(ProofError::OutOfRange);
    }
    let (mut fn_, mut sn) = (index.0, size.0 - 1);
    let mut r = *leaf;
    for p in path {
        if sn == 0 {
            return Err(ProofError::WrongLength);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(ProofError::WrongLength);
    }
    if r != *root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// Checks that the tree of `old` leaves with root `old_root` is a prefix of the tree of
/// `new` leaves with root `new_root` (RFC 9162 §2.1.4.2).
pub fn verify_consistency(
    old: TreeSize,
    new: TreeSize,
    old_root: &Digest,
    new_root: &Digest,
    proof: &[Digest],
) -> Result<(), ProofError> {
    if old.0 > new.0 {
        return Err(ProofError::OutOfRange);
    }
    if old.0 == new.0 {
        if !proof.is_empty() {
            return Err(ProofError::WrongLength);
        }
        return if old_root == new_root {
            Ok(())
        } else {
            Err(ProofError::RootMismatch)
        };
    }
    if old.0 == 0 {
        // The empty tree is a prefix of every tree.
        return if proof.is_empty() {
            Ok(())
        } else {
            Err(ProofError::WrongLength)
        };
    }
    if proof.is_empty() {
        return Err(ProofError::WrongLength);
    }
    let mut path: Vec<Digest> = Vec::with_capacity(proof.len() + 1);
    if old.0.is_power_of_two() {
        path.push(*old_root);
    }
    path.extend_from_slice(proof);
    let (mut fn_, mut sn) = (old.0 - 1, new.0 - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let (mut fr, mut sr) = (path[0], path[0]);
    for c in &path[1..] {
        if sn == 0 {
            return Err(ProofError::WrongLength);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(ProofError::WrongLength);
    }
    if fr != *old_root || sr != *new_root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    //! Property tests over random trees (seeded, so a failure reproduces): every proof
    //! the tree produces verifies, and every mutation of it fails.

    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    use super::*;

    fn random_tree(rng: &mut StdRng, size: usize) -> Tree {
        Tree::new(
            (0..size)
                .map(|_| leaf_hash(&rng.gen::<[u8; 16]>()))
                .collect(),
        )
    }

    fn flip(d: &Digest, bit: usize) -> Digest {
        let mut bytes = *d.as_bytes();
        bytes[bit / 8 % 32] ^= 1 << (bit % 8);
        Digest::from_bytes(bytes)
    }

    #[test]
    fn bottom_up_roots_equal_the_recursive_definition() {
        let mut rng = StdRng::seed_from_u64(6962);
        for size in 0..300 {
            let tree = random_tree(&mut rng, size);
            assert_eq!(tree.root(), subtree_root(&tree.levels[0]), "size {size}");
        }
    }

    #[test]
    fn every_inclusion_proof_verifies_and_every_mutation_fails() {
        let mut rng = StdRng::seed_from_u64(9162);
        for size in 1..=130u64 {
            let tree = random_tree(&mut rng, size as usize);
            let root = tree.root();
            for i in 0..size {
                let index = LeafIndex(i);
                let leaf = tree.levels[0][i as usize];
                let path = tree.inclusion_proof(index).expect("in range");
                assert!(path.len() <= 64 - size.leading_zeros() as usize);
                let ok = |leaf: &Digest, index, size, path: &[Digest], root: &Digest| {
                    verify_inclusion(leaf, index, size, path, root).is_ok()
                };
                assert!(ok(&leaf, index, TreeSize(size), &path, &root));
                assert!(!ok(
                    &flip(&leaf, rng.gen()),
                    index,
                    TreeSize(size),
                    &path,
                    &root
                ));
                assert!(!ok(
                    &leaf,
                    index,
                    TreeSize(size),
                    &path,
                    &flip(&root, rng.gen())
                ));
                for k in 0..path.len() {
                    let mut bad = path.clone();
                    bad[k] = flip(&bad[k], rng.gen());
                    assert!(!ok(&leaf, index, TreeSize(size), &bad, &root));
                    let mut short = path.clone();
                    short.remove(k);
                    assert!(!ok(&leaf, index, TreeSize(size), &short, &root));
                }
                let mut long = path.clone();
                long.push(root);
                assert!(!ok(&leaf, index, TreeSize(size), &long, &root));
                if size > 1 {
                    let other = LeafIndex((i + 1 + rng.gen_range(0..size - 1)) % size);
                    assert!(!ok(&leaf, other, TreeSize(size), &path, &root));
                }
                assert!(!ok(&leaf, LeafIndex(size), TreeSize(size), &path, &root));
            }
            assert!(tree.inclusion_proof(LeafIndex(size)).is_none());
        }
    }

    #[test]
    fn chunked_proofs_equal_whole_tree_proofs() {
        let mut rng = StdRng::seed_from_u64(256);
        for size in [1usize, 2, 255, 256, 257, 511, 512, 513, 1_000, 4_097] {
            let tree = random_tree(&mut rng, size);
            let roots = tree.chunk_roots();
            assert_eq!(roots.len(), size.div_ceil(CHUNK_LEAVES), "size {size}");
            for i in (0..size).step_by(7).chain([size - 1]) {
                let start = i / CHUNK_LEAVES * CHUNK_LEAVES;
                let end = (start + CHUNK_LEAVES).min(size);
                let chunk = tree.levels[0][start..end].to_vec();
                let index = LeafIndex(i as u64);
                assert_eq!(
                    chunked_inclusion_proof(chunk, roots.clone(), index),
                    tree.inclusion_proof(index),
                    "leaf {i} of {size}"
                );
            }
        }
    }

    #[test]
    fn every_consistency_proof_verifies_and_every_mutation_fails() {
        let mut rng = StdRng::seed_from_u64(2013);
        for new in 1..=70usize {
            let tree = random_tree(&mut rng, new);
            let new_root = tree.root();
            for old in 0..=new {
                let old_root = Tree::new(tree.levels[0][..old].to_vec()).root();
                let proof = tree
                    .consistency_proof(TreeSize(old as u64))
                    .expect("in range");
                let check = |old: usize, old_root: &Digest, new_root: &Digest, proof: &[Digest]| {
                    verify_consistency(
                        TreeSize(old as u64),
                        TreeSize(new as u64),
                        old_root,
                        new_root,
                        proof,
                    )
                    .is_ok()
                };
                assert!(check(old, &old_root, &new_root, &proof), "{old} of {new}");
                if old == 0 {
                    continue;
                }
                assert!(!check(old, &flip(&old_root, rng.gen()), &new_root, &proof));
                assert!(!check(old, &old_root, &flip(&new_root, rng.gen()), &proof));
                for k in 0..proof.len() {
                    let mut bad = proof.clone();
                    bad[k] = flip(&bad[k], rng.gen());
                    assert!(
                        !check(old, &old_root, &new_root, &bad),
                        "{old} of {new} at {k}"
                    );
                    let mut short = proof.clone();
                    short.remove(k);
                    assert!(!check(old, &old_root, &new_root, &short));
                }
                if old < new {
                    let mut long = proof.clone();
                    long.push(new_root);
                    assert!(!check(old, &old_root, &new_root, &long));
                }
            }
            assert!(tree.consistency_proof(TreeSize(new as u64 + 1)).is_none());
        }
    }
}
