/**
 * Every function's artifact + Handler in template.yaml resolves to a built bundle that exports
 * the handler, so `sam build && sam deploy` ships what the tests checked: `sam build` runs the
 * Makefile target of each function (Metadata BuildMethod makefile), which copies the bundle
 * folder scripts/build.mjs wrote. The bundles are built when missing or older than the sources.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ensureBuilt } from '../helpers/build';
import { artifactFolder, resourcesOfType, ROOT, template } from './templates';


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

describe('built artifacts', () => {
  // Through the one locked build: the integration suites may be building at the same time.
  beforeAll(() => ensureBuilt(), 180_000);

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
    // An ES module, as Lambda resolves `index.handler` to index.mjs; no index.js may shadow it.
    const bundle = join(ROOT, fn.codeUri, `${file}.mjs`);
    expect({ bundle, exists: existsSync(bundle), shadowedBy: existsSync(join(ROOT, fn.codeUri, `${file}.js`)) }).toEqual({ bundle, exists: true, shadowedBy: false });
    // Loaded in a child process with the deployed environment: loading must not throw, and the
    // handler must be a function.
    const probe = spawnSync(
      process.execPath,
      ['--input-type=module', '-e', `const m = await import(${JSON.stringify(pathToFileURL(bundle).href)}); process.stdout.write(typeof m[${JSON.stringify(exportName)}]);`],
      { env: deployedEnv, encoding: 'utf8', timeout: 20_000 },
    );
    expect({ bundle, stderr: probe.status === 0 ? '' : probe.stderr, type: probe.stdout }).toEqual({ bundle, stderr: '', type: 'function' });
  });
});
