/**
 * Writes policy/policy.schema.json from the zod policy schema, so that editors validate and
 * complete policy files. Run with `npx tsx scripts/gen-policy-schema.ts`; a test fails when
 * the committed file differs from what this script would write.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderPolicyJsonSchema } from '../functions/core/policy/load';

const target = join(__dirname, '..', 'policy', 'policy.schema.json');
writeFileSync(target, renderPolicyJsonSchema());
process.stdout.write(`wrote ${target}\n`);
