/**
 * An esbuild plugin that lets the AWS SDK's schema modules tree-shake.
 *
 * Why: since the SDK moved to schema-based serialization, each client keeps every operation's
 * shapes in one generated module (`dist-es/schemas/schemas_0.js`). Each shape is a plain
 * `export var X$ = [...]`, which esbuild can drop when nothing uses it, except that the
 * shapes' member traits are written with computed keys: `{ [_xN]: _II }`, where `_xN` is a
 * module constant holding "xmlName". esbuild cannot prove that a computed key has no side
 * effect (converting a key to a string may run code), so it keeps every shape that has one.
 * For EC2, whose query protocol puts an xmlName trait on nearly every member, that is the
 * whole module: about 540 KiB of minified code in every bundle that builds an EC2Client,
 * whichever operations it calls.
 *
 * What: on load, each computed key `[_name]:` whose `_name` is a top-level
 * `const _name = "literal";` of the same module is rewritten as the literal key `"literal":`.
 * The object is the same (same keys, same values, same order); only esbuild's view of it
 * changes. Keys that do not resolve to such a constant are left as they are, so a future
 * change of the generated format makes the plugin do less, never something else.
 * test/build/sdk-schema-keys.test.ts checks that the rewritten modules export exactly what
 * the originals do.
 */
'use strict';
const { readFile } = require('node:fs/promises');

/** The generated schema modules of every AWS SDK client (and the nested clients). */
const SCHEMA_MODULE = /[\\/]@aws-sdk[\\/][^\\/]+[\\/]dist-es[\\/](?:.*[\\/])?schemas[\\/]schemas_\d+\.js$/;

/** `const _xN = "xmlName";`: a module constant holding a string literal, one a line. */
const STRING_CONSTANT = /^const (_\w+) = ("(?:[^"\\\n]|\\.)*");$/gm;

/** `[_xN]:`: a computed object key naming one identifier. */
const COMPUTED_KEY = /\[(_\w+)\]:/g;

/**
 * Rewrites the computed keys of one schema module as literal keys.
 * @param {string} source the module's text
 * @returns {{ contents: string, rewritten: number, unresolved: number }}
 */
function literalSchemaKeys(source) {
  const constants = new Map();
  for (const match of source.matchAll(STRING_CONSTANT)) constants.set(match[1], match[2]);
  let rewritten = 0;
  let unresolved = 0;
  const contents = source.replace(COMPUTED_KEY, (whole, name) => {
    const literal = constants.get(name);
    if (literal === undefined) {
      unresolved += 1;
      return whole;
    }
    rewritten += 1;
    return `${literal}:`;
  });
  return { contents, rewritten, unresolved };
}

/** The esbuild plugin. */
const sdkSchemaKeys = {
  name: 'sdk-schema-keys',
  setup(build) {
    build.onLoad({ filter: SCHEMA_MODULE }, async (args) => {
      const { contents } = literalSchemaKeys(await readFile(args.path, 'utf8'));
      return { contents, loader: 'js' };
    });
  },
};

module.exports = { literalSchemaKeys, sdkSchemaKeys, SCHEMA_MODULE };
