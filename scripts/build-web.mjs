// `npm ci`'s prepare step: builds the web app (web/) into web/dist, which the gateway serves at /.
// A production install (npm ci --omit=dev) has no Vite and a Docker stage before the sources are
// copied has no web/: both skip, saying so; anywhere else a failed build fails the install.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const vite = 'node_modules/vite/bin/vite.js';
if (!existsSync('web/index.html')) console.log('build-web: no web/ here, nothing to build');
else if (!existsSync(vite)) console.log('build-web: Vite is not installed (a production install?): web/dist not built');
else {
  const started = Date.now();
  const run = spawnSync(process.execPath, [vite, 'build', 'web', '--logLevel', 'warn'], { stdio: 'inherit' });
  if (run.status !== 0) process.exit(run.status ?? 1);
  console.log(`build-web: web/dist built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
