/**
 * Every function's artifact + Handler in template.yaml resolves to a built bundle that exports
 * the handler, so `sam build && sam deploy` ships what the tests checked: `sam build` runs the
 * Makefile target of each function (Metadata BuildMethod makefile), which copies the bundle
 * folder scripts/build.mjs wrote. The bundles are built once when one is missing from dist/.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { artifactFolder, resourcesOfType, ROOT, template } from './templates';

const BUILD_SCRIPT = join(ROOT, 'scripts/build.mjs');
const canBuild = existsSync(BUILD_SCRIPT);
if (!canBuild) console.warn('scripts/build.mjs does not exist yet: the artifact tests are SKIPPED.');

const main = template('template.yaml');
const globals = (main.Globals?.Function ?? {}) as { Handler?: string; Environment?: { Variables?: Record<string, unknown> } };
const functions = resourcesOfType(main, 'AWS::Serverless::Function').map(([id, fn]) => ({
  id,
  codeUri: artifactFolder(id, fn),
  buildMethod: (fn as { Metadata?: { BuildMethod?: string } }).Metadata?.BuildMethod,
  handler: String(fn.Properties?.Handler ?? globals.Handler ?? ''),
}));

/** Placeholder values for every environment variable the template sets, as a deployed function would see them. */
const deployedEnv: Record<string, string> = {
  PATH: process.env.PATH ?? '',
  AWS_REGION: 'eu-west-1',
  ...Object.fromEntries(Object.keys(globals.Environment?.Variables ?? {}).map((k) => [k, `placeholder-${k.toLowerCase()}`])),
};

(canBuild ? describe : describe.skip)('built artifacts', () => {
  beforeAll(() => {
    const missing = functions.some((fn) => !existsSync(join(ROOT, fn.codeUri, `${fn.handler.split('.')[0]}.js`)));
    if (missing) {
      execFileSync(process.execPath, [BUILD_SCRIPT], { cwd: ROOT, stdio: 'pipe' });
    }
  }, 180_000);

  it('builds every function with the Makefile, from a bundle folder, with index.handler', () => {
    expect(functions.length).toBeGreaterThan(0);
    for (const fn of functions) {
      expect({ id: fn.id, buildMethod: fn.buildMethod, codeUri: fn.codeUri, handler: fn.handler }).toEqual({
        id: fn.id,
        buildMethod: 'makefile',
        codeUri: expect.stringMatching(/^dist\/functions\/[a-z-]+\/$/),
        handler: 'index.handler',
      });
    }
  });

  it.each(functions.map((f) => [f.id, f] as const))('%s: the bundle exists and exports the handler', (_id, fn) => {
    const [file, exportName] = fn.handler.split('.');
    const bundle = join(ROOT, fn.codeUri, `${file}.js`);
    expect({ bundle, exists: existsSync(bundle) }).toEqual({ bundle, exists: true });
    // Loaded in a child process with the deployed environment: loading must not throw, and the
    // handler must be a function.
    const probe = spawnSync(
      process.execPath,
      ['-e', `const m = require(${JSON.stringify(bundle)}); process.stdout.write(typeof m[${JSON.stringify(exportName)}]);`],
      { env: deployedEnv, encoding: 'utf8', timeout: 20_000 },
    );
    expect({ bundle, stderr: probe.status === 0 ? '' : probe.stderr, type: probe.stdout }).toEqual({ bundle, stderr: '', type: 'function' });
  });
});
