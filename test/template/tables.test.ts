/**
 * The tables the template creates are the tables the code reads and writes: the same keys, the
 * same index, and TTL on the attributes the state utilities set.
 */
import { join } from 'node:path';
import { idempotencyTableDefinition, stateTableDefinition, TTL_ATTRIBUTES } from '../../functions/aws/state/tables';
import { loadCfnTemplate } from './cfn-yaml';

const template = loadCfnTemplate(join(__dirname, '..', '..', 'template.yaml'));
const properties = (logicalId: string): Record<string, unknown> => {
  const resource = template.Resources[logicalId] as { Type: string; Properties: Record<string, unknown> };
  expect(resource.Type).toBe('AWS::DynamoDB::Table');
  return resource.Properties;
};

test.each([
  ['IdempotencyTable', idempotencyTableDefinition('t'), TTL_ATTRIBUTES.idempotency],
  ['StateTable', stateTableDefinition('t'), TTL_ATTRIBUTES.state],
])('%s has the keys, index and TTL the code uses', (logicalId, definition, ttl) => {
  const p = properties(logicalId);
  expect(p.KeySchema).toEqual(definition.KeySchema);
  expect(p.AttributeDefinitions).toEqual(definition.AttributeDefinitions);
  expect(p.GlobalSecondaryIndexes ?? undefined).toEqual(definition.GlobalSecondaryIndexes);
  expect(p.TimeToLiveSpecification).toEqual({ AttributeName: ttl, Enabled: true });
  // State that must survive: point-in-time recovery and encryption at rest.
  expect(p.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
  expect(p.SSESpecification).toEqual(expect.objectContaining({ SSEEnabled: true }));
});
