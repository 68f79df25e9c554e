// The KYC story (e2e/lib/kyc-story.mjs) across a consortium of four nodes: banks A, B and
// C each on its own node, and the regulator on the fourth. Bank B's node verifies A's
// credential from the shared chain (status from A's node, checked against the anchored
// hash), puts its reliance record on the chain, where A's node counts it and the
// regulator's node reads it, and tells B's webhook of A's revocation on its own.
import { startConsortium } from '../lib/server.mjs';
import { kycStory, bankSetup } from '../lib/kyc-story.mjs';

kycStory('consortium', async () => {
  const consortium = await startConsortium({
    members: 4,
    setup: [bankSetup(['a']), bankSetup(['b']), bankSetup(['c'])],
  });
  const [a, b, c, regulator] = consortium.nodes;
  return { sites: { a: a.base, b: b.base, c: c.base }, regulator, stop: () => consortium.stop() };
});
