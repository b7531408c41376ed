// `npm run soak:check -- <DATABASE_URL>`: checks the soak's invariants on any gateway database and
// prints jobs by kind and status and each invariant; exits 1 when one fails, 2 when it cannot check.
import pg from 'pg';
import { checkInvariants, formatInvariantTable, formatJobTable, invariantsPass, jobsByKindAndStatus, unfinishedJobs } from './invariants.js';

async function main() {
  const url = process.argv[2] ?? process.env.DATABASE_URL;
  if (!url) {
    process.stderr.write('usage: npm run soak:check -- <DATABASE_URL>   (or set DATABASE_URL)\n');
    process.exit(2);
  }
  const client = new pg.Client({ connectionString: url, application_name: 'posthuman-soak' });
  await client.connect();
  try {
    const unfinished = await unfinishedJobs(client);
    if (unfinished > 0) process.stdout.write(`note: ${unfinished} job(s) are still queued or running; checking anyway\n`);
    process.stdout.write(`\njobs by kind and status\n${formatJobTable(await jobsByKindAndStatus(client))}\n`);
    const results = await checkInvariants(client);
    process.stdout.write(`\ninvariants\n${formatInvariantTable(results)}\n`);
    process.exitCode = invariantsPass(results) ? 0 : 1;
  } finally {
    await client.end();
  }
}

main().catch((err) => {
  process.stderr.write(`soak:check failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(2);
});
