// The KYC story (e2e/lib/kyc-story.mjs) with banks A, B and C as three tenants of one
// deployment.
import { startServer } from '../lib/server.mjs';
import { kycStory, bankSetup } from '../lib/kyc-story.mjs';

kycStory('tenants', async () => {
  const server = await startServer({ setup: bankSetup(['a', 'b', 'c']) });
  const sites = { a: server.base, b: server.base, c: server.base };
  return { sites, regulator: server, stop: () => server.stop() };
});
