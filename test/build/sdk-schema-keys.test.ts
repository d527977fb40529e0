/**
 * scripts/sdk-schema-keys.cjs rewrites the computed keys of the SDK's schema modules as literal
 * keys so that esbuild can drop the shapes a bundle never uses. These tests hold it to its two
 * promises: the rewritten modules export exactly what the originals do, and the rewrite is what
 * lets an EC2 bundle shed the shapes of the operations it does not call.
 */
import { build, type Plugin } from 'esbuild';
import { join } from 'node:path';
import { ROOT } from '../helpers/build';

// The plugin is plain CommonJS, shared with scripts/build.mjs.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { literalSchemaKeys, sdkSchemaKeys, SCHEMA_MODULE } = require('../../scripts/sdk-schema-keys.cjs') as {
  literalSchemaKeys: (source: string) => { contents: string; rewritten: number; unresolved: number };
  sdkSchemaKeys: Plugin;
  SCHEMA_MODULE: RegExp;
};

/** Bundles `source` for Node as CommonJS (not minified) and returns its exports. */
async function load(source: string, plugins: Plugin[], treeShaking = false): Promise<{ exports: Record<string, unknown>; bytes: number }> {
  const result = await build({
    stdin: { contents: source, resolveDir: ROOT, loader: 'js' },
    absWorkingDir: ROOT,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    mainFields: ['module', 'main'],
    treeShaking,
    minify: treeShaking,
    write: false,
    logLevel: 'error',
    plugins,
  });
  const code = result.outputFiles[0].text;
  const module = { exports: {} as Record<string, unknown> };
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  new Function('module', 'exports', 'require', code)(module, module.exports, require);
  return { exports: module.exports, bytes: code.length };
}

/**
 * Structural equality of two schema graphs. Shapes refer to each other through thunks
 * (`() => OtherShape$`), so a function is compared by what it returns; pairs already being
 * compared are assumed equal (the graphs are cyclic).
 */
function sameSchema(a: unknown, b: unknown, path: string, seen = new Set<unknown>()): string | undefined {
  if (typeof a === 'function' && typeof b === 'function') {
    if (a.length > 0 || b.length > 0 || /^class\b/.test(Function.prototype.toString.call(a))) {
      return a.name === b.name ? undefined : `${path}: function ${a.name} vs ${b.name}`;
    }
    if (seen.has(a)) return undefined;
    seen.add(a);
    return sameSchema((a as () => unknown)(), (b as () => unknown)(), `${path}()`, seen);
  }
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) {
    return Object.is(a, b) ? undefined : `${path}: ${String(a)} vs ${String(b)}`;
  }
  if (seen.has(a)) return undefined;
  seen.add(a);
  if (Array.isArray(a) !== Array.isArray(b)) return `${path}: array vs object`;
  const keysA = Object.keys(a);
  const keysB = Object.keys(b);
  if (keysA.join('\u0000') !== keysB.join('\u0000')) return `${path}: keys [${keysA.join(',')}] vs [${keysB.join(',')}]`;
  for (const key of keysA) {
    const diff = sameSchema((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], `${path}.${key}`, seen);
    if (diff) return diff;
  }
  return undefined;
}

describe('literalSchemaKeys', () => {
  it('rewrites a computed key that names a string constant of the module as that literal key', () => {
    const source = ['const _xN = "xmlName";', 'const _eQN = "ec2QueryName";', 'export var A$ = [3, "ns", "A", 0, [{ [_xN]: 1, [_eQN]: `Max` }]];'].join('\n');
    const { contents, rewritten, unresolved } = literalSchemaKeys(source);
    expect({ rewritten, unresolved }).toEqual({ rewritten: 2, unresolved: 0 });
    expect(contents).toContain('export var A$ = [3, "ns", "A", 0, [{ "xmlName": 1, "ec2QueryName": `Max` }]];');
  });

  it('leaves a computed key alone when it names no string constant of the module', () => {
    const source = ['const _n = 5;', 'import { _imported } from "./x";', 'export var A$ = [{ [_n]: 1, [_imported]: 2 }];'].join('\n');
    const { contents, rewritten, unresolved } = literalSchemaKeys(source);
    expect({ rewritten, unresolved }).toEqual({ rewritten: 0, unresolved: 2 });
    expect(contents).toBe(source);
  });

  it('keeps escapes in the constant exactly as written', () => {
    const { contents } = literalSchemaKeys('const _q = "a\\"b";\nexport var A = { [_q]: 1 };');
    expect(contents).toContain('{ "a\\"b": 1 }');
  });

  it('applies to the schema modules of the SDK clients, and only to them', () => {
    expect(SCHEMA_MODULE.test(join(ROOT, 'node_modules/@aws-sdk/client-ec2/dist-es/schemas/schemas_0.js'))).toBe(true);
    expect(SCHEMA_MODULE.test(join(ROOT, 'node_modules/@aws-sdk/nested-clients/dist-es/submodules/sts/schemas/schemas_0.js'))).toBe(true);
    expect(SCHEMA_MODULE.test(join(ROOT, 'node_modules/@aws-sdk/client-ec2/dist-es/commands/DescribeInstancesCommand.js'))).toBe(false);
    expect(SCHEMA_MODULE.test(join(ROOT, 'functions/core/schemas/schemas_0.js'))).toBe(false);
  });
});

describe('the sdk-schema-keys plugin', () => {
  const CLIENTS = [
    'client-ec2',
    'client-ssm',
    'client-sns',
    'client-dynamodb',
    'client-cloudformation',
    'client-auto-scaling',
    'client-elastic-load-balancing-v2',
    'client-cloudtrail',
    'client-config-service',
    'client-organizations',
    'client-lambda',
    'client-codedeploy',
  ];

  it.each(CLIENTS)('leaves every shape of @aws-sdk/%s exactly as it was', async (client) => {
    const source = `module.exports = require('@aws-sdk/${client}/dist-es/schemas/schemas_0.js');`;
    const [original, rewritten] = await Promise.all([load(source, []), load(source, [sdkSchemaKeys])]);
    const names = Object.keys(original.exports).sort();
    expect(Object.keys(rewritten.exports).sort()).toEqual(names);
    expect(names.length).toBeGreaterThan(10);
    const diffs = names.map((name) => sameSchema(original.exports[name], rewritten.exports[name], name)).filter((d) => d !== undefined);
    expect(diffs).toEqual([]);
  }, 60_000);

  it('lets a bundle that calls one EC2 operation drop the shapes of all the others', async () => {
    const source = "import { EC2Client, DescribeInstancesCommand } from '@aws-sdk/client-ec2'; export { EC2Client, DescribeInstancesCommand };";
    const [without, withPlugin] = await Promise.all([load(source, [], true), load(source, [sdkSchemaKeys], true)]);
    // Without the plugin every EC2 shape stays (over half a megabyte minified); with it, only
    // DescribeInstances' own shapes do.
    expect(without.bytes - withPlugin.bytes).toBeGreaterThan(400 * 1024);
    expect(typeof withPlugin.exports.EC2Client).toBe('function');
  }, 60_000);
});
