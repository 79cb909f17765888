// Bundles the extension. Two files: dist/extension.js is what VS Code loads to activate (it only
// registers commands), dist/main.js is everything else, loaded right after activation, so the ~0.4 MB
// of kubeconfig, MSAL and view code is never parsed on the activation path.
// `--production` minifies; otherwise sourcemaps are kept.
import * as esbuild from 'esbuild';
import { writeFileSync, mkdirSync } from 'node:fs';

const production = process.argv.includes('--production');

/** extension.ts requires './vscode/main' at run time: point that at the second bundle instead of inlining it. */
const mainAsSeparateBundle = {
  name: 'main-as-separate-bundle',
  setup(build) {
    build.onResolve({ filter: /^\.\/vscode\/main$/ }, () => ({ path: './main.js', external: true }));
  },
};

const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['vscode'],
  minify: production,
  sourcemap: !production,
  metafile: true,
  logLevel: 'warning',
};

const [activation, main] = await Promise.all([
  esbuild.build({ ...common, entryPoints: ['src/extension.ts'], outfile: 'dist/extension.js', plugins: [mainAsSeparateBundle] }),
  esbuild.build({ ...common, entryPoints: ['src/vscode/main.ts'], outfile: 'dist/main.js' }),
]);

mkdirSync('dist', { recursive: true });
const metafile = {
  inputs: { ...activation.metafile.inputs, ...main.metafile.inputs },
  outputs: { ...activation.metafile.outputs, ...main.metafile.outputs },
};
writeFileSync('dist/meta.json', JSON.stringify(metafile));
